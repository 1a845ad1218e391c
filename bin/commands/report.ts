import { createCostReport, parseDimensions } from "#app/cost-report.ts";
import { formatReport, REPORT_FORMATS, type ReportFormat } from "#domain/report-format.ts";
import { composeRuntime } from "#runtime/compose.ts";
import { type Command, parseCommandArgs, parseUtc, UsageError } from "../cli-args.ts";

const DAY_MS = 86_400_000;

export const reportCommand: Command = {
  name: "report",
  summary: "print cost per group from the hourly rollup",
  usage: `finops report [--by team,model] [--from DATE] [--to DATE] [--format table|json|csv]

  --by       dimensions to group by, comma-separated (default team,model):
             team, model, model_version, business_unit, cost_center, namespace, environment, cloud
  --from     start, inclusive, UTC (YYYY-MM-DD or ISO date-time on the hour; default 30 days ago)
  --to       end, exclusive, UTC (default the next whole hour)
  --format   table (default), json (one object per group, cost_nanos as a string) or csv`,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      by: { type: "string", default: "team,model" },
      from: { type: "string" },
      to: { type: "string" },
      format: { type: "string", default: "table" },
    });
    const format = values.format as ReportFormat;
    if (!REPORT_FORMATS.includes(format))
      throw new UsageError(`--format: one of ${REPORT_FORMATS.join(", ")}`);
    const by = parseDimensions(values.by ?? "");
    const nextHour = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000);
    const to = values.to ? parseUtc(values.to, "--to") : nextHour;
    const from = values.from ? parseUtc(values.from, "--from") : new Date(to.getTime() - 30 * DAY_MS);
    const runtime = await composeRuntime({ logLevel: "warn" });
    try {
      const rows = await createCostReport({ warehouse: runtime.warehouse })({ by, from, to });
      process.stdout.write(formatReport(rows, by, format));
      return 0;
    } finally {
      await runtime.close();
    }
  },
};
