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
 * A scope's hourly spend: hour start (ms, UTC, whole hour) → nanos. Every hour that was read is
 * present (zero when the scope spent nothing); an hour not read is absent and never counts.
 */
export interface ScopeSeries {
  scope: AnomalyScope;
  spend: ReadonlyMap<number, Nanos>;
}

export type BaselineBasis = "hour-of-week" | "hour-of-day" | "overall";

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
 * The robust baseline of `hour` from the hours before it: the same hour of the week over the last
 * `weeks` weeks; with fewer than `minSamples` of those, the same hour of the day over as many days;
 * then every earlier hour read; null when even that is too few.
 */
export function baselineAt(
  spend: ReadonlyMap<number, Nanos>,
  hour: number,
  s: AnomalySettings,
): Baseline | null {
  const back = (step: number, count: number) =>
    Array.from({ length: count }, (_, i) => hour - (i + 1) * step * HOUR_MS);
  const candidates: [BaselineBasis, () => Nanos[]][] = [
    ["hour-of-week", () => samplesAt(spend, back(WEEK_HOURS, s.weeks))],
    ["hour-of-day", () => samplesAt(spend, back(DAY_HOURS, 7 * s.weeks))],
    ["overall", () => [...spend].filter(([h]) => h < hour).map(([, v]) => v)],
  ];
  for (const [basis, read] of candidates) {
    const samples = read();
    if (samples.length < s.minSamples) continue;
    const expected = medianNanos(samples);
    const scaledMad = divRound(madNanos(samples, expected) * toMicro(s.madScale), MICRO);
    const ratioFloor = divRound(expected * toMicro(s.madFloorRatio), MICRO);
    let spread = scaledMad;
    if (spread < ratioFloor) spread = ratioFloor;
    if (spread < s.madFloorNanos) spread = s.madFloorNanos;
    const threshold = expected + divRound(spread * toMicro(s.k), MICRO);
    return {
      basis,
      samples: samples.length,
      expected_nanos: expected,
      spread_nanos: spread,
      threshold_nanos: threshold,
    };
  }
  return null;
}

/** The hour against its baseline; null when the hour was not read or there is no baseline. */
export function evaluateHour(
  spend: ReadonlyMap<number, Nanos>,
  hour: number,
  s: AnomalySettings,
): HourEvaluation | null {
  const actual = spend.get(hour);
  if (actual === undefined) return null;
  const baseline = baselineAt(spend, hour, s);
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

/** The hours `detectSpendAnomalies(…, hour, …)` reads: the window and each window hour's baseline slots. */
export function hoursToRead(hour: number, s: AnomalySettings): number[] {
  const hours = new Set<number>();
  for (let w = 0; w < s.incidentWindowHours; w++) {
    const h = hour - w * HOUR_MS;
    hours.add(h);
    for (let k = 1; k <= s.weeks; k++) hours.add(h - k * WEEK_HOURS * HOUR_MS);
    for (let d = 1; d < 7; d++) hours.add(h - d * DAY_HOURS * HOUR_MS);
  }
  return [...hours].sort((a, b) => a - b);
}

export const scopeLabel = (scope: AnomalyScope): string => `${scope.dimension}=${scope.value}`;

/**
 * The run of consecutive anomalous hours ending at `hour`, looked for within `incidentWindowHours`,
 * oldest first; null when `hour` itself is not anomalous.
 */
export function anomalousRun(
  spend: ReadonlyMap<number, Nanos>,
  hour: number,
  s: AnomalySettings,
): HourEvaluation[] | null {
  const hours: HourEvaluation[] = [];
  for (let w = 0; w < s.incidentWindowHours; w++) {
    const evaluation = evaluateHour(spend, hour - w * HOUR_MS, s);
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
  const hours = anomalousRun(series.spend, hour, s);
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

/** The alert of an anomaly: keyed and threaded by its subject + incident start. */
export function anomalyAlert(subject: AnomalySubject, now: Date): Alert {
  const money = (n: Nanos) => `${formatAmount(n)} ${subject.currency}`;
  const hours = subject.hours.length;
  const last = subject.hours[hours - 1];
  const basis = last ? `${last.baseline.basis} median of ${last.baseline.samples} samples` : "baseline";
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
