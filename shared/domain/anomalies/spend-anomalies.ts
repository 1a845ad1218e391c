import type { Alert } from "#domain/alerts/alert.ts";
import { divRound, formatAmount, type Nanos } from "#domain/money.ts";
import {
  type AnomalyDimension,
  type AnomalySettings,
  MICRO,
  severityForImpact,
  toMicro,
} from "./anomaly-settings.ts";

export const HOUR_MS = 3_600_000;
const DAY_HOURS = 24;
const WEEK_HOURS = 7 * DAY_HOURS;

/** One watched series: a value of one dimension, in one currency. */
export interface AnomalyScope {
  dimension: AnomalyDimension;
  value: string;
  currency: string;
}

/**
 * Hourly spend as the baselines read it: hour start (ms, UTC, whole hour) → nanos. An hour present
 * is a sample (zero when the series spent nothing); an hour absent never counts: it was not read, or
 * it came before the series had any data (measuredSeries says why those are not zeros).
 */
export interface SpendSeries {
  spend: ReadonlyMap<number, Nanos>;
  /**
   * The series' first hour with data, when the warehouse had data before it: the series is new, and
   * its first `minSamples` hours are judged against no spend (newSpendBaseline).
   */
  newSince?: number;
}

/** A scope's hourly spend. */
export interface ScopeSeries extends SpendSeries {
  scope: AnomalyScope;
}

/**
 * hour-of-week, hour-of-day and last-day are medians of earlier samples (baselineAt); new is no spend
 * expected, for a new series' first hours.
 */
export type BaselineBasis = "hour-of-week" | "hour-of-day" | "last-day" | "new";

export interface Baseline {
  basis: BaselineBasis;
  samples: number;
  /** The median of the samples: what the hour is expected to cost. */
  expected_nanos: Nanos;
  /** The scaled MAD after its floors. */
  spread_nanos: Nanos;
  /** expected + k × spread: spend above this is anomalous (if the impact is big enough too). */
  threshold_nanos: Nanos;
}

export interface HourEvaluation {
  hour: number;
  spend_nanos: Nanos;
  baseline: Baseline;
  /** spend − expected (negative when under). */
  impact_nanos: Nanos;
  anomalous: boolean;
}

export interface SpendIncident {
  scope: AnomalyScope;
  /** The first anomalous hour of the run of consecutive anomalous hours that ends at the hour judged. */
  start: number;
  /** The end of the hour judged. */
  end: number;
  hours: HourEvaluation[];
  /** True when the run covers the whole window: it started earlier and an earlier run alerted it. */
  ongoing: boolean;
  spend_nanos: Nanos;
  expected_nanos: Nanos;
  impact_nanos: Nanos;
  severity: "info" | "warning" | "critical";
  /** Scope + incident start: the same for every hour of the incident. */
  key: string;
}

export function medianNanos(values: readonly Nanos[]): Nanos {
  if (values.length === 0) throw new RangeError("median of no values");
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] as Nanos;
  return sorted.length % 2 === 1 ? upper : divRound((sorted[mid - 1] as Nanos) + upper, 2n);
}

/** Median absolute deviation from the median (unscaled). */
export function madNanos(values: readonly Nanos[], median: Nanos = medianNanos(values)): Nanos {
  return medianNanos(values.map((v) => (v >= median ? v - median : median - v)));
}

const samplesAt = (spend: ReadonlyMap<number, Nanos>, hours: readonly number[]): Nanos[] =>
  hours.flatMap((h) => {
    const v = spend.get(h);
    return v === undefined ? [] : [v];
  });

/**
 * A series from the hours it spent something in, up to `until` (the hour judged): every hour from its
 * first with data through `until` is a sample, zero where it spent nothing; the hours before its first
 * data are no samples at all. `dataFrom` is the first hour with any data in what was read: a series
 * that starts after it is new.
 *
 * Why a series' samples start at its own first data and not at the warehouse's: before it, the scope
 * did not exist, and counting those hours as zero spend would have a new scope judged against a
 * median of nothing for weeks, until its own hours fill the hour-of-week slots; with diurnal traffic
 * its incident would start again every morning, one alert a day. Before the warehouse's first data
 * nothing was measured at all, so those hours never count either (a fresh install is not a spike).
 * A new scope's first hours still get one look: newSpendBaseline judges them against no spend, and
 * the minimum impact decides whether new spend is worth an alert.
 */
export function measuredSeries(
  spent: ReadonlyMap<number, Nanos>,
  until: number,
  dataFrom: number,
): SpendSeries {
  const first = Math.min(...spent.keys());
  if (!Number.isFinite(first)) throw new RangeError("a series needs at least one hour with data");
  const spend = new Map<number, Nanos>();
  for (let h = first; h <= until; h += HOUR_MS) spend.set(h, spent.get(h) ?? 0n);
  return first > dataFrom ? { spend, newSince: first } : { spend };
}

/** The baseline of `expected` with `scaledMad` widened to its floors, and its threshold. */
function withSpread(
  basis: BaselineBasis,
  samples: number,
  expected: Nanos,
  scaledMad: Nanos,
  s: AnomalySettings,
): Baseline {
  const ratioFloor = divRound(expected * toMicro(s.madFloorRatio), MICRO);
  let spread = scaledMad;
  if (spread < ratioFloor) spread = ratioFloor;
  if (spread < s.madFloorNanos) spread = s.madFloorNanos;
  return {
    basis,
    samples,
    expected_nanos: expected,
    spread_nanos: spread,
    threshold_nanos: expected + divRound(spread * toMicro(s.k), MICRO),
  };
}

/**
 * The robust baseline of `hour` from the samples before it: the same hour of the week over the last
 * `weeks` weeks; with fewer than `minSamples` of those, the same hour of the day over as many days;
 * with fewer than that (a series under `minSamples` days old), the 24 hours before it whatever their
 * time of day, once the series has a whole day of history: a whole daily cycle, so the spread takes
 * in the day's own swing and only spend beyond the day's range stands out (part of a day would make
 * every morning's rise look like a jump). Null when the series has less than a day of history.
 */
export function baselineAt(
  spend: ReadonlyMap<number, Nanos>,
  hour: number,
  s: AnomalySettings,
): Baseline | null {
  const back = (step: number, count: number) =>
    Array.from({ length: count }, (_, i) => hour - (i + 1) * step * HOUR_MS);
  const candidates: [BaselineBasis, () => Nanos[], (samples: number) => boolean][] = [
    ["hour-of-week", () => samplesAt(spend, back(WEEK_HOURS, s.weeks)), (n) => n >= s.minSamples],
    ["hour-of-day", () => samplesAt(spend, back(DAY_HOURS, 7 * s.weeks)), (n) => n >= s.minSamples],
    ["last-day", () => samplesAt(spend, back(1, DAY_HOURS)), (n) => n === DAY_HOURS && n >= s.minSamples],
  ];
  for (const [basis, read, enough] of candidates) {
    const samples = read();
    if (!enough(samples.length)) continue;
    const expected = medianNanos(samples);
    const scaledMad = divRound(madNanos(samples, expected) * toMicro(s.madScale), MICRO);
    return withSpread(basis, samples.length, expected, scaledMad, s);
  }
  return null;
}

/**
 * A new series' first `minSamples` hours, which have no baseline of their own: judged against no
 * spend (the spread at its floor), so new spend is an anomaly when its impact reaches the minimum.
 * Later hours wait for a baseline: judged against nothing for longer, a new service with daily
 * traffic would be a new incident each morning. Null for any other hour.
 */
export function newSpendBaseline(series: SpendSeries, hour: number, s: AnomalySettings): Baseline | null {
  const { newSince } = series;
  if (newSince === undefined || hour < newSince) return null;
  const history = (hour - newSince) / HOUR_MS;
  return history < s.minSamples ? withSpread("new", history, 0n, 0n, s) : null;
}

/** The hour against its baseline; null when the hour was not read or there is no baseline. */
export function evaluateHour(series: SpendSeries, hour: number, s: AnomalySettings): HourEvaluation | null {
  const actual = series.spend.get(hour);
  if (actual === undefined) return null;
  const baseline = baselineAt(series.spend, hour, s) ?? newSpendBaseline(series, hour, s);
  if (baseline === null) return null;
  const impact = actual - baseline.expected_nanos;
  return {
    hour,
    spend_nanos: actual,
    baseline,
    impact_nanos: impact,
    anomalous: actual > baseline.threshold_nanos && impact >= s.minImpactNanos,
  };
}

/**
 * The hours `detectSpendAnomalies(…, hour, …)` reads, [from, to): the grouping window and every hour
 * its baselines look back to (the hour-of-week slots reach furthest).
 */
export function hoursToRead(hour: number, s: AnomalySettings): { from: number; to: number } {
  return { from: hour - (s.incidentWindowHours - 1 + s.weeks * WEEK_HOURS) * HOUR_MS, to: hour + HOUR_MS };
}

export const scopeLabel = (scope: AnomalyScope): string => `${scope.dimension}=${scope.value}`;

/**
 * The run of consecutive anomalous hours ending at `hour`, looked for within `incidentWindowHours`,
 * oldest first; null when `hour` itself is not anomalous.
 */
export function anomalousRun(series: SpendSeries, hour: number, s: AnomalySettings): HourEvaluation[] | null {
  const hours: HourEvaluation[] = [];
  for (let w = 0; w < s.incidentWindowHours; w++) {
    const evaluation = evaluateHour(series, hour - w * HOUR_MS, s);
    if (evaluation === null || !evaluation.anomalous) break;
    hours.unshift(evaluation);
  }
  return hours.length === 0 ? null : hours;
}

/**
 * The incident `hour` belongs to, if `hour` is anomalous: the run of consecutive anomalous hours
 * ending at it, looked for within `incidentWindowHours`. Impact and severity sum the run's hours.
 */
export function findIncident(series: ScopeSeries, hour: number, s: AnomalySettings): SpendIncident | null {
  const hours = anomalousRun(series, hour, s);
  const first = hours?.[0];
  if (hours === null || first === undefined) return null;
  const spend = hours.reduce((sum, h) => sum + h.spend_nanos, 0n);
  const expected = hours.reduce((sum, h) => sum + h.baseline.expected_nanos, 0n);
  const { scope } = series;
  return {
    scope,
    start: first.hour,
    end: hour + HOUR_MS,
    hours,
    ongoing: hours.length === s.incidentWindowHours,
    spend_nanos: spend,
    expected_nanos: expected,
    impact_nanos: spend - expected,
    severity: severityForImpact(spend - expected, s),
    key: `spend.anomaly:${scopeLabel(scope)}:${scope.currency}:${new Date(first.hour).toISOString()}`,
  };
}

/** What a spend anomaly alert speaks for: one scope, or a combination of scopes, and its run of hours. */
export interface AnomalySubject {
  /** "team=risk", or "team=search, model=query-ranker" for a combination. */
  label: string;
  scope: Alert["scope"];
  currency: string;
  start: number;
  end: number;
  hours: readonly HourEvaluation[];
  spend_nanos: Nanos;
  expected_nanos: Nanos;
  impact_nanos: Nanos;
  severity: Alert["severity"];
  /** The idempotency and thread key. */
  key: string;
  /** Said after the figures. */
  note?: string;
}

const count = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;

/** What a baseline stands on, for people: how many real samples, of which hours. */
export function describeBaseline({ basis, samples }: Baseline): string {
  switch (basis) {
    case "hour-of-week":
      return `the median of the same hour of the week in ${count(samples, "earlier week")}`;
    case "hour-of-day":
      return `the median of the same hour on ${count(samples, "earlier day")}`;
    case "last-day":
      return `the median of the ${samples} hours before, at any time of day; too few earlier days to compare the same hour`;
    case "new":
      return samples === 0
        ? "new spend: the scope had none before"
        : `new spend: ${count(samples, "hour")} of history, too few for a baseline`;
  }
}

/** The alert of an anomaly: keyed and threaded by its subject + incident start. */
export function anomalyAlert(subject: AnomalySubject, now: Date): Alert {
  const money = (n: Nanos) => `${formatAmount(n)} ${subject.currency}`;
  const hours = subject.hours.length;
  const last = subject.hours[hours - 1];
  const each = hours > 1 && last?.baseline.basis !== "new" ? "each hour: " : "";
  const basis = last ? `${each}${describeBaseline(last.baseline)}` : "baseline";
  return {
    idempotency_key: subject.key,
    kind: "spend.anomaly",
    severity: subject.severity,
    title: `Spend anomaly: ${subject.label} +${money(subject.impact_nanos)} over expected`.slice(0, 150),
    summary: (
      `${subject.label} spent ${money(subject.spend_nanos)} in ${hours} hour(s) from ` +
      `${new Date(subject.start).toISOString()}, expected ${money(subject.expected_nanos)} ` +
      `(${basis}).${subject.note === undefined ? "" : ` ${subject.note}`}`
    ).slice(0, 2000),
    action: "Check what changed in this scope's traffic, deployments or jobs since the incident started.",
    scope: subject.scope,
    amounts: {
      spend_nanos: subject.spend_nanos,
      forecast_nanos: subject.expected_nanos,
      currency: subject.currency,
    },
    period: { start: new Date(subject.start).toISOString(), end: new Date(subject.end).toISOString() },
    source: { system: "finops", id: subject.key },
    thread_key: subject.key,
    created_at: now.toISOString(),
  };
}

/** The alert of an incident: keyed and threaded by scope + incident start. */
export function incidentAlert(incident: SpendIncident, now: Date): Alert {
  const { scope } = incident;
  return anomalyAlert(
    {
      ...incident,
      label: scopeLabel(scope),
      scope: { [scope.dimension]: scope.value },
      currency: scope.currency,
    },
    now,
  );
}

export interface SpendAnomalies {
  /** Incidents that include the hour judged and started within the window: alert these. */
  fresh: SpendIncident[];
  /** Incidents that cover the whole window: alerted by an earlier run. */
  ongoing: SpendIncident[];
}

/** Every series' incident at `hour` (the hour start, a whole UTC hour). */
export function detectSpendAnomalies(
  series: readonly ScopeSeries[],
  hour: number,
  s: AnomalySettings,
): SpendAnomalies {
  const result: SpendAnomalies = { fresh: [], ongoing: [] };
  for (const one of series) {
    const incident = findIncident(one, hour, s);
    if (incident) (incident.ongoing ? result.ongoing : result.fresh).push(incident);
  }
  return result;
}
