/**
 * What a GPU did over a window, as DCGM (through Prometheus) tells it: per GPU, one series per
 * pod that held it (or `pod: null` for times no pod held it), each a list of samples.
 * Pure data; the MetricsSource port produces it and the GPU split consumes it.
 */

/** Half-open UTC range [from, to). */
export interface GpuWindow {
  from: Date;
  to: Date;
}

/** A Kubernetes container, the owner a GPU's cost is charged to. Joins to OpenCost on all three. */
export interface PodRef {
  namespace: string;
  pod: string;
  container: string;
}

export interface GpuIdentity {
  /** `UUID` (or `uuid` with --use-old-namespace). A MIG instance shares its parent's UUID. */
  uuid: string;
  /** The `gpu` label (device index on the node); -1 when the label is missing. */
  index: number;
  /** The node label (`Hostname`, or `hostname` on newer exporters, or the configured override). */
  node: string;
  modelName: string;
  /** `GPU_I_PROFILE` (e.g. "1g.10gb") when this is a MIG instance. */
  migProfile?: string;
  /** `GPU_I_ID` when this is a MIG instance: two instances of one profile on one GPU differ only here. */
  migInstanceId?: string;
}

export interface UsageSample {
  /** Unix seconds. A sample at `t` stands for the step [t, t + step). */
  t: number;
  /** Ratio 0..1 of the time the GPU (or MIG instance) was busy. */
  utilization: number;
  /** Frame buffer used, MiB, when known. */
  fbUsedMiB?: number;
}

export interface UsageSeries {
  /** Who held the GPU while these samples were taken; null when no pod held it. */
  pod: PodRef | null;
  samples: UsageSample[];
}

export interface GpuUsage {
  gpu: GpuIdentity;
  series: UsageSeries[];
}

/** Stable key of an owner: "namespace/pod/container". */
export function podKey(pod: PodRef): string {
  return `${pod.namespace}/${pod.pod}/${pod.container}`;
}

/** Stable key of a GPU or MIG instance: "uuid" or "uuid/mig-instance-id". */
export function gpuKey(gpu: GpuIdentity): string {
  return gpu.migInstanceId === undefined ? gpu.uuid : `${gpu.uuid}/${gpu.migInstanceId}`;
}
