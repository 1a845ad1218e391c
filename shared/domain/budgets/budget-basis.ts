import { IDLE_OWNER } from "../allocation/owner.ts";
import { UNALLOCATED } from "../cost-row.ts";
import { divRound, type Nanos } from "../money.ts";
import { type FamilyEstimate, OTHER_FAMILY } from "../reconciliation/bill-grain.ts";
import type { KeyValues, MatchKey } from "../reconciliation/match-key.ts";
import type { Ratio } from "../reconciliation/ratio.ts";
import { type Budget, scopeDimensions } from "./budget-config.ts";
import { HOUR_MS } from "./budget-period.ts";

/**
 * What is known of a budget's spend: the part reconciled against a bill and the part still an
 * estimate (calibrated where a factor exists). The rule, day by UTC day of the period read so far:
 *
 * - A day is reconciled when reconcileDaily has judged it (its drift rows are stored, in the budget's
 *   currency) and the whole day lies in the hours the budget has read (the current day, and a first
 *   day a time zone cuts, stay estimates). When every dimension of the budget's scope is one of the
 *   day's match keys (cloud, namespace, team by default: a team budget, an all-spend budget), what
 *   the drift rows whose key matches the scope estimated is replaced by what they billed: the
 *   reconciled part is their billed amount, and the rest of the budget's spend that day (licences,
 *   provider APIs and shares of fixed costs, clouds with no bill that day: what reconciliation did
 *   not compare) stays an estimate. A scope a bill line cannot name (a model, a business unit) has
 *   its spend on the clouds billed that day reconciled as its calibrated estimate (the factors
 *   learned for that day, as the drift table calibrated it); the rest stays an estimate.
 * - Every other part is an estimate, times the calibration factor of its (cloud, family) where one
 *   was learned: the factors reconcileDaily learned for that day, or for the newest day before it.
 *   A budget's spend on a cloud carries no family, so each day's factors are weighed by the family mix
 *   of the reconciliation's own daily estimates on that cloud that match the scope's cloud,
 *   namespace and team (the broader key where the scope names a model or business unit).
 *
 * With nothing reconciled and no factor, the estimate is the rollup's spend to the nano.
 */

/** A stored drift row of a judged day (the reconciliation store's rows), as the split reads it. */
export interface JudgedRow {
  day: string;
  keys: readonly MatchKey[];
  key: KeyValues;
  currency: string;
  /** What the estimates said for the key: the part of the spend the bill replaces. */
  estimated: Nanos;
  billed: Nanos;
}

/** A calibration factor learned for a day (from the days before it). */
export interface LearnedFactor {
  learnedForDay: string;
  cloud: string;
  family: string;
  factor: Ratio;
}

/** The budget's spend (the one view, its scope and currency) on one UTC day and cloud. */
export interface DayCloudSpend {
  day: string;
  cloud: string | null;
  nanos: Nanos;
}

export interface BasisDay {
  /** UTC day, "YYYY-MM-DD". */
  day: string;
  /** Whether the day was reconciled against a bill (some of its spend rests on the bill). */
  reconciled: boolean;
  reconciled_nanos: Nanos;
  estimate_nanos: Nanos;
  /** The rollup's spend that day, as streamed. */
  rollup_nanos: Nanos;
}

export interface SpendBasis {
  /** Spend resting on a bill: billed amounts, or the calibrated estimate where the scope cannot be billed. */
  reconciled_nanos: Nanos;
  /** Spend still resting on estimates, calibrated where a factor exists. */
  estimate_nanos: Nanos;
  /** The rollup's spend of the same hours, before any of this. */
  rollup_nanos: Nanos;
  /** The days reconciled, ascending. */
  reconciled_days: string[];
  /** Whether a bill could name the scope (its billed amounts were used on reconciled days). */
  billed_scope: boolean;
  /** Whether a calibration factor changed any estimate. */
  calibrated: boolean;
  days: BasisDay[];
}

export interface SplitInput {
  budget: Budget;
  /** The hours the budget read: its period so far. */
  hours: { from: Date; to: Date };
  spend: readonly DayCloudSpend[];
  judged: readonly JudgedRow[];
  factors: readonly LearnedFactor[];
  /** The reconciliation's daily estimates, each in its currency: the family mix. */
  estimates: readonly (FamilyEstimate & { currency: string })[];
}

const DAY_MS = 24 * HOUR_MS;
const ESTIMATE_KEYS = ["cloud", "namespace", "team"] as const;

function utcDays(from: Date, to: Date): string[] {
  const days: string[] = [];
  for (let t = Math.floor(from.getTime() / DAY_MS) * DAY_MS; t < to.getTime(); t += DAY_MS) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/** A scope value as a drift row's key holds it: our placeholders for no owning team are null there. */
function matchValue(dimension: string, value: string): string | null {
  return dimension === "team" && (value === UNALLOCATED || value === IDLE_OWNER) ? null : value;
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x === 0n ? 1n : x;
}

/** The day-by-day split of a budget's spend into reconciled and estimate (the rule above). Pure. */
export function splitBudgetSpend(input: SplitInput): SpendBasis {
  const { budget, hours } = input;
  const currency = budget.currency;
  const dims = scopeDimensions(budget.scope);
  const spendByDay = Map.groupBy(input.spend, (s) => s.day);
  const judgedByDay = Map.groupBy(
    input.judged.filter((r) => r.currency === currency),
    (r) => r.day,
  );
  const factorDays = [...new Set(input.factors.map((f) => f.learnedForDay))].sort();
  const factorsByDay = Map.groupBy(input.factors, (f) => f.learnedForDay);
  const estimateDims = ESTIMATE_KEYS.filter((k) => budget.scope[k] !== undefined);
  const mixByDay = Map.groupBy(
    input.estimates.filter(
      (e) => e.currency === currency && e.nanos > 0n && estimateDims.every((k) => e[k] === budget.scope[k]),
    ),
    (e) => `${e.day}|${e.cloud}`,
  );
  let calibrated = false;
  let billedScope = false;

  /** The factors that apply to `day`: those learned for it, or for the newest day before it. */
  function factorsFor(day: string): LearnedFactor[] {
    let chosen: string | undefined;
    for (const d of factorDays) if (d <= day) chosen = d;
    return chosen === undefined ? [] : (factorsByDay.get(chosen) ?? []);
  }

  /** `nanos` of the budget on `cloud` and `day`, times the family-weighted factor of that day. */
  function calibrate(nanos: Nanos, cloud: string | null, day: string): Nanos {
    if (cloud === null || nanos === 0n) return nanos;
    const factors = factorsFor(day).filter((f) => f.cloud === cloud);
    if (factors.length === 0) return nanos;
    const mix = new Map<string, Nanos>();
    for (const e of mixByDay.get(`${day}|${cloud}`) ?? []) {
      const family = e.family ?? OTHER_FAMILY;
      mix.set(family, (mix.get(family) ?? 0n) + e.nanos);
    }
    let weight = 0n;
    let num = 0n;
    let den = 1n;
    let applied = false;
    for (const [family, w] of mix) {
      const factor = factors.find((f) => f.family === family)?.factor ?? { num: 1n, den: 1n };
      if (factor.num !== factor.den) applied = true;
      weight += w;
      // num/den += w × factor
      const n = num * factor.den + w * factor.num * den;
      const d = den * factor.den;
      const g = gcd(n, d);
      num = n / g;
      den = d / g;
    }
    if (weight === 0n || !applied) return nanos;
    const out = divRound(nanos * num, den * weight);
    if (out !== nanos) calibrated = true;
    return out;
  }

  const days: BasisDay[] = utcDays(hours.from, hours.to).map((day) => {
    const spend = spendByDay.get(day) ?? [];
    const rollup = spend.reduce((sum, s) => sum + s.nanos, 0n);
    const start = Date.parse(`${day}T00:00:00Z`);
    const whole = start >= hours.from.getTime() && start + DAY_MS <= hours.to.getTime();
    const rows = whole ? (judgedByDay.get(day) ?? []) : [];
    if (rows.length === 0) {
      const estimate = spend.reduce((sum, s) => sum + calibrate(s.nanos, s.cloud, day), 0n);
      return { day, reconciled: false, reconciled_nanos: 0n, estimate_nanos: estimate, rollup_nanos: rollup };
    }
    const keys = rows[0]?.keys ?? [];
    const byCloud = keys.includes("cloud");
    const billedClouds = new Set(rows.map((r) => r.key.cloud ?? null));
    const onBill = (cloud: string | null) => cloud !== null && (!byCloud || billedClouds.has(cloud));
    const narrowable = dims.every((d) => (keys as readonly string[]).includes(d));
    let reconciled = 0n;
    let estimate = 0n;
    if (narrowable) {
      billedScope = true;
      let compared = 0n;
      for (const row of rows) {
        const matches = dims.every(
          (d) => (row.key[d as MatchKey] ?? null) === matchValue(d, budget.scope[d] ?? ""),
        );
        if (!matches) continue;
        reconciled += row.billed;
        compared += row.estimated;
      }
      estimate = rollup - compared;
    } else {
      for (const s of spend) {
        const nanos = calibrate(s.nanos, s.cloud, day);
        if (onBill(s.cloud)) reconciled += nanos;
        else estimate += nanos;
      }
    }
    return {
      day,
      reconciled: true,
      reconciled_nanos: reconciled,
      estimate_nanos: estimate,
      rollup_nanos: rollup,
    };
  });

  const sum = (pick: (d: BasisDay) => Nanos) => days.reduce((n, d) => n + pick(d), 0n);
  return {
    reconciled_nanos: sum((d) => d.reconciled_nanos),
    estimate_nanos: sum((d) => d.estimate_nanos),
    rollup_nanos: sum((d) => d.rollup_nanos),
    reconciled_days: days.filter((d) => d.reconciled).map((d) => d.day),
    billed_scope: billedScope,
    calibrated,
    days,
  };
}

/** The split when nothing can be said of the bill: every dollar as the rollup estimated it. */
export function unreconciled(spend: readonly DayCloudSpend[], hours: { from: Date; to: Date }): SpendBasis {
  const byDay = Map.groupBy(spend, (s) => s.day);
  const days = utcDays(hours.from, hours.to).map((day): BasisDay => {
    const nanos = (byDay.get(day) ?? []).reduce((n, s) => n + s.nanos, 0n);
    return { day, reconciled: false, reconciled_nanos: 0n, estimate_nanos: nanos, rollup_nanos: nanos };
  });
  const total = days.reduce((n, d) => n + d.rollup_nanos, 0n);
  return {
    reconciled_nanos: 0n,
    estimate_nanos: total,
    rollup_nanos: total,
    reconciled_days: [],
    billed_scope: false,
    calibrated: false,
    days,
  };
}
