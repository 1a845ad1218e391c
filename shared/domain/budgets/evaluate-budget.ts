import type { Alert, Severity } from "../alerts/alert.ts";
import { divRound, formatAmount, type Nanos } from "../money.ts";
import type { SpendBasis } from "./budget-basis.ts";
import type { Budget } from "./budget-config.ts";
import { type BudgetEnforcementEvent, buildEnforcementEvent } from "./budget-enforcement.ts";
import { type BudgetPeriod, HOUR_MS, hourOfWeek, periodAt } from "./budget-period.ts";

/** Spend of one whole UTC hour of the rollup (zero hours included: quiet nights shape the forecast too). */
export interface HourSample {
  hour: Date;
  spend_nanos: Nanos;
}

export type ForecastMethod = "hour-of-week" | "run-rate" | "mixed" | "none";

export interface BudgetForecast {
  /** Spend expected by the end of the period. */
  nanos: Nanos;
  /** Of the budget amount, rounded to two decimals for display. */
  percent: number;
  /**
   * How the remaining hours were projected: each by the average of the same hour of the local week
   * in the profile, by the flat run rate of the period so far, a mix (hours of the week the profile
   * has no sample of use the run rate), or not at all (nothing elapsed or nothing remains).
   */
  method: ForecastMethod;
}

export interface BudgetEvaluation {
  budget: Budget;
  period: BudgetPeriod;
  /** When it was evaluated: the alerts' created_at. */
  evaluatedAt: Date;
  /** The spend judged: reconciled + estimate where the basis is known, else the rollup's spend. */
  spend_nanos: Nanos;
  /** How much of the spend rests on a bill and how much is an estimate; absent when that cannot be told. */
  basis?: SpendBasis;
  /** Spend over amount, percent, rounded to two decimals for display (crossings are decided exactly). */
  percent: number;
  /** Thresholds the spend has reached, ascending. */
  crossed: number[];
  forecast: BudgetForecast;
  /**
   * Every alert the current state calls for, each with its stable idempotency key: one per crossed
   * threshold, and forecast alerts. Which of them are new is the caller's to decide (by claiming keys);
   * when several thresholds are new at once, `thresholdAlert` builds the one message that speaks for them.
   */
  alerts: Alert[];
  /** The enforcement event, once the spend has reached the enforcement threshold; else null. */
  enforcement: BudgetEnforcementEvent | null;
}

/** Forecast alerts wait until this share of the period has elapsed, so one early spike is not a trend. */
export const FORECAST_MIN_ELAPSED = { numerator: 1n, denominator: 10n } as const;

export const ACTIONS = {
  info: "No action needed yet: keep an eye on the trend and on workloads planned for the rest of the period.",
  warning:
    "Review usage now: pause or downsize non-critical jobs, or agree a higher budget before it is exceeded.",
  critical: "Budget exceeded. Immediate action required.",
  forecast:
    "At the current pace the budget will be exceeded before the period ends: reduce spend or agree a higher budget.",
} as const;

/** Severity of a threshold alert: below 80% info, 80 to below 100 warning, 100 and above critical. */
export function thresholdSeverity(threshold: number): Severity {
  if (threshold >= 100) return "critical";
  if (threshold >= 80) return "warning";
  return "info";
}

/** Whether `spend` has reached `threshold` percent of `amount`, decided exactly on integers. */
export function reaches(spend: Nanos, amount: Nanos, threshold: number): boolean {
  return spend * 100n >= BigInt(threshold) * amount;
}

/** Spend over amount in percent, rounded half away from zero to two decimals. */
export function percentOf(spend: Nanos, amount: Nanos): number {
  return Number(divRound(spend * 10_000n, amount)) / 100;
}

/** "$16,000.00" for USD, "1,234.50 EUR" otherwise. */
export function formatMoney(nanos: Nanos, currency: string): string {
  const text = formatAmount(nanos, 2);
  const negative = text.startsWith("-");
  const [units = "0", cents = "00"] = (negative ? text.slice(1) : text).split(".");
  const grouped = units.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const body = `${grouped}.${cents}`;
  return `${negative ? "-" : ""}${currency === "USD" ? `$${body}` : `${body} ${currency}`}`;
}

/** An exact fraction; sums stay reduced as they grow. */
interface Fraction {
  num: bigint;
  den: bigint;
}

function addFraction(a: Fraction, num: bigint, den: bigint): Fraction {
  const n = a.num * den + num * a.den;
  const d = a.den * den;
  const g = gcd(n < 0n ? -n : n, d);
  return { num: n / g, den: d / g };
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a === 0n ? 1n : a;
}

/**
 * Spend expected by the period's end: the spend so far plus, for every remaining stretch of each
 * UTC hour, the average spend of the same hour of the local week in `profile` (whole hours only),
 * or the flat run rate of the period so far where the profile has no such hour. Exact on bigints
 * (one rounding, at the end).
 */
export function forecastSpend(
  period: BudgetPeriod,
  spend: Nanos,
  now: Date,
  profile: readonly HourSample[] = [],
): { nanos: Nanos; method: ForecastMethod } {
  const from = period.hoursFrom.getTime();
  const to = period.hoursTo.getTime();
  const at = Math.min(Math.max(now.getTime(), from), to);
  const elapsed = at - from;
  if (at >= to || elapsed <= 0) return { nanos: spend, method: "none" };

  const sums = new Map<number, bigint>();
  const counts = new Map<number, bigint>();
  for (const sample of profile) {
    const start = Math.floor(sample.hour.getTime() / HOUR_MS) * HOUR_MS;
    if (start + HOUR_MS > now.getTime()) continue;
    const bucket = hourOfWeek(new Date(start), period.timeZone);
    sums.set(bucket, (sums.get(bucket) ?? 0n) + sample.spend_nanos);
    counts.set(bucket, (counts.get(bucket) ?? 0n) + 1n);
  }

  let flatMs = 0n;
  const profiledMs = new Map<number, bigint>();
  for (let t = at; t < to; ) {
    const hourStart = Math.floor(t / HOUR_MS) * HOUR_MS;
    const next = Math.min(hourStart + HOUR_MS, to);
    const bucket = hourOfWeek(new Date(hourStart), period.timeZone);
    const ms = BigInt(next - t);
    if (counts.has(bucket)) profiledMs.set(bucket, (profiledMs.get(bucket) ?? 0n) + ms);
    else flatMs += ms;
    t = next;
  }

  let rest: Fraction = { num: 0n, den: 1n };
  for (const [bucket, ms] of profiledMs) {
    rest = addFraction(rest, (sums.get(bucket) ?? 0n) * ms, (counts.get(bucket) ?? 1n) * BigInt(HOUR_MS));
  }
  if (flatMs > 0n) rest = addFraction(rest, spend * flatMs, BigInt(elapsed));
  const method: ForecastMethod =
    profiledMs.size === 0 ? "run-rate" : flatMs === 0n ? "hour-of-week" : "mixed";
  return { nanos: spend + divRound(rest.num, rest.den), method };
}

function scopeText(budget: Budget): string {
  const parts = Object.entries(budget.scope).map(([k, v]) => `${k}=${v}`);
  return parts.length === 0 ? "all spend" : parts.join(", ");
}

function periodText(period: BudgetPeriod): string {
  return `the ${period.kind} period from ${period.label} (${period.timeZone})`;
}

function alertBase(budget: Budget, period: BudgetPeriod, now: Date) {
  return {
    scope: { ...budget.scope, team: budget.owner, budget: budget.name },
    ...(budget.channel === undefined ? {} : { channel: budget.channel }),
    period: { start: period.start.toISOString(), end: period.end.toISOString() },
    created_at: now.toISOString(),
  };
}

/** `budget:<name>:<period start date>:<threshold>`: one alert per threshold per budget per period. */
export function thresholdKey(budget: Budget, period: BudgetPeriod, threshold: number): string {
  return `budget:${budget.name}:${period.label}:${threshold}`;
}

export function forecastKey(budget: Budget, period: BudgetPeriod, threshold: number): string {
  return `budget:${budget.name}:${period.label}:forecast:${threshold}`;
}

export function enforcementKey(budget: Budget, period: BudgetPeriod, threshold: number): string {
  return `budget:${budget.name}:${period.label}:enforcement:${threshold}`;
}

/**
 * " Of it, $9,800.00 is reconciled against the bill (6 days, to 2026-12-06) and $6,300.00 is still an
 * estimate (calibrated)." — empty when nothing is reconciled and no factor changed the estimate.
 */
export function basisText(evaluation: BudgetEvaluation): string {
  const basis = evaluation.basis;
  if (!basis || (basis.reconciled_days.length === 0 && !basis.calibrated)) return "";
  const money = (n: Nanos) => formatMoney(n, evaluation.budget.currency);
  const days = basis.reconciled_days;
  const reconciled =
    days.length === 0
      ? "nothing is reconciled against a bill yet"
      : `${money(basis.reconciled_nanos)} is reconciled against the bill (${days.length} day${days.length === 1 ? "" : "s"}, ` +
        `to ${days.at(-1)}${basis.billed_scope ? "" : ", as calibrated: no bill line names this scope"})`;
  const estimate = `${money(basis.estimate_nanos)} is still an estimate${basis.calibrated ? " (calibrated by the bill's factors)" : ""}`;
  return ` Of it, ${reconciled} and ${estimate}.`;
}

/** "50%", "50% and 80%", "50%, 80% and 100%". */
export function percentList(thresholds: readonly number[]): string {
  const items = thresholds.map((t) => `${t}%`);
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/**
 * The `budget.threshold` alert for `threshold`, under its own key. `passedWith` are the lower
 * thresholds newly crossed in the same evaluation, for which this one message speaks: they are
 * named in it ("also passed 50%, 80% and 100%") and never get a message of their own. Its severity
 * is the threshold's, or the spend's where that is higher (a budget found at 141% with a 125%
 * threshold is critical).
 */
export function thresholdAlert(
  evaluation: BudgetEvaluation,
  threshold: number,
  passedWith: readonly number[] = [],
): Alert {
  const { budget, period, forecast, percent, evaluatedAt } = evaluation;
  const spend = evaluation.spend_nanos;
  const amount = budget.amount_nanos;
  const severity = thresholdSeverity(Math.max(threshold, percent));
  const key = thresholdKey(budget, period, threshold);
  const also = [...new Set(passedWith)].filter((t) => t < threshold).sort((a, b) => a - b);
  const alsoText = also.length === 0 ? "" : ` (also passed ${percentList(also)}: one message for all)`;
  const forecastText =
    forecast.method === "none"
      ? ""
      : ` Forecast for the period end: ${formatMoney(forecast.nanos, budget.currency)} (${forecast.percent}%).`;
  return {
    idempotency_key: key,
    kind: "budget.threshold",
    severity,
    title:
      threshold === 100 ? `Budget ${budget.name} exceeded` : `Budget ${budget.name} reached ${threshold}%`,
    summary:
      `${budget.owner}: spend is ${formatMoney(spend, budget.currency)} of ${formatMoney(amount, budget.currency)} ` +
      `(${percent}%) in ${periodText(period)}, past the ${threshold}% threshold${alsoText}.` +
      `${basisText(evaluation)} Scope: ${scopeText(budget)}.${forecastText}`,
    action: ACTIONS[severity],
    ...alertBase(budget, period, evaluatedAt),
    amounts: alertAmounts(evaluation),
    source: { system: "finops", id: key },
  };
}

function alertAmounts(evaluation: BudgetEvaluation) {
  const { budget, forecast } = evaluation;
  return {
    spend_nanos: evaluation.spend_nanos,
    limit_nanos: budget.amount_nanos,
    ...(forecast.method === "none" ? {} : { forecast_nanos: forecast.nanos }),
    percent: evaluation.percent,
    currency: budget.currency,
  };
}

/**
 * Evaluates one budget at `now` given its spend so far in the current period (from the rollup, or
 * reconciled + estimate when `basis` tells them apart): percent used, crossed thresholds, the
 * period-end forecast, and the alerts the state calls for.
 * Pure: the same inputs give the same alerts with the same keys, however often it runs.
 */
export function evaluateBudget(
  budget: Budget,
  spendToDate: Nanos,
  now: Date,
  hourlyProfile?: readonly HourSample[],
  basis?: SpendBasis,
): BudgetEvaluation {
  const period = periodAt(budget.period, now, budget.timeZone);
  const amount = budget.amount_nanos;
  const percent = percentOf(spendToDate, amount);
  const crossed = budget.thresholds.filter((t) => reaches(spendToDate, amount, t));
  const projected = forecastSpend(period, spendToDate, now, hourlyProfile);
  const forecast: BudgetForecast = { ...projected, percent: percentOf(projected.nanos, amount) };
  const base = alertBase(budget, period, now);
  const spendText = `${formatMoney(spendToDate, budget.currency)} of ${formatMoney(amount, budget.currency)}`;

  const evaluation: BudgetEvaluation = {
    budget,
    period,
    evaluatedAt: now,
    spend_nanos: spendToDate,
    ...(basis === undefined ? {} : { basis }),
    percent,
    crossed,
    forecast,
    alerts: [],
    enforcement: null,
  };
  const alerts: Alert[] = crossed.map((threshold) => thresholdAlert(evaluation, threshold));

  const elapsed = BigInt(Math.max(0, now.getTime() - period.hoursFrom.getTime()));
  const length = BigInt(period.hoursTo.getTime() - period.hoursFrom.getTime());
  const settled = elapsed * FORECAST_MIN_ELAPSED.denominator >= length * FORECAST_MIN_ELAPSED.numerator;
  if (budget.forecast && forecast.method !== "none" && settled) {
    for (const threshold of budget.thresholds) {
      if (threshold < 100 || crossed.includes(threshold)) continue;
      if (!reaches(forecast.nanos, amount, threshold)) continue;
      const key = forecastKey(budget, period, threshold);
      alerts.push({
        idempotency_key: key,
        kind: "budget.forecast",
        severity: "warning",
        title: `Budget ${budget.name} forecast to reach ${threshold}%`,
        summary:
          `${budget.owner}: spend is ${spendText} (${percent}%) in ${periodText(period)}; at this pace it ` +
          `reaches ${formatMoney(forecast.nanos, budget.currency)} (${forecast.percent}%) by ` +
          `${period.end.toISOString()}, past the ${threshold}% threshold.${basisText(evaluation)} ` +
          `Scope: ${scopeText(budget)}.`,
        action: ACTIONS.forecast,
        ...base,
        amounts: alertAmounts(evaluation),
        source: { system: "finops", id: key },
      });
    }
  }

  const rule = budget.enforcement;
  const enforcement =
    rule && reaches(spendToDate, amount, rule.threshold)
      ? buildEnforcementEvent({
          id: enforcementKey(budget, period, rule.threshold),
          budget,
          period,
          threshold: rule.threshold,
          spend_nanos: spendToDate,
          percent,
          now,
        })
      : null;

  return { ...evaluation, alerts, enforcement };
}
