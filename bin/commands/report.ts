import { reportWindow } from "#app/cost-report.ts";
import {
  createReportText,
  REPORT_VIEWS,
  type ReportView,
  TREND_KEYS,
  viewDimensions,
} from "#app/report-views.ts";
import { GROUP_KEYS } from "#domain/cost-row.ts";
import { REPORT_FORMATS, type ReportFormat } from "#domain/report-format.ts";
import {
  type Command,
  FLAG_FIELDS,
  parseCommandArgs,
  rangeFlagsHelp,
  UsageError,
  urlFlagHelp,
  wrap,
} from "../cli-args.ts";
import { processOutput } from "../operation.ts";
import { commandConfig, stackToAsk, typedNow, withLocalRuntime } from "../run-operation.ts";
import { askReport } from "../stack-client.ts";

export const reportCommand: Command = {
  name: "report",
  summary: "cost by any dimension, daily trend, training jobs, inference unit costs, reconciliation",
  usage: `finops report [--view cost|trend|training|inference|reconciliation] [--by team,model]
              [--from DATE] [--to DATE] [--format table|json|csv] [--url URL]

  --view     what to show (default cost); idle, unallocated and shared are owners like any other,
             shown and counted in every total:
               cost       cost per group, by --by (default team,model)
               trend      daily cost by --by (default team): every day of the range, zero days shown;
                          hourly (every hour of the range) when --by names hour, e.g. --by hour,team
               training   training jobs: outcome, duration, GPU hours, epochs, cost and cost per epoch
               inference  by model: requests, tokens, cost, cost per 1,000 requests and per million tokens
               reconciliation
                          estimated vs reconciled vs billed and the drift, per UTC day the range touches
                          and --by (default team; or namespace, cloud), as reconcileDaily stored them
  --by       what to group by, comma-separated:
               cost       ${wrap(`${GROUP_KEYS.join(", ")} (day: the UTC day, hour: the UTC hour)`, 26)}
               trend      ${wrap(`${TREND_KEYS.join(", ")} (hour: an hourly trend instead of the daily one)`, 26)}
               reconciliation
                          one of team, namespace, cloud
${rangeFlagsHelp(13)}
  --format   table (default), json (an array of one object per row, money as exact nanos in a string
             and as an exact decimal amount) or csv (the same fields)
${urlFlagHelp(13)}

  cost and trend are live: an event counts as soon as it is stored (the hours the hourly rollup has
  not refreshed yet are read from the raw events), to the nano what the refresh will write.
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
    // Checked here first, so a usage error names the flag and opens nothing; both paths then ask
    // with the same explicit range, so they answer alike.
    const window = reportWindow(typedNow(), values.from, values.to, FLAG_FIELDS);
    const params = {
      view,
      by: by.join(","),
      from: window.from.toISOString(),
      to: window.to.toISOString(),
      format,
    };
    const { env, config } = commandConfig();
    const stack = await stackToAsk(values.url, config);
    const text =
      stack !== undefined
        ? await askReport(stack, params)
        : await withLocalRuntime(
            { env, config, mustExist: true },
            async (runtime) => (await createReportText(runtime)(params)).body,
          );
    await processOutput.out(text);
    return 0;
  },
};
