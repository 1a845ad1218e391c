import { checkReportWindow, reportWindow } from "#app/cost-report.ts";
import { createReportText, REPORT_VIEWS, type ReportView, viewDimensions } from "#app/report-views.ts";
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
  summary: "cost by any dimension, daily trend, training jobs, inference unit costs, reconciliation",
  usage: `finops report [--view cost|trend|training|inference|reconciliation] [--by team,model]
              [--from DATE] [--to DATE] [--format table|json|csv] [--url URL]

  --view     what to show (default cost); idle, unallocated and shared are owners like any other,
             shown and counted in every total:
               cost       cost per group, by --by (default team,model)
               trend      daily cost by --by (default team): every day of the range, zero days shown
               training   training jobs: outcome, duration, GPU hours, epochs, cost and cost per epoch
               inference  by model: requests, tokens, cost, cost per 1,000 requests and per million tokens
               reconciliation
                          estimated vs reconciled vs billed and the drift, per UTC day the range touches
                          and --by (default team; or namespace, cloud), as reconcileDaily stored them
  --by       dimensions to group by, comma-separated (cost and trend):
             team, model, model_version, business_unit, cost_center, namespace, environment, cloud,
             and for cost also day (the UTC day)
  --from     start, inclusive, UTC (YYYY-MM-DD or ISO date-time on the hour; default 30 days ago)
  --to       end, exclusive, UTC (default the next whole hour)
  --format   table (default), json (one object per line, money as exact nanos in a string and as an
             exact decimal amount) or csv (the same fields)
  --url      ask a running local stack (e.g. http://127.0.0.1:8080), which holds the DuckDB file,
             instead of opening the file

  The same views are in the warehouse for BI tools: report_cost, report_trend, report_training,
  report_inference, report_reconciliation (sql/bigquery/views; filter them on hour or day).`,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      view: { type: "string", default: "cost" },
      by: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      format: { type: "string", default: "table" },
      url: { type: "string" },
    });
    const view = values.view as ReportView;
    if (!REPORT_VIEWS.includes(view)) throw new UsageError(`--view: one of ${REPORT_VIEWS.join(", ")}`);
    const format = values.format as ReportFormat;
    if (!REPORT_FORMATS.includes(format))
      throw new UsageError(`--format: one of ${REPORT_FORMATS.join(", ")}`);
    const by = viewDimensions(view, values.by);
    const window = reportWindow(new Date(), values.from, values.to, { from: "--from", to: "--to" });
    // Checked here first, so a usage error names the flag and opens nothing; both paths then ask alike.
    checkReportWindow(window);
    const params = {
      view,
      by: by.join(","),
      from: window.from.toISOString(),
      to: window.to.toISOString(),
      format,
    };
    if (values.url !== undefined) {
      process.stdout.write(await fetchReport(values.url, params));
      return 0;
    }
    const runtime = await composeRuntime({ logLevel: "warn", mustExist: true });
    try {
      process.stdout.write((await createReportText(runtime)(params)).body);
      return 0;
    } finally {
      await runtime.close();
    }
  },
};
