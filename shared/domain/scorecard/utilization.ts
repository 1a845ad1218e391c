import type { GpuUsage, PodRef } from "#domain/gpu-split/gpu-usage.ts";
import { gpuSpecOfDcgmModel } from "./gpu-specs.ts";

/** How busy a model kept one kind of GPU, from the DCGM samples of its pods. */
export interface GpuUtilization {
  /** The catalog name of the GPU (see gpu-specs.ts). */
  gpu: string;
  /** 95th percentile of the samples' utilization, 0..1. */
  p95: number;
  /** Largest frame buffer use seen, MiB; null when DCGM reported none. */
  peakMemoryMiB: number | null;
  samples: number;
}

/** Per model, per GPU name. */
export type ModelUtilization = ReadonlyMap<string, ReadonlyMap<string, GpuUtilization>>;

export interface UtilizationOutcome {
  byModel: ModelUtilization;
  /** Samples that could not be given to a model (or a known GPU), and why: shown as an assumption. */
  unattributed: { pods: number; reasons: string[] };
}

/** The p-th percentile (nearest rank) of non-empty values. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? 0;
}

/**
 * Gives each pod's DCGM samples to a model: the pod's namespace when only one model ran GPU work
 * there in the window, else a pod named after the model ("<model>-…"). MIG slices are left out
 * (a slice is right-sized by its profile, not by a smaller GPU), as are times no pod held a GPU.
 */
export function utilizationByModel(
  usage: readonly GpuUsage[],
  modelsByNamespace: ReadonlyMap<string, ReadonlySet<string>>,
  models: readonly string[],
): UtilizationOutcome {
  const samples = new Map<string, { util: number[]; peak: number | null }>();
  const unattributedPods = new Set<string>();
  const reasons = new Set<string>();
  const modelOf = (pod: PodRef): string | undefined => {
    const owners = modelsByNamespace.get(pod.namespace);
    if (owners?.size === 1) return [...owners][0];
    return models.find((model) => pod.pod === model || pod.pod.startsWith(`${model}-`));
  };
  for (const { gpu, series } of usage) {
    if (gpu.migProfile !== undefined) continue;
    const spec = gpuSpecOfDcgmModel(gpu.modelName);
    for (const { pod, samples: points } of series) {
      if (pod === null || points.length === 0) continue;
      const model = modelOf(pod);
      if (model === undefined || spec === undefined) {
        unattributedPods.add(`${pod.namespace}/${pod.pod}`);
        reasons.add(
          model === undefined
            ? `pods in namespace ${pod.namespace} match no single model`
            : `GPU model ${gpu.modelName} is not in the GPU table`,
        );
        continue;
      }
      const key = `${model}\u0000${spec.name}`;
      const acc = samples.get(key) ?? { util: [], peak: null };
      for (const point of points) {
        acc.util.push(point.utilization);
        if (point.fbUsedMiB !== undefined) acc.peak = Math.max(acc.peak ?? 0, point.fbUsedMiB);
      }
      samples.set(key, acc);
    }
  }
  const byModel = new Map<string, Map<string, GpuUtilization>>();
  for (const [key, acc] of samples) {
    const [model = "", gpu = ""] = key.split("\u0000");
    const perGpu = byModel.get(model) ?? new Map<string, GpuUtilization>();
    perGpu.set(gpu, {
      gpu,
      p95: Math.round(percentile(acc.util, 0.95) * 10_000) / 10_000,
      peakMemoryMiB: acc.peak,
      samples: acc.util.length,
    });
    byModel.set(model, perGpu);
  }
  return { byModel, unattributed: { pods: unattributedPods.size, reasons: [...reasons].sort() } };
}
