import { DIMENSIONS, type Dimension } from "#domain/cost-row.ts";
import { type Nanos, splitByWeights } from "#domain/money.ts";

/** The owner columns of the one view: every attribution dimension, null where the cost names none. */
export type Owners = Readonly<Record<Dimension, string | null>>;

/** One owner's cost in one charge period, as the one view (the report's) attributes it. */
export interface AttributedCost {
  periodStart: Date;
  owners: Owners;
  currency: string;
  cost_nanos: Nanos;
}

/**
 * Part of what an owner's cost in a charge period is made of: the rollup's cost of one event type,
 * or one training job's charged cost. Only the proportions matter: the parts split the view's figure.
 */
export interface CostPart {
  periodStart: Date;
  owners: Owners;
  currency: string;
  event_type: string;
  job_id: string | null;
  region: string | null;
  weight_nanos: Nanos;
}

/** One row of the export: an owner's attributed cost in a period, for one event type (and job). */
export interface ExportLine {
  periodStart: Date;
  owners: Owners;
  currency: string;
  cost_nanos: Nanos;
  /** Null when the rollup holds nothing this cost is made of (its cost is kept whole). */
  event_type: string | null;
  job_id: string | null;
  region: string | null;
}

const ownerKey = (periodStart: Date, owners: Owners, currency: string): string =>
  JSON.stringify([periodStart.getTime(), ...DIMENSIONS.map((d) => owners[d]), currency]);

const byText = (a: string | null, b: string | null): number =>
  a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1;

function partOrder(a: CostPart, b: CostPart): number {
  return byText(a.event_type, b.event_type) || byText(a.job_id, b.job_id) || byText(a.region, b.region);
}

/**
 * Splits each attributed cost over its parts in proportion to their (non-negative) weights, every
 * nano handed out by largest remainder, so the lines of a cost add up to it exactly. A cost whose
 * parts weigh nothing goes whole to its first part; one with no parts stays one line without an
 * event type. Lines of zero cost are left out.
 */
export function splitIntoLines(costs: readonly AttributedCost[], parts: readonly CostPart[]): ExportLine[] {
  const partsByKey = new Map<string, CostPart[]>();
  for (const part of parts) {
    const key = ownerKey(part.periodStart, part.owners, part.currency);
    const list = partsByKey.get(key);
    if (list) list.push(part);
    else partsByKey.set(key, [part]);
  }
  return costs.flatMap((cost): ExportLine[] => {
    const mine = (partsByKey.get(ownerKey(cost.periodStart, cost.owners, cost.currency)) ?? []).sort(
      partOrder,
    );
    const { periodStart, owners, currency } = cost;
    if (mine.length === 0) {
      if (cost.cost_nanos === 0n) return [];
      return [{ ...cost, event_type: null, job_id: null, region: null }];
    }
    const weights = mine.map((p) => (p.weight_nanos > 0n ? p.weight_nanos : 0n));
    const shares = weights.some((w) => w > 0n)
      ? splitByWeights(cost.cost_nanos, weights)
      : mine.map((_, i) => (i === 0 ? cost.cost_nanos : 0n));
    return mine.flatMap((part, i) => {
      const share = shares[i] ?? 0n;
      if (share === 0n) return [];
      const { event_type, job_id, region } = part;
      return [{ periodStart, owners, currency, cost_nanos: share, event_type, job_id, region }];
    });
  });
}
