import { ReconcileDailyError } from "#app/reconcile-daily.ts";
import { addDays, isBillingDay } from "#domain/billing/billed-line.ts";
import { judgeableDays } from "#domain/reconciliation/judgeable-days.ts";
import { formatReconciliation } from "#domain/reconciliation/reconciliation-format.ts";
import { REPORT_FORMATS, type ReportFormat } from "#domain/report-format.ts";
import { composeRuntime } from "#runtime/compose.ts";
import { type Command, parseCommandArgs, UsageError } from "../cli-args.ts";

export const reconcileCommand: Command = {
  name: "reconcile",
  summary: "reconcile days of estimates against the bill and print the drift table",
  usage: `finops reconcile [--date DAY] [--window N] [--min-days N] [--format table|json|csv]

  Does by hand what reconcileDaily does every night: pulls the bill of the days from the configured
  sources (reconciliation.sources; a bill loaded with \`finops billing import\` is used as it is),
  reconciles each day, stores the result (replacing the day) and alerts on drift past the threshold
  for days old enough to judge. Prints, per match key (cloud, namespace, team by default):
    status       matched, unattributed (billed, no estimate) or over-estimated (estimated, no bill)
    estimated    what the streamed estimates said
    reconciled   the estimate calibrated by the factors learned from the days before
    billed       what the bill says (EffectiveCost by default)
    drift        billed − estimated, and as a percentage of billed, before and after calibration
  then per day the totals, top contributors and calibration factors.

  --date     the last day to reconcile, UTC (default the newest settled day: today − settleDays)
  --window   how many days ending with --date (default 1)
  --min-days billed days a family needs before a day to get a calibration factor (default the
             configured reconciliation.calibration.minDays, 3)
  --format   table (default), json (exact amounts as strings) or csv (the rows)`,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      date: { type: "string" },
      window: { type: "string", default: "1" },
      "min-days": { type: "string" },
      format: { type: "string", default: "table" },
    });
    const format = values.format as ReportFormat;
    if (!REPORT_FORMATS.includes(format))
      throw new UsageError(`--format: one of ${REPORT_FORMATS.join(", ")}`);
    const window = Number(values.window);
    if (!Number.isInteger(window) || window < 1 || window > 62)
      throw new UsageError("--window: a whole number of days, 1..62");
    const minDays = values["min-days"] === undefined ? undefined : Number(values["min-days"]);
    if (minDays !== undefined && (!Number.isInteger(minDays) || minDays < 1 || minDays > 93))
      throw new UsageError("--min-days: a whole number of days, 1..93");
    if (values.date !== undefined && !isBillingDay(values.date))
      throw new UsageError(`--date: ${JSON.stringify(values.date)} is not a day (YYYY-MM-DD)`);

    const runtime = await composeRuntime({ logLevel: "warn", mustExist: true });
    try {
      const { settleDays } = runtime.config.reconciliation;
      const last = values.date ?? judgeableDays(runtime.clock.now(), { settleDays, window: 1 })[0];
      if (last === undefined) throw new UsageError("--date: no settled day");
      const days = Array.from({ length: window }, (_, i) => addDays(last, i - window + 1));
      const result = await runtime.reconcileDaily.reconcile({
        days,
        ...(minDays === undefined ? {} : { calibration: { minDays } }),
      });
      process.stdout.write(formatReconciliation(result, format));
      const info = format === "table" ? process.stdout : process.stderr;
      for (const i of result.imported)
        info.write(`bill source ${i.source}: ${i.lines} lines for [${i.period.start}, ${i.period.end})\n`);
      const skipped = result.otherCurrency;
      if (skipped.estimates + skipped.billed > 0)
        info.write(
          `left out, not in ${result.currency}: ${skipped.estimates} estimate rows, ${skipped.billed} bill lines\n`,
        );
      info.write(
        `drift alerts: ${result.published.length} published, ${result.alreadySent} already sent` +
          `${result.days.some((d) => !d.settled) ? " (days not settled yet are not alerted)" : ""}\n`,
      );
      return 0;
    } catch (error) {
      if (error instanceof ReconcileDailyError && error.code === "invalid_option")
        throw new UsageError(error.message);
      if (error instanceof ReconcileDailyError) {
        process.stderr.write(`finops reconcile: ${error.message}\n`);
        return 1;
      }
      throw error;
    } finally {
      await runtime.close();
    }
  },
};
