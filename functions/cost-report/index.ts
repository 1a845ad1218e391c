import { http } from "@google-cloud/functions-framework";
import { createCostReport, parseDimensions, ReportQueryError, reportWindow } from "#app/cost-report.ts";
import { formatReport, REPORT_FORMATS, type ReportFormat } from "#domain/report-format.ts";
import { getRuntime } from "#runtime/runtime.ts";

const CONTENT_TYPES = { json: "application/json", csv: "text/csv", table: "text/plain" } as const;

/** GET ?by=team,model&from=&to=&format=json|csv|table: cost per group, as `finops report` prints it. */
http("costReport", async (req, res) => {
  const q = (name: string) => (typeof req.query[name] === "string" ? (req.query[name] as string) : undefined);
  const format = (q("format") ?? "json") as ReportFormat;
  try {
    if (!REPORT_FORMATS.includes(format))
      throw new ReportQueryError("format", `one of ${REPORT_FORMATS.join(", ")}`);
    const { warehouse, clock } = await getRuntime();
    const window = reportWindow(clock.now(), q("from"), q("to"));
    const by = parseDimensions(q("by") ?? "team,model");
    const rows = await createCostReport({ warehouse })({ by, ...window });
    res
      .status(200)
      .type(CONTENT_TYPES[format])
      .send(formatReport(rows, by, format));
  } catch (error) {
    if (!(error instanceof ReportQueryError)) throw error;
    res.status(400).json({ error: error.message, field: error.field });
  }
});
