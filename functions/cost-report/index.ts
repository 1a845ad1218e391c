import { queryText, ReportQueryError } from "#app/cost-report.ts";
import { createReportText } from "#app/report-views.ts";
import { HttpError, httpFunction } from "#runtime/http-errors.ts";
import { getRuntime } from "#runtime/runtime.ts";

/** GET ?view=cost|trend|training|inference|reconciliation&by=&from=&to=&format=json|csv|table, as `finops report` prints it. */
httpFunction("costReport", { methods: ["GET"] }, async (req, res) => {
  try {
    const q = (name: string) => queryText(req.query, name);
    const text = createReportText(await getRuntime());
    const { contentType, body } = await text({
      view: q("view"),
      by: q("by"),
      from: q("from"),
      to: q("to"),
      format: q("format"),
    });
    res.status(200).type(contentType).send(body);
  } catch (error) {
    if (!(error instanceof ReportQueryError)) throw error;
    throw new HttpError(400, error.message, { field: error.field });
  }
});
