import { type Alert, alertToJson } from "#domain/alerts/alert.ts";
import { addDays } from "#domain/billing/billed-line.ts";
import { type DayCloudSpend, type SpendBasis, splitBudgetSpend } from "#domain/budgets/budget-basis.ts";
import { type Budget, scopeDimensions } from "#domain/budgets/budget-config.ts";
import type { BudgetEnforcementEvent } from "#domain/budgets/budget-enforcement.ts";
import { HOUR_MS, periodAt } from "#domain/budgets/budget-period.ts";
import { otherCurrencies, spendIn, unionDimensions } from "#domain/budgets/budget-spend.ts";
import type { BudgetStatus } from "#domain/budgets/budget-status.ts";
import {
  type BudgetEvaluation,
  evaluateBudget,
  type HourSample,
  thresholdAlert,
  thresholdKey,
} from "#domain/budgets/evaluate-budget.ts";
import type { AlertClaims } from "#ports/alert-claims.ts";
import { type Bus, type BusMessage, TOPICS } from "#ports/bus.ts";
import type { Clock } from "#ports/clock.ts";
import { type Logger, silentLogger } from "#ports/logger.ts";
import type { ReconciliationStore } from "#ports/reconciliation-store.ts";
import type { ReportReads, ReportRow, Warehouse } from "#ports/warehouse.ts";

/** What the budgets read of the reconciliation: the judged days' rows, the factors, the family mix. */
export type BudgetReconciliationSource = Pick<
  ReconciliationStore,
  "reconciliationRows" | "calibrationFactors" | "dailyEstimates"
>;

/** How far before a period's first day the factors still apply (the newest learned before it). */
const FACTOR_LOOKBACK_DAYS = 62;

export interface EvaluateBudgetsDeps {
  warehouse: Warehouse;
  bus: Bus;
  claims: AlertClaims;
  budgets: readonly Budget[];
  clock: Clock;
  logger?: Logger;
  /** Where alerts go; the alerts topic unless told. */
  alertsTopic?: string;
  /**
   * The reconciliation store: with it, each budget's spend is split into the part reconciled against
   * a bill and the part still an estimate, calibrated (budget-basis.ts), and judged on their sum;
   * without it, the rollup's spend is judged and nothing is said of the bill.
   */
  reconciliation?: BudgetReconciliationSource;
  /**
   * Whole hours before the current one whose spend shapes the forecast by hour of the local week
   * (one report grouped by hour, shared by all budgets). Default 168: each hour of the week once. 0 turns
   * the profile off: forecasts use the flat run rate of the period so far.
   */
  forecastProfileHours?: number;
}

export interface PublishedAlert {
  key: string;
  kind: Alert["kind"];
  severity: Alert["severity"];
  budget: string;
  /** For a threshold alert, the lower thresholds newly crossed with it, which it speaks for (claimed, not sent apart). */
  alsoPassed?: number[];
}

export interface EvaluateBudgetsResult {
  evaluatedAt: Date;
  budgets: number;
  /**
   * Alerts claimed and published by this run, in order: per budget at most one threshold alert (for
   * the highest threshold newly crossed), then its new forecast alerts.
   */
  published: PublishedAlert[];
  /** Alerts the state calls for whose key an earlier run had already claimed. */
  alreadySent: number;
  /** Enforcement events claimed and published by this run: their ids and topics. */
  enforcement: { id: string; topic: string }[];
}

export interface EvaluateBudgets {
  /**
   * Reads each budget's spend for its current period from the hourly rollup, evaluates it, claims
   * every alert key the state calls for and publishes the alerts whose claim it won: each threshold
   * of a budget alerts at most once per period, whatever re-runs, overlaps or late events happen.
   */
  evaluate(): Promise<EvaluateBudgetsResult>;
  /**
   * Every budget's spend, percent used, forecast and how much of it is reconciled, without alerting:
   * `rollup` as `evaluate` judges it (`finops budgets`), `live` with the hours not refreshed yet (the
   * dashboard's budget panel); at `now`, the clock's by default (`finops budgets check` gives FINOPS_NOW's).
   */
  budgetStatus(reads: ReportReads, now?: Date): Promise<BudgetStatus[]>;
}

export type EvaluateBudgetsErrorCode = "publish_failed" | "invalid_option";

export class EvaluateBudgetsError extends Error {
  override readonly name = "EvaluateBudgetsError";
  readonly code: EvaluateBudgetsErrorCode;
  constructor(code: EvaluateBudgetsErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;

/** The budget's spend per UTC day and cloud in report rows grouped by its scope, cloud and day. */
function dayCloudSpend(budget: Budget, rows: readonly ReportRow[]): DayCloudSpend[] {
  const dims = scopeDimensions(budget.scope);
  const cells = new Map<string, DayCloudSpend>();
  for (const row of rows) {
    if (row.currency !== budget.currency) continue;
    if (!dims.every((d) => row.group[d] === budget.scope[d])) continue;
    const day = row.group.day ?? "";
    const cloud = row.group.cloud ?? null;
    const key = `${day}|${cloud ?? ""}`;
    const cell = cells.get(key) ?? { day, cloud, nanos: 0n };
    cell.nanos += row.cost_nanos;
    cells.set(key, cell);
  }
  return [...cells.values()];
}

/** The threshold a `budget.threshold` alert of the evaluation is for (by its key). */
function thresholdOf(evaluation: BudgetEvaluation, alert: Alert): number {
  const threshold = evaluation.crossed.find(
    (t) => thresholdKey(evaluation.budget, evaluation.period, t) === alert.idempotency_key,
  );
  if (threshold === undefined)
    throw new RangeError(`no crossed threshold has the key ${alert.idempotency_key}`);
  return threshold;
}

export function createEvaluateBudgets({
  warehouse,
  bus,
  claims,
  budgets,
  clock,
  logger = silentLogger,
  alertsTopic = TOPICS.alerts,
  forecastProfileHours = 168,
  reconciliation,
}: EvaluateBudgetsDeps): EvaluateBudgets {
  if (!Number.isInteger(forecastProfileHours) || forecastProfileHours < 0) {
    throw new EvaluateBudgetsError(
      "invalid_option",
      "forecastProfileHours must be a whole number, 0 or more",
    );
  }

  /**
   * Spend so far in each budget's current period, per UTC day and cloud: one report per distinct
   * period range, grouped by the budgets' scope dimensions, cloud and day.
   */
  async function spendToDate(
    now: Date,
    reads: ReportReads,
  ): Promise<Map<Budget, { hours: { from: Date; to: Date }; spend: DayCloudSpend[] }>> {
    const currentHourEnd = floorHour(now.getTime()) + HOUR_MS;
    const ranges = new Map<string, { from: Date; to: Date; budgets: Budget[] }>();
    for (const budget of budgets) {
      const period = periodAt(budget.period, now, budget.timeZone);
      const from = period.hoursFrom;
      const to = new Date(Math.min(currentHourEnd, period.hoursTo.getTime()));
      const key = `${from.getTime()}/${to.getTime()}`;
      const range = ranges.get(key) ?? { from, to, budgets: [] };
      range.budgets.push(budget);
      ranges.set(key, range);
    }
    const spend = new Map<Budget, { hours: { from: Date; to: Date }; spend: DayCloudSpend[] }>();
    for (const range of ranges.values()) {
      const dims = unionDimensions(range.budgets);
      const rows = await warehouse.report({
        by: [...dims, ...(dims.includes("cloud") ? [] : (["cloud"] as const)), "day"],
        from: range.from,
        to: range.to,
        reads,
      });
      for (const budget of range.budgets) {
        spend.set(budget, { hours: { from: range.from, to: range.to }, spend: dayCloudSpend(budget, rows) });
        const others = otherCurrencies(budget, rows);
        if (others.length > 0) {
          logger.warn("budget scope has spend in other currencies, not counted", {
            budget: budget.name,
            currency: budget.currency,
            others,
          });
        }
      }
    }
    return spend;
  }

  /** Each budget's spend split into reconciled and estimate, from the reconciliation store. */
  async function spendBases(
    spend: Map<Budget, { hours: { from: Date; to: Date }; spend: DayCloudSpend[] }>,
  ): Promise<Map<Budget, SpendBasis> | undefined> {
    if (!reconciliation || spend.size === 0) return undefined;
    const hours = [...spend.values()].map((s) => s.hours);
    const start = new Date(Math.min(...hours.map((h) => h.from.getTime()))).toISOString().slice(0, 10);
    const end = addDays(
      new Date(Math.max(...hours.map((h) => h.to.getTime())) - 1).toISOString().slice(0, 10),
      1,
    );
    const [judged, factors] = await Promise.all([
      reconciliation.reconciliationRows({ start, end }),
      reconciliation.calibrationFactors({ start: addDays(start, -FACTOR_LOOKBACK_DAYS), end }),
    ]);
    // The family mix weighs the factors: read only when there are factors to weigh.
    const estimates = factors.length > 0 ? await reconciliation.dailyEstimates({ start, end }) : [];
    const bases = new Map<Budget, SpendBasis>();
    for (const [budget, read] of spend) {
      bases.set(budget, splitBudgetSpend({ budget, ...read, judged, factors, estimates }));
    }
    return bases;
  }

  /** The last `forecastProfileHours` whole hours of spend per budget, zero hours included. */
  async function hourlyProfiles(now: Date, wanted: readonly Budget[]): Promise<Map<Budget, HourSample[]>> {
    const profiles = new Map<Budget, HourSample[]>(wanted.map((b) => [b, []]));
    if (forecastProfileHours === 0 || wanted.length === 0) return profiles;
    const currentHour = floorHour(now.getTime());
    const from = currentHour - forecastProfileHours * HOUR_MS;
    const rows = await warehouse.report({
      by: [...unionDimensions(wanted), "hour"],
      from: new Date(from),
      to: new Date(currentHour),
      // The forecast's shape only: settled hours whoever asks (the live tail adds nothing to it).
      reads: "rollup",
    });
    const byHour = Map.groupBy(rows, (row) => (row.group.hour ? Date.parse(row.group.hour) : Number.NaN));
    for (let hour = from; hour < currentHour; hour += HOUR_MS) {
      const inHour = byHour.get(hour) ?? [];
      for (const budget of wanted) {
        profiles.get(budget)?.push({ hour: new Date(hour), spend_nanos: spendIn(budget, inHour) });
      }
    }
    return profiles;
  }

  /**
   * Every budget evaluated at `now`, each with the same forecast whoever asks (an alert's figure is
   * the one `budgets check` shows); `budget.forecast` decides only whether it may alert on it.
   */
  async function evaluateAll(now: Date, reads: ReportReads): Promise<BudgetEvaluation[]> {
    const spend = await spendToDate(now, reads);
    const bases = await spendBases(spend);
    const profiles = await hourlyProfiles(now, budgets);
    return budgets.map((budget) => {
      const basis = bases?.get(budget);
      const total = basis
        ? basis.reconciled_nanos + basis.estimate_nanos
        : (spend.get(budget)?.spend ?? []).reduce((n, s) => n + s.nanos, 0n);
      return evaluateBudget(budget, total, now, profiles.get(budget), basis);
    });
  }

  function alertMessage(alert: Alert): BusMessage {
    return {
      data: Buffer.from(alertToJson(alert)),
      attributes: { kind: alert.kind, severity: alert.severity, idempotency_key: alert.idempotency_key },
    };
  }

  function enforcementMessage(event: BudgetEnforcementEvent): BusMessage {
    return {
      data: Buffer.from(JSON.stringify(event)),
      attributes: { type: event.type, id: event.id, budget: event.data.budget },
    };
  }

  /**
   * Claims every key the evaluation calls for, and returns what to publish: the forecast alerts whose
   * claim this run won, and at most one threshold alert. Thresholds newly crossed together (a jump,
   * or a budget first seen past several) are each claimed, so no later run sends them, and one message
   * speaks for the highest of them, naming the others. A threshold below one an earlier run already
   * alerted on is claimed silently: that message spoke for more than it.
   */
  async function claimFresh(
    evaluation: BudgetEvaluation,
    result: EvaluateBudgetsResult,
  ): Promise<{ alert: Alert; alsoPassed: number[] }[]> {
    const won: number[] = [];
    let sentBefore = Number.NEGATIVE_INFINITY;
    const forecasts: Alert[] = [];
    for (const alert of evaluation.alerts) {
      const mine = await claims.claim(alert.idempotency_key);
      if (!mine) result.alreadySent += 1;
      if (alert.kind !== "budget.threshold") {
        if (mine) forecasts.push(alert);
        continue;
      }
      const threshold = thresholdOf(evaluation, alert);
      if (mine) won.push(threshold);
      else sentBefore = Math.max(sentBefore, threshold);
    }
    const top = Math.max(...won);
    const out: { alert: Alert; alsoPassed: number[] }[] = [];
    if (won.length > 0 && top > sentBefore) {
      const alsoPassed = won.filter((t) => t < top).sort((a, b) => a - b);
      out.push({ alert: thresholdAlert(evaluation, top, alsoPassed), alsoPassed });
    } else if (won.length > 0) {
      logger.info("budget thresholds claimed without a message: an earlier alert passed a higher one", {
        budget: evaluation.budget.name,
        thresholds: won,
        alerted: sentBefore,
      });
    }
    return [...out, ...forecasts.map((alert) => ({ alert, alsoPassed: [] }))];
  }

  return {
    async evaluate() {
      const now = clock.now();
      // Alerts judge whole hours as the refresh settled them, never a tail still filling.
      const evaluations = await evaluateAll(now, "rollup");
      const result: EvaluateBudgetsResult = {
        evaluatedAt: now,
        budgets: budgets.length,
        published: [],
        alreadySent: 0,
        enforcement: [],
      };
      const failures: Error[] = [];
      for (const evaluation of evaluations) {
        const name = evaluation.budget.name;
        const fresh = await claimFresh(evaluation, result);
        if (fresh.length > 0) {
          try {
            await bus.publish(
              alertsTopic,
              fresh.map(({ alert }) => alertMessage(alert)),
            );
            for (const { alert, alsoPassed } of fresh) {
              result.published.push({
                key: alert.idempotency_key,
                kind: alert.kind,
                severity: alert.severity,
                budget: name,
                ...(alsoPassed.length === 0 ? {} : { alsoPassed }),
              });
              logger.info("budget alert published", { key: alert.idempotency_key, severity: alert.severity });
            }
          } catch (error) {
            // The keys are claimed: a later run will not send these again. Log them whole for a replay.
            logger.error("budget alerts claimed but not published", {
              budget: name,
              topic: alertsTopic,
              alerts: fresh.map(({ alert }) => alertToJson(alert)),
              error: (error as Error).message,
            });
            failures.push(error as Error);
          }
        }
        const event = evaluation.enforcement;
        const topic = evaluation.budget.enforcement?.topic;
        if (event && topic && (await claims.claim(event.id))) {
          try {
            await bus.publish(topic, [enforcementMessage(event)]);
            result.enforcement.push({ id: event.id, topic });
            logger.info("budget enforcement event published", { id: event.id, topic });
          } catch (error) {
            logger.error("budget enforcement event claimed but not published", {
              topic,
              event: JSON.stringify(event),
              error: (error as Error).message,
            });
            failures.push(error as Error);
          }
        }
      }
      if (failures.length > 0) {
        throw new EvaluateBudgetsError(
          "publish_failed",
          `${failures.length} publish(es) failed after their alerts were claimed; see the error log for the alerts`,
          { cause: new AggregateError(failures) },
        );
      }
      return result;
    },

    async budgetStatus(reads, at) {
      const evaluations = await evaluateAll(at ?? clock.now(), reads);
      return evaluations.map((evaluation) => ({
        evaluation,
        reconciled_nanos: evaluation.basis?.reconciled_nanos ?? 0n,
        estimate_nanos: evaluation.basis?.estimate_nanos ?? evaluation.spend_nanos,
        basis_known: evaluation.basis !== undefined,
      }));
    },
  };
}

/** The scheduled function's answer body. */
export function evaluateBudgetsResultToJson(result: EvaluateBudgetsResult) {
  return {
    evaluated_at: result.evaluatedAt.toISOString(),
    budgets: result.budgets,
    published: result.published.map(({ alsoPassed, ...p }) => ({
      ...p,
      ...(alsoPassed === undefined ? {} : { also_passed: alsoPassed }),
    })),
    already_sent: result.alreadySent,
    enforcement: result.enforcement,
  };
}
