import type { Nanos } from "#domain/money.ts";

/** The scope dimensions whose hourly spend is watched. */
export const ANOMALY_DIMENSIONS = ["team", "model", "business_unit"] as const;
export type AnomalyDimension = (typeof ANOMALY_DIMENSIONS)[number];

const USD = 1_000_000_000n;

/** How spend anomalies and training runaways are judged. Amounts are in the scope's own currency. */
export interface AnomalySettings {
  /** Which dimensions are scopes (each value of each dimension is one series). */
  dimensions: readonly AnomalyDimension[];
  /** Weeks of history behind the hour-of-week baseline. Default 4. */
  weeks: number;
  /**
   * Samples a baseline needs before it is used; fewer falls back (hour of the week → hour of the day →
   * the whole day before → none), and a new scope's first this-many hours are judged against no
   * spend (spend-anomalies.ts). Default 3.
   */
  minSamples: number;
  /** An hour is anomalous above median + k × scaled MAD. Default 5. */
  k: number;
  /** MAD × this estimates a standard deviation. Default 1.4826. */
  madScale: number;
  /** The scaled MAD is at least this, so a flat series does not fire on noise. Default $1. */
  madFloorNanos: Nanos;
  /** ...and at least this share of the median (0.1 = 10%). Default 0.1. */
  madFloorRatio: number;
  /** And spend − expected must be at least this. Default $20. */
  minImpactNanos: Nanos;
  /** Impact from which the alert is a warning (below: info). Default $100. */
  warningImpactNanos: Nanos;
  /** Impact from which the alert is critical. Default $1,000. */
  criticalImpactNanos: Nanos;
  /**
   * Hours evaluated back from the hour judged, to find where its incident started (grouping).
   * An incident that already covers the whole window was alerted by an earlier run. Default 6.
   */
  incidentWindowHours: number;
  /** A running job is a runaway past this multiple of its peers' median cost. Default 10. */
  runawayMultiple: number;
  /** Finished peer jobs (same team, model, currency) needed to judge a job. Default 3. */
  runawayMinPeers: number;
  /** Hours of training jobs read for peers and running jobs. Default 14 days. */
  jobLookbackHours: number;
}

export const DEFAULT_ANOMALY_SETTINGS: Readonly<AnomalySettings> = Object.freeze({
  dimensions: ANOMALY_DIMENSIONS,
  weeks: 4,
  minSamples: 3,
  k: 5,
  madScale: 1.4826,
  madFloorNanos: 1n * USD,
  madFloorRatio: 0.1,
  minImpactNanos: 20n * USD,
  warningImpactNanos: 100n * USD,
  criticalImpactNanos: 1_000n * USD,
  incidentWindowHours: 6,
  runawayMultiple: 10,
  runawayMinPeers: 3,
  jobLookbackHours: 14 * 24,
});

export class AnomalySettingsError extends Error {
  override readonly name = "AnomalySettingsError";
  readonly code = "invalid";
}

const wholeAtLeast = (name: string, value: number, min: number) => {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new AnomalySettingsError(`${name} must be a whole number >= ${min}, got ${value}`);
  }
};
const positive = (name: string, value: number) => {
  if (!Number.isFinite(value) || value <= 0) {
    throw new AnomalySettingsError(`${name} must be a positive number, got ${value}`);
  }
};
const notNegative = (name: string, value: Nanos | number) => {
  if (typeof value === "number" ? !Number.isFinite(value) || value < 0 : value < 0n) {
    throw new AnomalySettingsError(`${name} must not be negative, got ${value}`);
  }
};

/** The defaults with `overrides` applied, validated. */
export function anomalySettings(overrides: Partial<AnomalySettings> = {}): AnomalySettings {
  const s: AnomalySettings = { ...DEFAULT_ANOMALY_SETTINGS, ...overrides };
  if (s.dimensions.length === 0 || s.dimensions.some((d) => !ANOMALY_DIMENSIONS.includes(d))) {
    throw new AnomalySettingsError(`dimensions must be some of ${ANOMALY_DIMENSIONS.join(", ")}`);
  }
  wholeAtLeast("weeks", s.weeks, 1);
  wholeAtLeast("minSamples", s.minSamples, 1);
  wholeAtLeast("incidentWindowHours", s.incidentWindowHours, 1);
  wholeAtLeast("runawayMinPeers", s.runawayMinPeers, 1);
  wholeAtLeast("jobLookbackHours", s.jobLookbackHours, 1);
  positive("k", s.k);
  positive("madScale", s.madScale);
  positive("runawayMultiple", s.runawayMultiple);
  notNegative("madFloorRatio", s.madFloorRatio);
  notNegative("madFloorNanos", s.madFloorNanos);
  notNegative("minImpactNanos", s.minImpactNanos);
  notNegative("warningImpactNanos", s.warningImpactNanos);
  notNegative("criticalImpactNanos", s.criticalImpactNanos);
  if (s.criticalImpactNanos < s.warningImpactNanos) {
    throw new AnomalySettingsError("criticalImpactNanos must be at least warningImpactNanos");
  }
  return s;
}

/** An exact factor for bigint arithmetic: `value` as a fraction over 10^6. */
export const MICRO = 1_000_000n;
export const toMicro = (value: number): bigint => BigInt(Math.round(value * 1_000_000));

/** info below the warning impact, warning below the critical one, else critical. */
export function severityForImpact(impact: Nanos, s: AnomalySettings): "info" | "warning" | "critical" {
  if (impact >= s.criticalImpactNanos) return "critical";
  if (impact >= s.warningImpactNanos) return "warning";
  return "info";
}
