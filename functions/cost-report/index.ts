import { http } from "@google-cloud/functions-framework";
import { createCostReportText, ReportQueryError } from "#app/cost-report.ts";
import { getRuntime } from "#runtime/runtime.ts";

/** GET ?by=team,model&from=&to=&format=json|csv|table: cost per group, as `finops report` prints it. */
http("costReport", async (req, res) => {
  const q = (name: string) => (typeof req.query[name] === "string" ? (req.query[name] as string) : undefined);
  try {
    const text = createCostReportText(await getRuntime());
    const { contentType, body } = await text({
      by: q("by"),
      from: q("from"),
      to: q("to"),
      format: q("format"),
    });
    res.status(200).type(contentType).send(body);
  } catch (error) {
    if (!(error instanceof ReportQueryError)) throw error;
    res.status(400).json({ error: error.message, field: error.field });
  }
});
