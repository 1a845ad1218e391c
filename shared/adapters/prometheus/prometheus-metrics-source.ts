import {
  DEFAULT_EXPORTER_CONTAINERS,
  DEFAULT_NODE_LABELS,
  gpuIdentityOf,
  podOf,
  sampleValue,
} from "#adapters/prometheus/dcgm-labels.ts";
import { createPrometheusClient, type MatrixSeries } from "#adapters/prometheus/prometheus-client.ts";
import { gpuKey, podKey } from "#domain/gpu-split/gpu-usage.ts";
import {
  type GpuIdentity,
  type GpuUsage,
  type GpuWindow,
  type MetricsSource,
  MetricsSourceError,
  type PodRef,
  type UsageSample,
} from "#ports/metrics-source.ts";

/**
 * MetricsSource over dcgm-exporter metrics stored in Prometheus. Per window it runs three range
 * queries (chunked under Prometheus' 11,000 points per series) and joins them per GPU, pod and
 * timestamp: utilization is DCGM_FI_PROF_GR_ENGINE_ACTIVE (ratio) where that sample exists, else
 * DCGM_FI_DEV_GPU_UTIL / 100 (never for MIG instances, where GPU_UTIL does not apply); frame
 * buffer use comes from DCGM_FI_DEV_FB_USED. NaN, infinities and DCGM sentinels are dropped.
 */

export const DCGM_METRICS = {
  engineActive: "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
  gpuUtil: "DCGM_FI_DEV_GPU_UTIL",
  fbUsed: "DCGM_FI_DEV_FB_USED",
} as const;

/** Prometheus refuses range queries of more than this many points per series. */
export const PROMETHEUS_MAX_POINTS = 11_000;

export interface PrometheusMetricsSourceOptions {
  baseUrl: string;
  fetch?: typeof globalThis.fetch;
  /** Per HTTP request. */
  timeoutMs: number;
  headers?: Record<string, string>;
  /** Extra PromQL label matchers for every query, e.g. `cluster="prod"`. */
  matchers?: string;
  /** Labels naming the node, first non-empty wins (default Hostname, hostname). */
  nodeLabels?: readonly string[];
  /** Containers that are dcgm-exporter itself; a series "held" by one of them is held by no pod. */
  exporterContainers?: readonly string[];
  maxPointsPerQuery?: number;
}

interface Point {
  engine?: number;
  util?: number;
  fb?: number;
}

interface SeriesAcc {
  pod: PodRef | null;
  points: Map<number, Point>;
}

interface GpuAcc {
  gpu: GpuIdentity;
  series: Map<string, SeriesAcc>;
}

function compareGpus(a: GpuIdentity, b: GpuIdentity): number {
  if (a.node !== b.node) return a.node < b.node ? -1 : 1;
  if (a.index !== b.index) return a.index - b.index;
  const ka = gpuKey(a);
  const kb = gpuKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export function createPrometheusMetricsSource(options: PrometheusMetricsSourceOptions): MetricsSource {
  const client = createPrometheusClient({
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  });
  const maxPoints = options.maxPointsPerQuery ?? PROMETHEUS_MAX_POINTS;
  const nodeLabels = options.nodeLabels ?? DEFAULT_NODE_LABELS;
  const exporterContainers = options.exporterContainers ?? DEFAULT_EXPORTER_CONTAINERS;
  const selector = options.matchers ? `{${options.matchers}}` : "";

  async function rangeOf(metric: string, fromMs: number, stepMs: number, steps: number) {
    const out: MatrixSeries[] = [];
    for (let first = 0; first < steps; first += maxPoints) {
      const last = Math.min(steps, first + maxPoints) - 1;
      out.push(
        ...(await client.queryRange({
          query: `${metric}${selector}`,
          start: (fromMs + first * stepMs) / 1000,
          end: (fromMs + last * stepMs) / 1000,
          stepSeconds: stepMs / 1000,
        })),
      );
    }
    return out;
  }

  return {
    async gpuUsage(window: GpuWindow, stepSeconds: number): Promise<GpuUsage[]> {
      const fromMs = window.from.getTime();
      const toMs = window.to.getTime();
      if (!(toMs > fromMs)) throw new MetricsSourceError("invalid", "window.to must be after window.from");
      const stepMs = Math.round(stepSeconds * 1000);
      if (!(stepMs >= 1) || Math.abs(stepMs - stepSeconds * 1000) > 1e-6) {
        throw new MetricsSourceError(
          "invalid",
          `stepSeconds must be a positive whole number of ms, got ${stepSeconds}`,
        );
      }
      const steps = Math.ceil((toMs - fromMs) / stepMs);
      const [engine, util, fb] = await Promise.all([
        rangeOf(DCGM_METRICS.engineActive, fromMs, stepMs, steps),
        rangeOf(DCGM_METRICS.gpuUtil, fromMs, stepMs, steps),
        rangeOf(DCGM_METRICS.fbUsed, fromMs, stepMs, steps),
      ]);

      const gpus = new Map<string, GpuAcc>();
      const add = (result: MatrixSeries[], field: keyof Point, scale: number) => {
        for (const { metric, values } of result) {
          const gpu = gpuIdentityOf(metric, nodeLabels);
          if (field === "util" && gpu.migProfile !== undefined) continue;
          const pod = podOf(metric, { exporterContainers });
          const gKey = gpuKey(gpu);
          const gAcc = gpus.get(gKey) ?? { gpu, series: new Map() };
          gpus.set(gKey, gAcc);
          const sKey = pod === null ? "" : podKey(pod);
          const sAcc = gAcc.series.get(sKey) ?? { pod, points: new Map() };
          gAcc.series.set(sKey, sAcc);
          for (const [t, text] of values) {
            const value = sampleValue(text);
            const tMs = Math.round(t * 1000);
            if (value === null || tMs < fromMs || tMs >= toMs) continue;
            const point = sAcc.points.get(tMs) ?? {};
            if (point[field] === undefined) point[field] = value / scale;
            sAcc.points.set(tMs, point);
          }
        }
      };
      add(engine, "engine", 1);
      add(util, "util", 100);
      add(fb, "fb", 1);

      return (
        [...gpus.values()]
          .sort((a, b) => compareGpus(a.gpu, b.gpu))
          .map(({ gpu, series }) => ({
            gpu,
            series: [...series.entries()]
              .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
              .map(([, acc]) => ({
                pod: acc.pod,
                samples: [...acc.points.entries()]
                  .sort(([a], [b]) => a - b)
                  .flatMap(([tMs, point]): UsageSample[] => {
                    const utilization = point.engine ?? point.util;
                    if (utilization === undefined) return [];
                    const sample: UsageSample = { t: tMs / 1000, utilization };
                    if (point.fb !== undefined) sample.fbUsedMiB = point.fb;
                    return [sample];
                  }),
              }))
              .filter((s) => s.samples.length > 0),
          }))
          // A GPU none of whose samples could be read (all NaN, say) was not measured: left out, its
          // node keeps the source's split, as when DCGM sent nothing, rather than read as all idle.
          .filter((g) => g.series.length > 0)
      );
    },
  };
}
