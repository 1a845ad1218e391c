import { addDays, isBillingDay } from "#domain/billing/billed-line.ts";
import { nanosToDecimal } from "#domain/money.ts";
import type { FamilyEstimate } from "#domain/reconciliation/bill-grain.ts";
import { billedAmounts, billedDayLines, daySpan } from "#domain/reconciliation/billed-day-line.ts";
import { driftAlerts, driftAlertToAlert } from "#domain/reconciliation/drift-alerts.ts";
import { judgeableDays } from "#domain/reconciliation/judgeable-days.ts";
import { formatRatio } from "#domain/reconciliation/ratio.ts";
import {
  type CalibrationSettings,
  type DayReconciliation,
  reconcileDays,
} from "#domain/reconciliation/reconcile-days.ts";
import type { ReconciliationSettings } from "#domain/reconciliation/reconciliation-settings.ts";
import type { AlertClaims } from "#ports/alert-claims.ts";
import type { BilledLine, BillingPeriod, BillingSource } from "#ports/billing-source.ts";
import { type Bus, TOPICS } from "#ports/bus.ts";
import type { Clock } from "#ports/clock.ts";
import { type Logger, silentLogger } from "#ports/logger.ts";
import type { ReconciliationStore } from "#ports/reconciliation-store.ts";
import { claimAndPublish, type PublishedAlert } from "./publish-alerts.ts";

/** A configured bill source, under the name its lines are stored by. */
export interface NamedBillingSource {
  name: string;
  source: BillingSource;
}

export interface ReconcileDailyDeps {
  store: ReconciliationStore;
  sources: readonly NamedBillingSource[];
  bus: Bus;
  claims: AlertClaims;
  clock: Clock;
  settings: ReconciliationSettings;
  logger?: Logger;
  alertsTopic?: string;
}

export interface ReconcileOptions {
  /** The days to reconcile; default the settled days of the trailing window at the clock's now. */
  days?: readonly string[];
  /** Calibration settings for this run instead of the configured ones (the demo has a day or two of history). */
  calibration?: Partial<CalibrationSettings>;
}

export interface ReconciledDay extends DayReconciliation {
  /** Old enough to judge (settleDays): only settled days alert. */
  settled: boolean;
}

export interface ReconcileDailyResult {
  reconciledAt: Date;
  currency: string;
  days: ReconciledDay[];
  /** What each configured source answered for the days, stored in place of what it said before. */
  imported: { source: string; lines: number; period: BillingPeriod }[];
  /** Estimate rows and bill lines in another currency than the one reconciled, left out. */
  otherCurrency: { estimates: number; billed: number };
  published: PublishedAlert[];
  alreadySent: number;
}

export interface ReconcileDaily {
  /**
   * Pulls the bill of the days from every configured source and stores it (replacing those days of
   * that source), reconciles each day against the estimates (drift, and the estimate calibrated by
   * factors learned from the days before it), stores the rows and factors (replacing the day), and
   * alerts once per settled day and scope whose drift passes the threshold. Re-running changes nothing twice.
   */
  reconcile(options?: ReconcileOptions): Promise<ReconcileDailyResult>;
}

export type ReconcileDailyErrorCode = "invalid_option" | "source_failed";

export class ReconcileDailyError extends Error {
  override readonly name = "ReconcileDailyError";
  readonly code: ReconcileDailyErrorCode;
  constructor(code: ReconcileDailyErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

export function createReconcileDaily({
  store,
  sources,
  bus,
  claims,
  clock,
  settings,
  logger = silentLogger,
  alertsTopic = TOPICS.alerts,
}: ReconcileDailyDeps): ReconcileDaily {
  function daysToReconcile(now: Date, days: readonly string[] | undefined): string[] {
    if (days === undefined)
      return judgeableDays(now, { settleDays: settings.settleDays, window: settings.windowDays });
    if (days.length === 0) throw new ReconcileDailyError("invalid_option", "days: none given");
    for (const day of days) {
      if (!isBillingDay(day))
        throw new ReconcileDailyError(
          "invalid_option",
          `days: ${JSON.stringify(day)} is not a day (YYYY-MM-DD)`,
        );
    }
    return [...new Set(days)].sort();
  }

  /** Every source answers before anything is stored: a source that failed must not read as an empty bill. */
  async function pullSources(period: BillingPeriod): Promise<Map<string, BilledLine[]>> {
    const pulled = new Map<string, BilledLine[]>();
    for (const { name, source } of sources) {
      try {
        pulled.set(name, await source.billedLines(period));
      } catch (cause) {
        throw new ReconcileDailyError(
          "source_failed",
          `billing source ${name} failed for [${period.start}, ${period.end}): ${(cause as Error).message}`,
          { cause },
        );
      }
      logger.info("bill pulled", { source: name, lines: pulled.get(name)?.length, ...period });
    }
    return pulled;
  }

  return {
    async reconcile(options = {}) {
      const now = clock.now();
      const days = daysToReconcile(now, options.days);
      const [newestSettled] = judgeableDays(now, { settleDays: settings.settleDays, window: 1 });
      const calibration: CalibrationSettings = { ...settings.calibration, ...options.calibration };
      const span = daySpan(days) as BillingPeriod;
      const result: ReconcileDailyResult = {
        reconciledAt: now,
        currency: settings.currency,
        days: [],
        imported: [],
        otherCurrency: { estimates: 0, billed: 0 },
        published: [],
        alreadySent: 0,
      };

      for (const [name, lines] of await pullSources(span)) {
        await store.replaceBilledLines(
          name,
          span,
          // A charge running past the window keeps only its days inside it.
          lines
            .flatMap((line) => billedDayLines(line, name))
            .filter((line) => line.day >= span.start && line.day < span.end),
          now,
        );
        result.imported.push({ source: name, lines: lines.length, period: span });
      }

      const history: BillingPeriod = { start: addDays(span.start, -calibration.lookbackDays), end: span.end };
      const [estimateRows, billedLines] = await Promise.all([
        store.dailyEstimates(history),
        store.billedLines(history),
      ]);
      const estimates: FamilyEstimate[] = [];
      for (const { currency, ...estimate } of estimateRows) {
        if (currency === settings.currency) estimates.push(estimate);
        else result.otherCurrency.estimates += 1;
      }
      const billed = billedAmounts(billedLines, settings);
      result.otherCurrency.billed = billed.otherCurrency;

      const reconciled = reconcileDays({
        days,
        estimates,
        billed: billed.amounts,
        keys: settings.matchKeys,
        calibration,
      });
      for (const day of reconciled) {
        await store.replaceDay(day, settings.currency, now);
        result.days.push({ ...day, settled: newestSettled !== undefined && day.day <= newestSettled });
        logger.info("day reconciled", {
          day: day.day,
          rows: day.rows.length,
          estimated: nanosToDecimal(day.totals.estimated),
          billed: nanosToDecimal(day.totals.billed),
          drift_percent: day.totals.relativePercent,
          factors: day.factors.length,
        });
      }

      const alerts = result.days
        .filter((day) => day.settled)
        .flatMap((day) =>
          driftAlerts(day, {
            thresholdPercent: settings.thresholdPercent,
            minAbsolute: settings.minAbsoluteDrift,
            scopeBy: settings.alertScope,
            top: settings.topContributors,
          }),
        )
        .map((data) => driftAlertToAlert(data, { currency: settings.currency, createdAt: now }));
      const sent = await claimAndPublish(alerts, { claims, bus, topic: alertsTopic, logger });
      result.published = sent.published;
      result.alreadySent = sent.alreadySent;
      return result;
    },
  };
}

/** The scheduled function's answer body: per day its totals, and what was imported and alerted. */
export function reconcileDailyResultToJson(result: ReconcileDailyResult) {
  const money = (n: bigint) => nanosToDecimal(n);
  return {
    reconciled_at: result.reconciledAt.toISOString(),
    currency: result.currency,
    days: result.days.map((d) => ({
      day: d.day,
      settled: d.settled,
      rows: d.rows.length,
      counts: d.totals.counts,
      estimated: money(d.totals.estimated),
      reconciled: money(d.totals.reconciled),
      billed: money(d.totals.billed),
      drift: money(d.totals.drift),
      drift_percent: d.totals.relativePercent,
      reconciled_drift_percent: d.totals.reconciledRelativePercent,
      factors: d.factors.map((f) => ({
        cloud: f.cloud,
        family: f.family,
        factor: formatRatio(f.factor),
        days: f.days.length,
      })),
      unbilled_clouds: d.unbilledClouds,
    })),
    imported: result.imported,
    other_currency: result.otherCurrency,
    published: result.published,
    already_sent: result.alreadySent,
  };
}
