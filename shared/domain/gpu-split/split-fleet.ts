import {
  type GpuIdentity,
  type GpuUsage,
  type GpuWindow,
  gpuKey,
  type PodRef,
  podKey,
} from "#domain/gpu-split/gpu-usage.ts";
import { type GpuSplit, type GpuSplitStrategy, splitGpuCost } from "#domain/gpu-split/split-gpu-cost.ts";
import type { Nanos } from "#domain/money.ts";

export interface FleetSplitOptions {
  window: GpuWindow;
  stepSeconds: number;
}

export interface FleetOwnerCost {
  owner: PodRef;
  nanos: Nanos;
  /** How many GPUs (or MIG instances) this owner was charged on. */
  gpus: number;
}

export interface FleetGpuSplit extends GpuSplit {
  gpu: GpuIdentity;
  costNanos: Nanos;
}

export interface FleetSplit {
  /** Per owner across GPUs, ordered by namespace/pod/container. */
  owners: FleetOwnerCost[];
  idleNanos: Nanos;
  /** Sum of every GPU's cost: owners + idle === total, to the nano. */
  totalNanos: Nanos;
  /** Each GPU's own split, in input order. */
  gpus: FleetGpuSplit[];
  /** Every GPU's notes, prefixed with the GPU they concern, plus fleet-level ones. */
  notes: string[];
}

export function describeGpu(gpu: GpuIdentity): string {
  const mig = gpu.migProfile === undefined ? "" : ` mig ${gpu.migProfile}#${gpu.migInstanceId ?? "?"}`;
  return `${gpu.node} gpu ${gpu.index}${mig} (${gpu.uuid})`;
}

/**
 * Splits each GPU's cost (`costOf` gives it for the window) with `strategy` and adds the parts
 * up per owner. Conservation holds per GPU and so for the fleet.
 */
export function splitFleet(
  gpus: readonly GpuUsage[],
  costOf: (gpu: GpuIdentity) => Nanos,
  strategy: GpuSplitStrategy,
  options: FleetSplitOptions,
): FleetSplit {
  const byOwner = new Map<string, FleetOwnerCost>();
  const perGpu: FleetGpuSplit[] = [];
  const notes: string[] = [];
  const seen = new Set<string>();
  let idleNanos = 0n;
  let totalNanos = 0n;
  for (const usage of gpus) {
    const key = gpuKey(usage.gpu);
    const label = describeGpu(usage.gpu);
    if (seen.has(key)) notes.push(`${label}: listed more than once; each listing is charged its own cost`);
    seen.add(key);
    const costNanos = costOf(usage.gpu);
    const split = splitGpuCost({
      costNanos,
      window: options.window,
      stepSeconds: options.stepSeconds,
      series: usage.series,
      strategy,
    });
    perGpu.push({ gpu: usage.gpu, costNanos, ...split });
    totalNanos += costNanos;
    idleNanos += split.idleNanos;
    for (const note of split.notes) notes.push(`${label}: ${note}`);
    for (const part of split.parts) {
      const ownerKey = podKey(part.owner);
      const entry = byOwner.get(ownerKey) ?? { owner: part.owner, nanos: 0n, gpus: 0 };
      entry.nanos += part.nanos;
      entry.gpus += 1;
      byOwner.set(ownerKey, entry);
    }
  }
  const owners = [...byOwner.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, entry]) => entry);
  return { owners, idleNanos, totalNanos, gpus: perGpu, notes };
}
