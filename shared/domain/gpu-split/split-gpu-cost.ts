import { type GpuWindow, type PodRef, podKey, type UsageSeries } from "#domain/gpu-split/gpu-usage.ts";
import { type Nanos, splitByWeights } from "#domain/money.ts";

/**
 * Splits one GPU's cost for a window over the pods that held it, from DCGM samples.
 *
 * Time model: the window [from, to) is cut into steps of `stepSeconds` from `from` (the last one
 * may be shorter). A sample at t stands for the step containing t. In each step a pod either held
 * the GPU (it has a sample there) or not; a step with no sample at all is a gap and counts as not
 * held. Several samples of one pod in a step are averaged; utilization is clamped to 0..1.
 *
 * Strategies (weights are integers: parts-per-million of utilization × milliseconds, so the split
 * is exact and parts + idle === cost to the nano):
 * - `utilization`: a pod pays for the busy time it was holding the GPU for; the rest is idle.
 * - `allocation`: a pod pays for the time it held the GPU; time no pod held it is idle.
 * - `even`: the share of the window in which any pod held the GPU is split evenly among the pods
 *   that held it at all; the rest is idle.
 *
 * Two pods holding the GPU in the same step (time-slicing) share that step evenly: DCGM reports
 * device-level utilization on each pod's series, so it cannot say which of them used it. The
 * step's utilization is the highest value reported for it.
 */

export const GPU_SPLIT_STRATEGIES = ["utilization", "allocation", "even"] as const;
export type GpuSplitStrategy = (typeof GPU_SPLIT_STRATEGIES)[number];

export type GpuSplitErrorCode = "invalid";

export class GpuSplitError extends Error {
  override readonly name = "GpuSplitError";
  readonly code: GpuSplitErrorCode;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = "invalid";
  }
}

export interface GpuSplitInput {
  /** The GPU's cost for the window (may be negative for a credit; parts then follow its sign). */
  costNanos: Nanos;
  window: GpuWindow;
  stepSeconds: number;
  series: readonly UsageSeries[];
  strategy: GpuSplitStrategy;
}

export interface GpuCostPart {
  owner: PodRef;
  nanos: Nanos;
  /** Seconds of the window in which this pod held the GPU (alone or shared). */
  heldSeconds: number;
  /** This pod's share of busy GPU-seconds (utilization × time, shared steps divided evenly). */
  busySeconds: number;
}

export interface GpuSplit {
  /** One part per pod with at least one sample in the window, ordered by namespace/pod/container. */
  parts: GpuCostPart[];
  idleNanos: Nanos;
  /** What was odd about the data and how it was treated, in a stable order. */
  notes: string[];
}

const PPM = 1_000_000;
const MAX_STEPS = 50_000_000;

/** Sum (integer ppm) and count of one owner's samples in one step. */
interface StepAcc {
  sum: number;
  count: number;
}

interface Bucket {
  steps: Map<number, StepAcc>;
  times: Set<number>;
}

interface OwnerAcc extends Bucket {
  key: string;
  pod: PodRef;
}

interface Grid {
  fromMs: number;
  windowMs: number;
  stepMs: number;
  steps: number;
}

function gridOf(window: GpuWindow, stepSeconds: number): Grid {
  const fromMs = window.from.getTime();
  const toMs = window.to.getTime();
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) {
    throw new GpuSplitError("window.from and window.to must be valid dates");
  }
  if (toMs <= fromMs) throw new GpuSplitError("window.to must be after window.from");
  if (!Number.isFinite(stepSeconds) || stepSeconds <= 0) {
    throw new GpuSplitError(`stepSeconds must be a positive number, got ${stepSeconds}`);
  }
  const stepMs = Math.round(stepSeconds * 1000);
  if (stepMs < 1 || Math.abs(stepMs - stepSeconds * 1000) > 1e-6) {
    throw new GpuSplitError(`stepSeconds must be a whole number of milliseconds, got ${stepSeconds}`);
  }
  const windowMs = toMs - fromMs;
  const steps = Math.ceil(windowMs / stepMs);
  if (steps > MAX_STEPS) {
    throw new GpuSplitError(`window has ${steps} steps of ${stepSeconds}s; at most ${MAX_STEPS} are allowed`);
  }
  return { fromMs, windowMs, stepMs, steps };
}

function stepDurationMs(grid: Grid, step: number): number {
  return Math.min(grid.stepMs, grid.windowMs - step * grid.stepMs);
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a;
  let y = b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

function fmt(n: number): string {
  return String(Number(n.toPrecision(6)));
}

export function splitGpuCost(input: GpuSplitInput): GpuSplit {
  const { costNanos, strategy } = input;
  if (!GPU_SPLIT_STRATEGIES.includes(strategy)) {
    throw new GpuSplitError(
      `strategy must be one of ${GPU_SPLIT_STRATEGIES.join(", ")}, got ${String(strategy)}`,
    );
  }
  const grid = gridOf(input.window, input.stepSeconds);
  const toMs = grid.fromMs + grid.windowMs;
  const isoOfStep = (step: number) => new Date(grid.fromMs + step * grid.stepMs).toISOString();

  // 1. Bucket every usable sample into its step, per owner (null pod = "not held").
  const owners = new Map<string, OwnerAcc>();
  const unheld: Bucket = { steps: new Map(), times: new Set() };
  let dropped = 0;
  let outside = 0;
  let duplicates = 0;
  let clamped = 0;
  let lowest = Number.POSITIVE_INFINITY;
  let highest = Number.NEGATIVE_INFINITY;
  for (const series of input.series) {
    for (const sample of series.samples) {
      if (!Number.isFinite(sample.t) || !Number.isFinite(sample.utilization)) {
        dropped += 1;
        continue;
      }
      const tMs = Math.round(sample.t * 1000);
      if (tMs < grid.fromMs || tMs >= toMs) {
        outside += 1;
        continue;
      }
      const u = sample.utilization;
      if (u < 0 || u > 1) {
        clamped += 1;
        lowest = Math.min(lowest, u);
        highest = Math.max(highest, u);
      }
      // Integer parts-per-million from here on, so sums do not depend on sample order.
      const ppm = Math.round(Math.min(1, Math.max(0, u)) * PPM);
      let acc: Bucket = unheld;
      if (series.pod !== null) {
        const key = podKey(series.pod);
        const owner = owners.get(key) ?? { key, pod: series.pod, steps: new Map(), times: new Set() };
        owners.set(key, owner);
        acc = owner;
      }
      if (acc.times.has(tMs)) duplicates += 1;
      acc.times.add(tMs);
      const step = Math.floor((tMs - grid.fromMs) / grid.stepMs);
      const slot = acc.steps.get(step) ?? { sum: 0, count: 0 };
      slot.sum += ppm;
      slot.count += 1;
      acc.steps.set(step, slot);
    }
  }
  const ordered = [...owners.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  // 2. Who held the GPU in each step, and how busy it was.
  const holders = new Map<number, { owner: number; ppm: number }[]>();
  ordered.forEach((owner, index) => {
    for (const [step, slot] of owner.steps) {
      const list = holders.get(step) ?? [];
      list.push({ owner: index, ppm: Math.round(slot.sum / slot.count) });
      holders.set(step, list);
    }
  });
  let lcm = 1n;
  for (const list of holders.values()) {
    const k = BigInt(list.length);
    lcm = (lcm * k) / gcd(lcm, k);
  }

  const utilWeights = ordered.map(() => 0n);
  const allocWeights = ordered.map(() => 0n);
  const heldMs = ordered.map(() => 0);
  const busyMs = ordered.map(() => 0);
  let heldUnionMs = 0;
  let sharedSteps = 0;
  for (const [step, list] of holders) {
    const durationMs = stepDurationMs(grid, step);
    const d = BigInt(durationMs);
    const k = BigInt(list.length);
    const used = list.reduce((max, h) => Math.max(max, h.ppm), 0);
    const ppm = BigInt(used);
    if (list.length > 1) sharedSteps += 1;
    heldUnionMs += durationMs;
    for (const h of list) {
      utilWeights[h.owner] = (utilWeights[h.owner] ?? 0n) + (d * ppm * lcm) / k;
      allocWeights[h.owner] = (allocWeights[h.owner] ?? 0n) + (d * BigInt(PPM) * lcm) / k;
      heldMs[h.owner] = (heldMs[h.owner] ?? 0) + durationMs;
      busyMs[h.owner] = (busyMs[h.owner] ?? 0) + (durationMs * used) / PPM / list.length;
    }
  }

  // 3. Weights per strategy; idle is what the capacity leaves, so parts + idle === cost.
  let weights: bigint[];
  let idleWeight: bigint;
  if (strategy === "even") {
    const n = BigInt(ordered.length);
    weights = ordered.map(() => BigInt(heldUnionMs));
    idleWeight = BigInt(grid.windowMs - heldUnionMs) * n;
  } else {
    weights = strategy === "utilization" ? utilWeights : allocWeights;
    const capacity = BigInt(grid.windowMs) * BigInt(PPM) * lcm;
    idleWeight = capacity - weights.reduce((a, b) => a + b, 0n);
  }
  let amounts: Nanos[];
  let idleNanos: Nanos;
  if (ordered.length === 0) {
    amounts = [];
    idleNanos = costNanos;
  } else {
    const split = splitByWeights(costNanos, [...weights, idleWeight]);
    amounts = split.slice(0, ordered.length);
    idleNanos = split[ordered.length] ?? 0n;
  }

  // 4. Notes.
  const notes: string[] = [];
  if (ordered.length === 0) notes.push("no pod held the GPU in the window: all of its cost is idle");
  let observedMs = 0;
  let observedSteps = 0;
  const observed = new Set([...holders.keys(), ...unheld.steps.keys()]);
  for (const step of observed) {
    observedMs += stepDurationMs(grid, step);
    observedSteps += 1;
  }
  if (observedSteps < grid.steps) {
    notes.push(
      `${grid.steps - observedSteps} of ${grid.steps} steps (${fmt((grid.windowMs - observedMs) / 1000)}s) ` +
        "have no sample at all: counted as not held (idle)",
    );
  }
  if (dropped > 0) notes.push(`${dropped} samples with a non-finite time or utilization dropped`);
  if (outside > 0) notes.push(`${outside} samples outside the window ignored`);
  if (clamped > 0) {
    notes.push(
      `${clamped} utilization values outside 0..1 clamped (lowest ${fmt(lowest)}, highest ${fmt(highest)})`,
    );
  }
  if (duplicates > 0) notes.push(`${duplicates} duplicate timestamps (same pod, same time): values averaged`);
  if (sharedSteps > 0) {
    notes.push(
      `${sharedSteps} steps held by more than one pod at once (time-slicing): each such step is split evenly among them`,
    );
  }
  let busyUnheld = 0;
  let busiestUnheld = 0;
  for (const [step, slot] of unheld.steps) {
    const ppm = slot.sum / slot.count;
    if (!holders.has(step) && ppm > 0) {
      busyUnheld += 1;
      busiestUnheld = Math.max(busiestUnheld, ppm / PPM);
    }
  }
  if (busyUnheld > 0) {
    notes.push(
      `GPU busy (up to ${fmt(busiestUnheld * 100)}%) in ${busyUnheld} steps no pod held it ` +
        "(work outside Kubernetes, or pod labels missing): counted as idle",
    );
  }
  for (const owner of ordered) {
    let first = grid.steps;
    let last = -1;
    for (const step of owner.steps.keys()) {
      first = Math.min(first, step);
      last = Math.max(last, step);
    }
    const missing = last - first + 1 - owner.steps.size;
    if (first > 0) notes.push(`${owner.key} first sampled at ${isoOfStep(first)}: appeared mid-window`);
    if (last < grid.steps - 1) {
      notes.push(
        `${owner.key} last sampled at ${isoOfStep(last)}: vanished mid-window, ` +
          `${grid.steps - 1 - last} later steps not charged to it`,
      );
    }
    if (missing > 0) {
      notes.push(`${owner.key} has no sample in ${missing} steps between its first and last: not held then`);
    }
  }

  const parts = ordered.map((owner, i) => ({
    owner: owner.pod,
    nanos: amounts[i] ?? 0n,
    heldSeconds: (heldMs[i] ?? 0) / 1000,
    busySeconds: (busyMs[i] ?? 0) / 1000,
  }));
  return { parts, idleNanos, notes };
}
