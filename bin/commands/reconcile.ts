import { addDays, dayOf, isBillingDay } from "#domain/billing/billed-line.ts";
import { judgeableDays } from "#domain/reconciliation/judgeable-days.ts";
import { formatReconciliation } from "#domain/reconciliation/reconciliation-format.ts";
import { REPORT_FORMATS } from "#domain/report-format.ts";
import { type Command, oneOf, parseCommandArgs, UsageError, urlFlagHelp } from "../cli-args.ts";
import { type Operation, textParams } from "../operation.ts";
import { runOperation } from "../run-operation.ts";

/** Reconciles days against the bill and prints the drift table, as `finops reconcile` does. */
export const reconcileOperation: Operation = {
  name: "reconcile",
  method: "POST",
  prepare(params, { now }) {
    const format = oneOf("--format", params.format, REPORT_FORMATS, "table");
    const window = Number(params.window ?? "1");
    if (!Number.isInteger(window) || window < 1 || window > 62)
      throw new UsageError("--window: a whole number of days, 1..62");
    const minDays = params["min-days"] === undefined ? undefined : Number(params["min-days"]);
    if (minDays !== undefined && (!Number.isInteger(minDays) || minDays < 1 || minDays > 93))
      throw new UsageError("--min-days: a whole number of days, 1..93");
    const date = params.date;
    if (date !== undefined && !isBillingDay(date))
      throw new UsageError(`--date: ${JSON.stringify(date)} is not a day (YYYY-MM-DD)`);
    if (date !== undefined && date > dayOf(now))
      throw new UsageError(
        `--date: ${date} has not begun (today is ${dayOf(now)}, UTC): nothing to reconcile yet`,
      );

    return async (runtime, output) => {
      const { settleDays } = runtime.config.reconciliation;
      const last = date ?? judgeableDays(now, { settleDays, window: 1 })[0];
      if (last === undefined) throw new UsageError("--date: no settled day");
      const days = Array.from({ length: window }, (_, i) => addDays(last, i - window + 1));
      // An invalid_option ReconcileDailyError is a usage error, any other a failure (bin/error-boundary.ts).
      const result = await runtime.reconcileDaily.reconcile({
        days,
        ...(minDays === undefined ? {} : { calibration: { minDays } }),
      });
      await output.out(formatReconciliation(result, format));
      const info = async (text: string) => (format === "table" ? output.out(text) : output.err(text));
      for (const i of result.imported)
        await info(`bill source ${i.source}: ${i.lines} lines for [${i.period.start}, ${i.period.end})\n`);
      const skipped = result.otherCurrency;
      if (skipped.estimates + skipped.billed > 0)
        await info(
          `left out, not in ${result.currency}: ${skipped.estimates} estimate rows, ${skipped.billed} bill lines\n`,
        );
      await info(
        `drift alerts: ${result.published.length} published, ${result.alreadySent} already sent` +
          `${result.days.some((d) => !d.settled) ? " (days not settled yet are not alerted)" : ""}\n`,
      );
      return 0;
    };
  },
};

export const reconcileCommand: Command = {
  name: "reconcile",
  summary: "reconcile days of estimates against the bill and print the drift table",
  usage: `finops reconcile [--date DAY] [--window N] [--min-days N] [--format table|json|csv] [--url URL]

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

  --date     the last day to reconcile, UTC, YYYY-MM-DD (default the newest settled day: today − settleDays)
  --window   how many days ending with --date (default 1)
  --min-days billed days a family needs before a day to get a calibration factor (default the
             configured reconciliation.calibration.minDays, 3)
  --format   table (default), json (exact amounts as strings) or csv (the rows)
${urlFlagHelp(13)}`,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      date: { type: "string" },
      window: { type: "string" },
      "min-days": { type: "string" },
      format: { type: "string" },
      url: { type: "string" },
    });
    return runOperation(reconcileOperation, textParams(values, ["url"]), { url: values.url });
  },
};
