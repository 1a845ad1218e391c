import { addDays } from "#domain/billing/billed-line.ts";
import { type Nanos, splitByWeights } from "#domain/money.ts";
import {
  type BilledAmount,
  estimateMatchValues,
  type FamilyEstimate,
  matchResources,
  OTHER_FAMILY,
  ownersFromNamespaces,
  type ResourceShare,
} from "./bill-grain.ts";
import {
  applyCalibration,
  type CalibrationDay,
  type CalibrationFactor,
  calibrationFor,
  learnCalibration,
} from "./calibration.ts";
import {
  type DayAmount,
  type DriftRow,
  type DriftTotals,
  driftRow,
  driftTable,
  driftTotals,
} from "./drift-table.ts";
import { keyLabel, type MatchKey, projectKey } from "./match-key.ts";

export interface ReconciledRow extends DriftRow {
  /** The estimate with each family's calibration factor applied (the estimate where none applies). */
  reconciled: Nanos;
  /** billed − reconciled. */
  reconciledDrift: Nanos;
  reconciledRelativePercent: string | null;
}

export interface DayTotals extends DriftTotals {
  reconciled: Nanos;
  reconciledDrift: Nanos;
  reconciledRelativePercent: string | null;
  /** Σ |drift| over the rows: how far the estimates are off key by key (errors of opposite sign do not cancel). */
  absDrift: Nanos;
  /** Σ |reconciledDrift| over the rows. */
  absReconciledDrift: Nanos;
}

export interface DayReconciliation {
  day: string;
  keys: readonly MatchKey[];
  /** Largest |drift| first. */
  rows: ReconciledRow[];
  totals: DayTotals;
  /** The factors learned for this day from the days before it (those applied to its estimates). */
  factors: CalibrationFactor[];
  /** Clouds with estimates that day but no bill line: not reconciled (their bill is not in, or no source covers them). */
  unbilledClouds: string[];
}

export interface CalibrationSettings {
  /** Days before a day whose history its factors are learned from. */
  lookbackDays: number;
  minDays: number;
  clamp?: readonly [number, number];
}

export interface ReconcileDaysInput {
  /** The days to reconcile. */
  days: readonly string[];
  /** Estimates of those days and of the lookback before each. */
  estimates: readonly FamilyEstimate[];
  /** The bill of the same days. */
  billed: readonly BilledAmount[];
  keys: readonly MatchKey[];
  calibration: CalibrationSettings;
}

const abs = (n: bigint): bigint => (n < 0n ? -n : n);

/** "day|cloud" for every day and cloud the bill has a line for. */
function billedClouds(billed: readonly DayAmount[]): Set<string> {
  return new Set(billed.map((b) => `${b.day}|${b.key.cloud ?? ""}`));
}

interface KeyedEstimate {
  estimate: FamilyEstimate;
  family: string;
  label: string;
}

function keyed(estimates: readonly FamilyEstimate[], keys: readonly MatchKey[], bills: Set<string>) {
  const out: KeyedEstimate[] = [];
  for (const estimate of estimates) {
    if (!bills.has(`${estimate.day}|${estimate.cloud}`)) continue;
    const label = keyLabel(projectKey(estimateMatchValues(estimate), keys), keys);
    out.push({ estimate, family: estimate.family ?? OTHER_FAMILY, label });
  }
  return out;
}

/**
 * The calibration history of the days given: per day and (cloud, family), the estimate and the
 * part of the bill it accounts for. A bill line carries no family, so each key's billed amount is
 * attributed to the families of that key's estimates in proportion to their (positive) estimates,
 * every nano handed out; a share of a line matched at a resource (matchResources) goes to its own
 * estimate's family, and the key's other lines to the estimates no such share reached (to all of
 * them where every one was reached). Billed cost with no estimate behind its key (unattributed) teaches no
 * family; an estimate whose key has no bill teaches its family that it cost nothing. Days on which
 * a cloud has no bill line at all (not in yet, or no source for it) are left out for that cloud.
 */
export function calibrationHistory(
  estimates: readonly FamilyEstimate[],
  billed: readonly DayAmount[],
  keys: readonly MatchKey[],
  resourceShares: readonly ResourceShare[] = [],
): CalibrationDay[] {
  const bills = billedClouds([...billed, ...resourceShares.map((s) => s.amount)]);
  const pinned = new Map<FamilyEstimate, Nanos>();
  for (const { estimate, amount } of resourceShares)
    pinned.set(estimate, (pinned.get(estimate) ?? 0n) + amount.nanos);
  const billedByKey = new Map<string, Nanos>();
  for (const b of billed) {
    const id = `${b.day}|${keyLabel(projectKey(b.key, keys), keys)}`;
    billedByKey.set(id, (billedByKey.get(id) ?? 0n) + b.nanos);
  }
  const history: CalibrationDay[] = [];
  for (const [id, group] of Map.groupBy(
    keyed(estimates, keys, bills),
    (k) => `${k.estimate.day}|${k.label}`,
  )) {
    // The key's other lines go to its estimates no resource's line reached, where it has some.
    const positive = (k: KeyedEstimate) => (k.estimate.nanos > 0n ? k.estimate.nanos : 0n);
    const unreached = group.map((k) => (pinned.has(k.estimate) ? 0n : positive(k)));
    const weights = unreached.some((w) => w > 0n) ? unreached : group.map(positive);
    if (weights.every((w) => w === 0n) && group.every((k) => !pinned.has(k.estimate))) continue;
    const shares = splitByWeights(billedByKey.get(id) ?? 0n, weights);
    group.forEach((k, i) => {
      history.push({
        day: k.estimate.day,
        cloud: k.estimate.cloud,
        family: k.family,
        estimated: k.estimate.nanos,
        billed: (shares[i] ?? 0n) + (pinned.get(k.estimate) ?? 0n),
      });
    });
  }
  return history;
}

function reconciledRow(row: DriftRow, reconciled: Nanos): ReconciledRow {
  const calibrated = driftRow(row.day, row.key, row.label, reconciled, row.billed);
  return {
    ...row,
    reconciled,
    reconciledDrift: calibrated.drift,
    reconciledRelativePercent: calibrated.relativePercent,
  };
}

function dayTotals(day: string, rows: readonly ReconciledRow[], totals: DriftTotals): DayTotals {
  let reconciled = 0n;
  let absDrift = 0n;
  let absReconciledDrift = 0n;
  for (const r of rows) {
    reconciled += r.reconciled;
    absDrift += abs(r.drift);
    absReconciledDrift += abs(r.reconciledDrift);
  }
  const calibrated = driftRow(day, {}, "all", reconciled, totals.billed);
  return {
    ...totals,
    reconciled,
    reconciledDrift: calibrated.drift,
    reconciledRelativePercent: calibrated.relativePercent,
    absDrift,
    absReconciledDrift,
  };
}

/**
 * Reconciles each day: its estimates against its bill at the bill's own grain, then on the match
 * keys (the drift table): a line naming a resource that estimates ran on is split among them
 * (matchResources), a line naming only a namespace takes the team that runs there
 * (ownersFromNamespaces), the rest is matched on the keys as it is. Side by side, its estimates
 * calibrated by the factors learned from the `lookbackDays` days before it (never from itself). Only clouds with a bill that day take part. Pure and deterministic.
 */
export function reconcileDays(input: ReconcileDaysInput): DayReconciliation[] {
  const { keys, calibration } = input;
  const grain = matchResources(input.billed, input.estimates);
  const rest = ownersFromNamespaces(grain.rest, input.estimates);
  const billed = [...rest, ...grain.matched.map((s) => s.amount)];
  const bills = billedClouds(billed);
  const history = calibrationHistory(input.estimates, rest, keys, grain.matched);
  const estimatesByDay = Map.groupBy(keyed(input.estimates, keys, bills), (k) => k.estimate.day);
  const billedByDay = Map.groupBy(billed, (b) => b.day);
  const allByDay = Map.groupBy(input.estimates, (e) => e.day);

  return [...new Set(input.days)].sort().map((day) => {
    const from = addDays(day, -calibration.lookbackDays);
    const factors = learnCalibration(
      history.filter((h) => h.day >= from && h.day < day),
      { minDays: calibration.minDays, ...(calibration.clamp ? { clamp: calibration.clamp } : {}) },
    );
    const estimates = estimatesByDay.get(day) ?? [];
    const table = driftTable(
      estimates.map((k) => ({ day, key: estimateMatchValues(k.estimate), nanos: k.estimate.nanos })),
      billedByDay.get(day) ?? [],
      { keys },
    );
    const reconciled = new Map<string, Nanos>();
    for (const k of estimates) {
      const factor = calibrationFor(factors, k.estimate.cloud, k.family);
      const nanos = factor ? applyCalibration(k.estimate.nanos, factor.factor) : k.estimate.nanos;
      reconciled.set(k.label, (reconciled.get(k.label) ?? 0n) + nanos);
    }
    // A key whose estimate and bill are both zero (a charge and its credit) says nothing: left out.
    const rows = table.rows
      .filter((row) => row.estimated !== 0n || row.billed !== 0n)
      .map((row) => reconciledRow(row, reconciled.get(row.label) ?? 0n));
    const unbilledClouds = [
      ...new Set((allByDay.get(day) ?? []).map((e) => e.cloud).filter((c) => !bills.has(`${day}|${c}`))),
    ].sort();
    return { day, keys, rows, totals: dayTotals(day, rows, driftTotals(rows)), factors, unbilledClouds };
  });
}
