import type { Nanos } from "#domain/money.ts";
import { compareRatios, type Ratio, ratio, scaleNanos } from "#domain/reconciliation/ratio.ts";

/**
 * How savings levers combine. Each lever keeps a share of the cost it acts on (spot at $0.88 instead
 * of $2.93 keeps 30%); independent levers taken together keep the product of their shares, so the
 * combined saving is 1 − Π(1 − sᵢ) of the cost, never the sum: 70%, 67%, 35% and 40% of $50,000
 * save about 96%, not 212%. Spot and right-sizing overlap: both cut the hourly rate, and a smaller
 * GPU's spot discount is not the larger one's, so a segment that says what they keep together
 * (`rateKeptTogether`: the smaller GPU's spot rate) has that replace their product, never worse
 * than doing only the better of the two. Exact: shares are ratios and each segment's remainder is
 * rounded once, so savings + remainder = cost to the nano.
 */

export const LEVERS = ["spot", "right_sizing", "quantization", "caching"] as const;
export type Lever = (typeof LEVERS)[number];

/** Cost that the same levers act on in the same way (one placement of one model). */
export interface LeverSegment {
  cost_nanos: Nanos;
  /** The share of the cost each lever keeps, where it applies (absent: the lever does not touch it). */
  keep: Partial<Record<Lever, Ratio>>;
  /**
   * What spot and right-sizing keep when both are done (the smaller GPU's spot rate over today's
   * rate); absent, they are independent and keep the product of their shares.
   */
  rateKeptTogether?: Ratio;
}

const ONE: Ratio = ratio(1n, 1n);

function times(a: Ratio, b: Ratio): Ratio {
  return ratio(a.num * b.num, a.den * b.den);
}

function minRatio(a: Ratio, b: Ratio): Ratio {
  return compareRatios(a, b) <= 0 ? a : b;
}

/** The share of a segment's cost left when `levers` are all done. */
export function keptShare(segment: LeverSegment, levers: Iterable<Lever>): Ratio {
  const chosen = new Set(levers);
  let kept = ONE;
  for (const lever of chosen) {
    if (lever === "spot" || lever === "right_sizing") continue;
    kept = times(kept, segment.keep[lever] ?? ONE);
  }
  const spot = chosen.has("spot") ? segment.keep.spot : undefined;
  const rightSizing = chosen.has("right_sizing") ? segment.keep.right_sizing : undefined;
  if (spot && rightSizing && segment.rateKeptTogether) {
    kept = times(kept, minRatio(segment.rateKeptTogether, minRatio(spot, rightSizing)));
  } else {
    kept = times(times(kept, spot ?? ONE), rightSizing ?? ONE);
  }
  return kept;
}

export function totalCost(segments: readonly LeverSegment[]): Nanos {
  return segments.reduce((sum, s) => sum + s.cost_nanos, 0n);
}

/** What is left of the segments' cost when `levers` are done, each segment rounded once. */
export function remainingAfter(segments: readonly LeverSegment[], levers: Iterable<Lever>): Nanos {
  const chosen = [...levers];
  return segments.reduce((sum, s) => sum + scaleNanos(s.cost_nanos, keptShare(s, chosen)), 0n);
}

/** What `levers` save together: the cost minus what they leave. */
export function savingsOf(segments: readonly LeverSegment[], levers: Iterable<Lever>): Nanos {
  return totalCost(segments) - remainingAfter(segments, levers);
}

/** The cost the lever acts on: the segments where it keeps less than all. */
export function appliesTo(segments: readonly LeverSegment[], lever: Lever): Nanos {
  return segments.reduce((sum, s) => {
    const keep = s.keep[lever];
    return keep && compareRatios(keep, ONE) < 0 ? sum + s.cost_nanos : sum;
  }, 0n);
}

export interface SavingsStep {
  lever: Lever;
  /** What this lever adds on what the levers before it left. */
  added_nanos: Nanos;
  /** What the levers so far save together. */
  cumulative_nanos: Nanos;
}

/** Levers taken in `order`: each one's added saving, and the running total, which ends at the combined saving. */
export function savingsSteps(segments: readonly LeverSegment[], order: readonly Lever[]): SavingsStep[] {
  const cost = totalCost(segments);
  let before = cost;
  return order.map((lever, i) => {
    const after = remainingAfter(segments, order.slice(0, i + 1));
    const step = { lever, added_nanos: before - after, cumulative_nanos: cost - after };
    before = after;
    return step;
  });
}
