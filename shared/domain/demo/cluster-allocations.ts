/**
 * The demo's Kubernetes cluster, hour by hour, as the allocation import reports it: each GPU's list
 * cost split over the pods that held it by a synthetic DCGM utilization series (the real
 * `splitGpuCost`), each node's vCPU and memory cost split by the pods' requests, what nobody used
 * in an `__idle__` allocation, and the lot turned into ai.cost.allocation.v1 events by the real
 * `allocationEvents`. Pure and seeded: the same hour and generator give the same events.
 */
import { type AllocationCloudEvent, allocationEvents } from "#domain/allocation/allocation-events.ts";
import { applyIdlePolicy, type IdlePolicy } from "#domain/allocation/idle-policy.ts";
import type { CostComponents, K8sAllocation } from "#domain/allocation/k8s-allocation.ts";
import {
  type GpuIdentity,
  type GpuUsage,
  type PodRef,
  podKey,
  type UsageSeries,
} from "#domain/gpu-split/gpu-usage.ts";
import { type GpuSplitStrategy, splitGpuCost } from "#domain/gpu-split/split-gpu-cost.ts";
import { decimalToNanos, type Nanos, splitByWeights } from "#domain/money.ts";
import { diurnalFactor, weekdayFactor } from "./inference-traffic.ts";
import { hashSeed, type SeededRandom } from "./seeded-random.ts";
import type { ClusterNode, ClusterPod, GpuCluster, GpuLoad } from "./synthetic-org.ts";

/** The CloudEvents source collectAllocations stamps on its events (its DEFAULT_ALLOCATION_EVENT_SOURCE). */
export const DEMO_ALLOCATION_SOURCE = "//finops/collect-allocations";
export const DEMO_GPU_SPLIT_STRATEGY: GpuSplitStrategy = "utilization";
/** Idle stays its own bucket; kube-system is overhead that keeps its own owner. */
export const DEMO_IDLE_POLICY: IdlePolicy = Object.freeze({
  idle: "keep",
  sharedNamespaces: Object.freeze(["kube-system"]),
  sharedPolicy: "keep",
});

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Memory is priced per GB (binary, as GCP bills it); pods request MiB. */
const MIB_PER_GB = 1024;

/** What a node costs for one hour at list price: each GPU, and its vCPUs and memory. */
export interface NodeHourCost {
  gpuEach: Nanos;
  gpu: Nanos;
  cpu: Nanos;
  ram: Nanos;
}

export function nodeHourCost(cluster: GpuCluster, node: ClusterNode): NodeHourCost {
  const gpuRate = cluster.gpuUsdPerHour[node.accelerator];
  if (gpuRate === undefined) {
    throw new RangeError(
      `cluster ${cluster.name} has no GPU rate for ${node.accelerator} (node ${node.name})`,
    );
  }
  const family = cluster.machineFamilies[node.family];
  if (family === undefined) {
    throw new RangeError(`cluster ${cluster.name} has no rates for machine family ${node.family}`);
  }
  const gpuEach = decimalToNanos(gpuRate);
  return {
    gpuEach,
    gpu: gpuEach * BigInt(node.gpus),
    cpu: decimalToNanos(family.vcpuUsdPerHour) * BigInt(node.vcpus),
    ram: decimalToNanos(family.memoryGbUsdPerHour) * BigInt(node.memoryGb),
  };
}

/** The whole cluster's list cost for one hour, per component: what its allocations must add up to. */
export function clusterHourListCost(cluster: GpuCluster): CostComponents {
  let gpu = 0n;
  let cpu = 0n;
  let ram = 0n;
  for (const node of cluster.nodes) {
    const cost = nodeHourCost(cluster, node);
    gpu += cost.gpu;
    cpu += cost.cpu;
    ram += cost.ram;
  }
  return { gpu, cpu, ram, pv: 0n, network: 0n, other: 0n };
}

/** A stable, UUID-shaped DCGM identity for a node's GPU. */
export function gpuUuid(node: string, index: number): string {
  const hex = [0, 1, 2, 3]
    .map((k) => hashSeed(`${node}|gpu|${index}|${k}`).toString(16).padStart(8, "0"))
    .join("");
  return `GPU-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export interface ClusterHour {
  window: { from: Date; to: Date };
  /** What DCGM reported per GPU: one series per pod holding it (the same device utilization on each), or an unheld one. */
  usage: GpuUsage[];
  /** Per pod, plus `__idle__`, after the idle policy: what collectAllocations would turn into events. */
  allocations: K8sAllocation[];
  events: AllocationCloudEvent[];
}

function podRef(pod: ClusterPod): PodRef {
  return { namespace: pod.namespace, pod: pod.pod, container: pod.controller };
}

/** Share of the GPU's time a pod keeps it busy at `ms`: the diurnal traffic shape, jitter, bursts. */
function loadAt(load: GpuLoad, ms: number, rng: SeededRandom): number {
  const hourOfDay = (((ms % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;
  let u =
    load.peak * diurnalFactor(hourOfDay, load.troughRatio) * weekdayFactor(ms) * (1 + 0.08 * rng.normalish());
  if (load.bursts && rng.chance(load.bursts.chance)) {
    u = Math.max(u, load.bursts.utilization * (0.85 + 0.3 * rng.next()));
  }
  return Math.min(1, Math.max(0, u));
}

/** DCGM's view of one GPU over the hour: device utilization per step, reported on every holder's series. */
function gpuUsage(
  cluster: GpuCluster,
  node: ClusterNode,
  index: number,
  holders: readonly ClusterPod[],
  fromMs: number,
  rng: SeededRandom,
): GpuUsage {
  const gpu: GpuIdentity = {
    uuid: gpuUuid(node.name, index),
    index,
    node: node.name,
    modelName: node.accelerator,
  };
  const stepMs = cluster.dcgmStepSeconds * 1000;
  const times: number[] = [];
  for (let t = fromMs; t < fromMs + HOUR_MS; t += stepMs) times.push(t);
  const device = times.map((t) => {
    const loads = holders.map((pod) => (pod.gpuLoad ? loadAt(pod.gpuLoad, t, rng) : 0));
    return Math.min(
      1,
      loads.reduce((a, b) => a + b, 0),
    );
  });
  const samples = () => times.map((t, i) => ({ t: t / 1000, utilization: round4(device[i] ?? 0) }));
  const series: UsageSeries[] =
    holders.length === 0
      ? [{ pod: null, samples: samples() }]
      : holders.map((pod) => ({ pod: podRef(pod), samples: samples() }));
  return { gpu, series };
}

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

/**
 * One hour of the cluster, [hourStartMs, hourStartMs + 1 h): DCGM series, allocations and their
 * events. Conservation: the allocations add up, per component, to `clusterHourListCost`.
 */
export function clusterHour(cluster: GpuCluster, hourStartMs: number, rng: SeededRandom): ClusterHour {
  const window = { from: new Date(hourStartMs), to: new Date(hourStartMs + HOUR_MS) };
  const gpuNanos = new Map<string, Nanos>();
  const gpuHours = new Map<string, number>();
  const cpuNanos = new Map<string, Nanos>();
  const ramNanos = new Map<string, Nanos>();
  const usage: GpuUsage[] = [];
  const idle = { gpu: 0n, cpu: 0n, ram: 0n, gpuHours: 0 };

  for (const node of cluster.nodes) {
    const cost = nodeHourCost(cluster, node);
    const pods = cluster.pods.filter((p) => p.node === node.name);
    for (let index = 0; index < node.gpus; index++) {
      const holders = pods.filter((p) => p.gpus.includes(index));
      const gpu = gpuUsage(cluster, node, index, holders, hourStartMs, rng);
      usage.push(gpu);
      const split = splitGpuCost({
        costNanos: cost.gpuEach,
        window: { from: window.from, to: window.to },
        stepSeconds: cluster.dcgmStepSeconds,
        series: gpu.series,
        strategy: DEMO_GPU_SPLIT_STRATEGY,
      });
      idle.gpu += split.idleNanos;
      if (holders.length === 0) idle.gpuHours += 1;
      for (const part of split.parts) {
        const key = podKey(part.owner);
        gpuNanos.set(key, (gpuNanos.get(key) ?? 0n) + part.nanos);
        gpuHours.set(key, (gpuHours.get(key) ?? 0) + part.heldSeconds / 3600 / holders.length);
      }
    }
    // vCPU and memory: each pod pays for what it requests; what no pod requests is idle.
    const requested = (weights: number[], capacity: number, what: string): bigint[] => {
      const used = weights.reduce((a, b) => a + b, 0);
      if (used > capacity) throw new RangeError(`pods on ${node.name} request more ${what} than it has`);
      return [...weights, capacity - used].map((w) => BigInt(w));
    };
    const cpu = splitByWeights(
      cost.cpu,
      requested(
        pods.map((p) => p.cpuMillicores),
        node.vcpus * 1000,
        "cpu",
      ),
    );
    const ram = splitByWeights(
      cost.ram,
      requested(
        pods.map((p) => p.memoryMiB),
        node.memoryGb * MIB_PER_GB,
        "memory",
      ),
    );
    pods.forEach((pod, i) => {
      cpuNanos.set(podKey(podRef(pod)), cpu[i] ?? 0n);
      ramNanos.set(podKey(podRef(pod)), ram[i] ?? 0n);
    });
    idle.cpu += cpu[pods.length] ?? 0n;
    idle.ram += ram[pods.length] ?? 0n;
  }

  const allocations: K8sAllocation[] = cluster.pods.map((pod) => {
    const key = podKey(podRef(pod));
    return {
      name: `${pod.namespace}/${pod.pod}`,
      cluster: cluster.name,
      namespace: pod.namespace,
      pod: pod.pod,
      node: pod.node,
      controller: pod.controller,
      controllerKind: pod.controllerKind,
      labels: pod.labels,
      namespaceLabels: cluster.namespaceLabels[pod.namespace] ?? {},
      window: { start: window.from, end: window.to },
      components: {
        gpu: gpuNanos.get(key) ?? 0n,
        cpu: cpuNanos.get(key) ?? 0n,
        ram: ramNanos.get(key) ?? 0n,
        pv: 0n,
        network: 0n,
        other: 0n,
      },
      gpuHours: gpuHours.get(key) ?? 0,
      special: null,
      notes: [],
    };
  });
  allocations.push({
    name: "__idle__",
    cluster: cluster.name,
    namespace: "",
    labels: {},
    namespaceLabels: {},
    window: { start: window.from, end: window.to },
    components: { gpu: idle.gpu, cpu: idle.cpu, ram: idle.ram, pv: 0n, network: 0n, other: 0n },
    gpuHours: idle.gpuHours,
    special: "idle",
    notes: [],
  });

  const shaped = applyIdlePolicy(allocations, DEMO_IDLE_POLICY);
  const events = allocationEvents(shaped, {
    cluster: cluster.name,
    window,
    source: DEMO_ALLOCATION_SOURCE,
    cloud: cluster.cloud,
    region: cluster.region,
  });
  return { window, usage, allocations: shaped, events };
}

/** The whole UTC hours inside [fromMs, endMs): the windows the allocation import collects. */
export function wholeHours(fromMs: number, endMs: number): number[] {
  const hours: number[] = [];
  for (let h = Math.ceil(fromMs / HOUR_MS) * HOUR_MS; h + HOUR_MS <= endMs; h += HOUR_MS) hours.push(h);
  return hours;
}
