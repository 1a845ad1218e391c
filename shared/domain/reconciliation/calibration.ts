import type { Nanos } from "../money.ts";
import { compareRatios, numberToRatio, type Ratio, ratio, scaleNanos } from "./ratio.ts";

/** One day of one (cloud, instance or SKU family): what was estimated and what was billed. */
export interface CalibrationDay {
  /** UTC day, "YYYY-MM-DD". */
  day: string;
  cloud: string;
  family: string;
  estimated: Nanos;
  billed: Nanos;
}

export interface CalibrationOptions {
  /** Families with fewer distinct days than this (in the lookback) get no factor. */
  minDays: number;
  /** Learn from each family's most recent days only (default: all days given). */
  lookbackDays?: number;
  /** Bounds of a factor, [low, high], low > 0 (default [0.5, 2]). */
  clamp?: readonly [number, number];
}

export interface CalibrationFactor {
  cloud: string;
  family: string;
  /** billed sum / estimated sum over the days used, clamped: exact. */
  factor: Ratio;
  /** Whether the clamp replaced the raw ratio. */
  clamped: "low" | "high" | null;
  /** The days used, ascending. */
  days: string[];
  estimated: Nanos;
  billed: Nanos;
}

export function calibrationKey(cloud: string, family: string): string {
  return JSON.stringify([cloud, family]);
}

/**
 * Learns one factor per (cloud, family) from recent history: the billed sum over the estimated
 * sum, exactly, clamped to `clamp`. A family with fewer than `minDays` days, or whose estimates sum
 * to zero or less, gets none (its estimates then stay as they are). Several rows for the same
 * family and day are summed. Output is sorted by cloud, then family.
 */
export function learnCalibration(
  history: readonly CalibrationDay[],
  options: CalibrationOptions,
): CalibrationFactor[] {
  const [lowN, highN] = options.clamp ?? [0.5, 2];
  const low = numberToRatio(lowN);
  const high = numberToRatio(highN);
  if (low.num <= 0n) throw new RangeError("the lower clamp must be positive, or a factor could flip a sign");
  if (compareRatios(low, high) > 0) throw new RangeError("the lower clamp is above the upper clamp");
  if (!Number.isInteger(options.minDays) || options.minDays < 1)
    throw new RangeError("minDays must be an integer ≥ 1");
  const lookback = options.lookbackDays;
  if (lookback !== undefined && (!Number.isInteger(lookback) || lookback < 1)) {
    throw new RangeError("lookbackDays must be an integer ≥ 1");
  }

  const families = new Map<
    string,
    { cloud: string; family: string; days: Map<string, { e: Nanos; b: Nanos }> }
  >();
  for (const row of history) {
    const id = calibrationKey(row.cloud, row.family);
    let fam = families.get(id);
    if (!fam) {
      fam = { cloud: row.cloud, family: row.family, days: new Map() };
      families.set(id, fam);
    }
    const cell = fam.days.get(row.day) ?? { e: 0n, b: 0n };
    cell.e += row.estimated;
    cell.b += row.billed;
    fam.days.set(row.day, cell);
  }

  const out: CalibrationFactor[] = [];
  for (const fam of families.values()) {
    let days = [...fam.days.keys()].sort();
    if (lookback !== undefined) days = days.slice(-lookback);
    if (days.length < options.minDays) continue;
    let estimated = 0n;
    let billed = 0n;
    for (const d of days) {
      const cell = fam.days.get(d);
      if (!cell) continue;
      estimated += cell.e;
      billed += cell.b;
    }
    if (estimated <= 0n) continue;
    const raw = ratio(billed, estimated);
    const clamped = compareRatios(raw, low) < 0 ? "low" : compareRatios(raw, high) > 0 ? "high" : null;
    const factor = clamped === "low" ? low : clamped === "high" ? high : raw;
    out.push({ cloud: fam.cloud, family: fam.family, factor, clamped, days, estimated, billed });
  }
  return out.sort((a, b) =>
    a.cloud !== b.cloud
      ? a.cloud < b.cloud
        ? -1
        : 1
      : a.family < b.family
        ? -1
        : a.family > b.family
          ? 1
          : 0,
  );
}

/** The factor learned for (cloud, family), if any. */
export function calibrationFor(
  factors: readonly CalibrationFactor[],
  cloud: string,
  family: string,
): CalibrationFactor | undefined {
  return factors.find((f) => f.cloud === cloud && f.family === family);
}

/**
 * An estimate times a factor, exactly, with one rounding (half away from zero). A factor is
 * positive, so the result never has the opposite sign of the estimate.
 */
export function applyCalibration(nanos: Nanos, factor: Ratio): Nanos {
  if (factor.den <= 0n || factor.num < 0n)
    throw new RangeError("a calibration factor must be a non-negative ratio");
  return scaleNanos(nanos, factor);
}
