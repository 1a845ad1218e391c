import type { Nanos } from "../money.ts";
import {
  type KeyValues,
  keyLabel,
  type MatchKey,
  type MatchValues,
  projectKey,
  validateKeys,
} from "./match-key.ts";
import { formatPercent, type Ratio, ratio } from "./ratio.ts";

/** One day's amount for one key, from either side (the streamed estimate or the bill). */
export interface DayAmount {
  /** UTC day, "YYYY-MM-DD". */
  day: string;
  key: MatchValues;
  nanos: Nanos;
}

/**
 * matched: both sides have a (non-zero) amount, or both are zero;
 * unattributed: billed cost that no estimate accounts for;
 * over-estimated: an estimate that no bill confirms.
 */
export type DriftStatus = "matched" | "unattributed" | "over-estimated";

export interface DriftRow {
  day: string;
  key: KeyValues;
  /** keyLabel of `key`: stable, unambiguous, used for sorting and alert scopes. */
  label: string;
  estimated: Nanos;
  billed: Nanos;
  /** billed − estimated: positive when the estimate fell short. */
  drift: Nanos;
  /** drift / billed, exact; null when billed is 0. */
  relative: Ratio | null;
  /** `relative` as a percentage with 2 decimals ("5.00", "-12.35"); null when billed is 0. */
  relativePercent: string | null;
  status: DriftStatus;
}

export interface DriftTotals {
  estimated: Nanos;
  billed: Nanos;
  drift: Nanos;
  relative: Ratio | null;
  relativePercent: string | null;
  counts: Record<DriftStatus, number>;
}

export interface DriftTable {
  keys: readonly MatchKey[];
  rows: DriftRow[];
  totals: DriftTotals;
}

export interface DriftTableOptions {
  /** The match keys, in display order (any non-empty subset of MATCH_KEYS). */
  keys: readonly MatchKey[];
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

function relativeOf(drift: Nanos, billed: Nanos): { relative: Ratio | null; relativePercent: string | null } {
  if (billed === 0n) return { relative: null, relativePercent: null };
  const relative = ratio(drift, billed);
  return { relative, relativePercent: formatPercent(relative) };
}

function statusOf(estimated: Nanos, billed: Nanos): DriftStatus {
  if (estimated === 0n && billed !== 0n) return "unattributed";
  if (billed === 0n && estimated !== 0n) return "over-estimated";
  return "matched";
}

/** Builds a row from its two sums (the one place drift, relative drift and status are computed). */
export function driftRow(
  day: string,
  key: KeyValues,
  label: string,
  estimated: Nanos,
  billed: Nanos,
): DriftRow {
  const drift = billed - estimated;
  return {
    day,
    key,
    label,
    estimated,
    billed,
    drift,
    ...relativeOf(drift, billed),
    status: statusOf(estimated, billed),
  };
}

/** Orders rows by |drift| descending; ties by day, then label, so the order is total and stable. */
export function compareByDrift(a: DriftRow, b: DriftRow): number {
  const da = abs(a.drift);
  const db = abs(b.drift);
  if (da !== db) return da > db ? -1 : 1;
  if (a.day !== b.day) return a.day < b.day ? -1 : 1;
  return a.label < b.label ? -1 : a.label > b.label ? 1 : 0;
}

/** Sums rows into totals: exact, and equal to the sums of the inputs the rows came from. */
export function driftTotals(rows: readonly DriftRow[]): DriftTotals {
  let estimated = 0n;
  let billed = 0n;
  const counts: Record<DriftStatus, number> = { matched: 0, unattributed: 0, "over-estimated": 0 };
  for (const r of rows) {
    estimated += r.estimated;
    billed += r.billed;
    counts[r.status] += 1;
  }
  const drift = billed - estimated;
  return { estimated, billed, drift, ...relativeOf(drift, billed), counts };
}

/**
 * Compares per-day estimates with per-day billed amounts on the chosen match keys. Amounts that
 * share a day and a key are summed first; a key present on one side only still gets a row.
 * Status is decided by the sums: a side whose amounts net to zero counts as absent.
 * Pure and deterministic: the same inputs in any order give the same table.
 */
export function driftTable(
  estimates: readonly DayAmount[],
  billed: readonly DayAmount[],
  options: DriftTableOptions,
): DriftTable {
  const keys = [...options.keys];
  validateKeys(keys);
  const cells = new Map<
    string,
    { day: string; key: KeyValues; label: string; estimated: Nanos; billed: Nanos }
  >();
  const add = (amount: DayAmount, side: "estimated" | "billed"): void => {
    if (!DAY.test(amount.day))
      throw new RangeError(`not a UTC day (YYYY-MM-DD): ${JSON.stringify(amount.day)}`);
    const key = projectKey(amount.key, keys);
    const label = keyLabel(key, keys);
    const id = `${amount.day}|${label}`;
    let cell = cells.get(id);
    if (!cell) {
      cell = { day: amount.day, key, label, estimated: 0n, billed: 0n };
      cells.set(id, cell);
    }
    cell[side] += amount.nanos;
  };
  for (const e of estimates) add(e, "estimated");
  for (const b of billed) add(b, "billed");
  const rows = [...cells.values()]
    .map((c) => driftRow(c.day, c.key, c.label, c.estimated, c.billed))
    .sort(compareByDrift);
  return { keys, rows, totals: driftTotals(rows) };
}

/** The `n` rows that move the total most (largest |drift| first), leaving out rows with no drift. */
export function topContributors(rows: readonly DriftRow[], n = 3): DriftRow[] {
  return rows
    .filter((r) => r.drift !== 0n)
    .sort(compareByDrift)
    .slice(0, Math.max(0, n));
}
