import { createCostReportText, parseDimensions, reportWindow } from "#app/cost-report.ts";
import { REPORT_FORMATS, type ReportFormat } from "#domain/report-format.ts";
import { composeRuntime } from "#runtime/compose.ts";
import { type Command, parseCommandArgs, UsageError } from "../cli-args.ts";

async function fetchReport(base: string, params: Record<string, string>) {
  const url = new URL("/costReport", base);
  url.search = new URLSearchParams(params).toString();
  const res = await fetch(url).catch((error: Error) => {
    throw new UsageError(`--url: cannot reach ${base}: ${error.message}`);
  });
  const text = await res.text();
  if (!res.ok) throw new UsageError(`--url: ${res.status} ${text}`);
  return text;
}

export const reportCommand: Command = {
  name: "report",
  summary: "print cost per group from the hourly rollup",
  usage: `finops report [--by team,model] [--from DATE] [--to DATE] [--format table|json|csv]

  --by       dimensions to group by, comma-separated (default team,model):
             team, model, model_version, business_unit, cost_center, namespace, environment, cloud
  --from     start, inclusive, UTC (YYYY-MM-DD or ISO date-time on the hour; default 30 days ago)
  --to       end, exclusive, UTC (default the next whole hour)
  --format   table (default), json (one object per group, cost_nanos as a string) or csv
  --url      ask a running local stack (e.g. http://127.0.0.1:8080), which holds the DuckDB file,
             instead of opening the file`,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      by: { type: "string", default: "team,model" },
      from: { type: "string" },
      to: { type: "string" },
      format: { type: "string", default: "table" },
      url: { type: "string" },
    });
    const format = values.format as ReportFormat;
    if (!REPORT_FORMATS.includes(format))
      throw new UsageError(`--format: one of ${REPORT_FORMATS.join(", ")}`);
    const by = parseDimensions(values.by ?? "");
    const window = reportWindow(new Date(), values.from, values.to, { from: "--from", to: "--to" });
    // Checked here first, so a usage error names the flag and opens nothing; both paths then ask alike.
    const params = { by: by.join(","), from: window.from.toISOString(), to: window.to.toISOString(), format };
    if (values.url !== undefined) {
      process.stdout.write(await fetchReport(values.url, params));
      return 0;
    }
    const runtime = await composeRuntime({ logLevel: "warn" });
    try {
      process.stdout.write((await createCostReportText(runtime)(params)).body);
      return 0;
    } finally {
      await runtime.close();
    }
  },
};
