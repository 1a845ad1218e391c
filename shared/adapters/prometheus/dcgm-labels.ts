import type { GpuIdentity, PodRef } from "#ports/metrics-source.ts";

/**
 * How dcgm-exporter's labels look once Prometheus has them (FORMATS.md §8):
 * - GPU: `gpu` (index), `UUID` or `uuid` (--use-old-namespace), `modelName`, `Hostname` or
 *   `hostname` (renamed on newer exporters), MIG `GPU_I_PROFILE` / `GPU_I_ID`.
 * - Pod: `namespace/pod/container`; `exported_namespace/exported_pod/exported_container` when a
 *   ServiceMonitor scrapes without honorLabels (then the plain labels are the exporter's own pod);
 *   `pod_namespace/pod_name/container_name` with --use-old-namespace.
 * - Prometheus drops empty labels, so "no pod holds the GPU" arrives as missing pod labels, and
 *   without honorLabels the scrape target's own `pod/namespace/container` (the exporter) fill the
 *   gap. Series whose container is the exporter's are therefore read as "no pod".
 */

export const DEFAULT_NODE_LABELS = ["Hostname", "hostname"] as const;

/** Container names of dcgm-exporter itself: the Helm chart's and the GPU Operator's. */
export const DEFAULT_EXPORTER_CONTAINERS = ["exporter", "dcgm-exporter", "nvidia-dcgm-exporter"] as const;

export type Labels = Readonly<Record<string, string>>;

const POD_LABEL_SETS = [
  { namespace: "exported_namespace", pod: "exported_pod", container: "exported_container" },
  { namespace: "pod_namespace", pod: "pod_name", container: "container_name" },
  { namespace: "namespace", pod: "pod", container: "container" },
] as const;

function label(labels: Labels, name: string): string {
  return labels[name] ?? "";
}

export function gpuIdentityOf(
  labels: Labels,
  nodeLabels: readonly string[] = DEFAULT_NODE_LABELS,
): GpuIdentity {
  const uuid = label(labels, "UUID") || label(labels, "uuid");
  const indexText = label(labels, "gpu");
  const index = /^\d+$/.test(indexText) ? Number(indexText) : -1;
  const node = nodeLabels.map((name) => label(labels, name)).find((value) => value !== "") ?? "";
  const identity: GpuIdentity = {
    uuid: uuid || `${node}/gpu${indexText}`,
    index,
    node,
    modelName: label(labels, "modelName"),
  };
  const migProfile = label(labels, "GPU_I_PROFILE");
  if (migProfile !== "") {
    identity.migProfile = migProfile;
    identity.migInstanceId = label(labels, "GPU_I_ID");
  }
  return identity;
}

export interface PodLabelOptions {
  exporterContainers?: readonly string[];
}

/** The pod holding the GPU according to one series' labels, or null when none does. */
export function podOf(labels: Labels, options: PodLabelOptions = {}): PodRef | null {
  const exporterContainers = options.exporterContainers ?? DEFAULT_EXPORTER_CONTAINERS;
  const names = POD_LABEL_SETS.find((set) => label(labels, set.pod) !== "");
  if (names === undefined) return null;
  const pod: PodRef = {
    namespace: label(labels, names.namespace),
    pod: label(labels, names.pod),
    container: label(labels, names.container),
  };
  if (names.pod === "pod" && exporterContainers.includes(pod.container)) return null;
  return pod;
}

/** DCGM's "not supported / blank" sentinels are huge integers near 2^63. */
export const SENTINEL_THRESHOLD = 9.2e18;

/** A sample value as Prometheus writes it, or null when it carries no measurement. */
export function sampleValue(text: string): number | null {
  const value = Number(text);
  if (!Number.isFinite(value) || Math.abs(value) >= SENTINEL_THRESHOLD) return null;
  return value;
}
