import { describe, expect, it } from "vitest";
import { adjustGpuCost, type GpuAdjustmentInput } from "#domain/allocation/gpu-adjustment.ts";
import type { K8sAllocation } from "#domain/allocation/k8s-allocation.ts";
import type { GpuIdentity, GpuUsage, PodRef, UsageSeries } from "#domain/gpu-split/gpu-usage.ts";
import { decimalToNanos } from "#domain/money.ts";
import { k8sAllocation, WINDOW } from "../fixtures/opencost/k8s-allocation-builder.ts";

const T0 = WINDOW.from.getTime() / 1000;
const V100_HOUR = decimalToNanos("3.06");
const NODE = "gke-prod-v100-pool-1a2b";

const gpu = (index: number, node = NODE): GpuIdentity => ({
  uuid: `GPU-${node}-${index}`,
  index,
  node,
  modelName: "Tesla V100-SXM2-16GB",
});
const ref = (pod: string, container = "main", namespace = "ml-serving"): PodRef => ({
  namespace,
  pod,
  container,
});

/** One sample every `step` seconds from `fromMinute` (inclusive) to `toMinute` (exclusive) of the hour. */
function samples(fromMinute: number, toMinute: number, utilization: number, step = 30) {
  const out = [];
  for (let t = fromMinute * 60; t < toMinute * 60; t += step) out.push({ t: T0 + t, utilization });
  return out;
}

function held(pod: PodRef | null, utilization: number, fromMinute = 0, toMinute = 60): UsageSeries {
  return { pod, samples: samples(fromMinute, toMinute, utilization) };
}

const podAllocation = (pod: string, gpuNanos: bigint, node = NODE, extra: Partial<K8sAllocation> = {}) =>
  k8sAllocation({
    name: `ml-serving/${pod}`,
    pod,
    node,
    labels: { team: "search" },
    components: { gpu: gpuNanos, cpu: 1_000_000n },
    ...extra,
  });

const idleAllocation = (node: string, gpuNanos: bigint, named: "property" | "key" = "property") =>
  k8sAllocation({
    name: `${node}/__idle__`,
    namespace: "",
    pod: undefined,
    ...(named === "property" ? { node } : {}),
    special: "idle",
    components: { gpu: gpuNanos, cpu: 500_000n },
  });

function adjust(
  allocations: K8sAllocation[],
  usage: GpuUsage[],
  strategy: GpuAdjustmentInput["strategy"] = "utilization",
) {
  const result = adjustGpuCost({ allocations, usage, strategy, window: WINDOW, stepSeconds: 30 });
  const gpuIn = allocations.reduce((sum, a) => sum + a.components.gpu, 0n);
  const gpuOut = result.allocations.reduce((sum, a) => sum + a.components.gpu, 0n);
  expect(gpuOut).toBe(gpuIn);
  expect(result.attributedNanos + result.idleNanos).toBe(result.pooledNanos);
  return result;
}

const gpuByName = (allocations: readonly K8sAllocation[]) =>
  Object.fromEntries(allocations.map((a) => [a.name, a.components.gpu]));

describe("adjustGpuCost: the seed's worked check (a V100 node at $3.06/h)", () => {
  it("one pod 95% busy for the hour: $2.907 to the pod, $0.153 to the node's idle", () => {
    const allocations = [podAllocation("llm-7b-0", V100_HOUR), idleAllocation(NODE, 0n)];
    const result = adjust(allocations, [{ gpu: gpu(0), series: [held(ref("llm-7b-0"), 0.95)] }]);
    expect(gpuByName(result.allocations)).toEqual({
      "ml-serving/llm-7b-0": 2_907_000_000n,
      [`${NODE}/__idle__`]: 153_000_000n,
    });
    expect(result).toMatchObject({
      strategy: "utilization",
      pooledNanos: V100_HOUR,
      attributedNanos: 2_907_000_000n,
      idleNanos: 153_000_000n,
      nodes: [{ node: NODE, gpus: 1, pooledNanos: V100_HOUR }],
      keptNodes: [],
      notes: [],
    });
    // Only the GPU component moves; the rest of each allocation is untouched.
    expect(result.allocations[0]?.components.cpu).toBe(1_000_000n);
    expect(result.allocations[1]?.components.cpu).toBe(500_000n);
  });

  it("creates the node's idle allocation when the source named none (everything was requested)", () => {
    const result = adjust(
      [podAllocation("llm-7b-0", V100_HOUR)],
      [{ gpu: gpu(0), series: [held(ref("llm-7b-0"), 0.95)] }],
    );
    expect(result.allocations).toHaveLength(2);
    expect(result.allocations[1]).toMatchObject({
      name: `${NODE}/__idle__`,
      node: NODE,
      cluster: "prod-gke-1",
      special: "idle",
      namespace: "",
      components: { gpu: 153_000_000n, cpu: 0n },
      window: { start: WINDOW.from, end: WINDOW.to },
    });
    expect(result.notes).toEqual([
      `${NODE}: the source named no idle for the node; an idle allocation carries its GPU idle`,
    ]);
  });

  it("allocation and even strategies charge the held hour in full", () => {
    const allocations = [podAllocation("llm-7b-0", V100_HOUR), idleAllocation(NODE, 0n)];
    const usage = [{ gpu: gpu(0), series: [held(ref("llm-7b-0"), 0.95)] }];
    for (const strategy of ["allocation", "even"] as const) {
      const result = adjust(allocations, usage, strategy);
      expect(result.allocations[0]?.components.gpu).toBe(V100_HOUR);
      expect(result.idleNanos).toBe(0n);
    }
  });
});

describe("adjustGpuCost: pools per node", () => {
  it("pools the pods' GPU cost with the node's idle and splits it per GPU", () => {
    // Two V100s at $3.06/h each: the source charged pod a the GPU it asked for and idle the other.
    const allocations = [podAllocation("a", V100_HOUR), idleAllocation(NODE, V100_HOUR)];
    const usage = [
      { gpu: gpu(0), series: [held(ref("a"), 0.95)] },
      { gpu: gpu(1), series: [held(null, 0)] },
    ];
    const result = adjust(allocations, usage);
    expect(gpuByName(result.allocations)).toEqual({
      "ml-serving/a": 2_907_000_000n,
      [`${NODE}/__idle__`]: V100_HOUR + 153_000_000n,
    });
  });

  it("finds the node of an idle allocation from its key (`<node>/__idle__`) when the property is missing", () => {
    const allocations = [podAllocation("a", V100_HOUR), idleAllocation(NODE, V100_HOUR, "key")];
    const usage = [
      { gpu: gpu(0), series: [held(ref("a"), 0.5)] },
      { gpu: gpu(1), series: [] },
    ];
    const result = adjust(allocations, usage);
    expect(result.allocations).toHaveLength(2);
    expect(gpuByName(result.allocations)).toEqual({
      "ml-serving/a": 1_530_000_000n,
      [`${NODE}/__idle__`]: V100_HOUR + 1_530_000_000n,
    });
  });

  it("a pod DCGM never saw on a measured node keeps no GPU cost: it goes to the node's idle", () => {
    const allocations = [
      podAllocation("a", V100_HOUR),
      podAllocation("b", V100_HOUR),
      podAllocation("cpu-only", 0n),
      idleAllocation(NODE, 0n),
    ];
    const usage = [
      { gpu: gpu(0), series: [held(ref("a"), 1)] },
      { gpu: gpu(1), series: [held(null, 0)] },
    ];
    const result = adjust(allocations, usage);
    expect(gpuByName(result.allocations)).toEqual({
      "ml-serving/a": V100_HOUR,
      "ml-serving/b": 0n,
      "ml-serving/cpu-only": 0n,
      [`${NODE}/__idle__`]: V100_HOUR,
    });
    expect(result.notes).toEqual([
      `${NODE} gpu 1 (GPU-${NODE}-1): no pod held the GPU in the window: all of its cost is idle`,
      `${NODE}: 1 allocation(s) with GPU cost DCGM never saw holding a GPU now carry none (ml-serving/b)`,
    ]);
  });

  it("a pod DCGM saw with no allocation on the node is charged nothing: its share is idle, noted", () => {
    const allocations = [podAllocation("a", V100_HOUR), idleAllocation(NODE, 0n)];
    const usage = [{ gpu: gpu(0), series: [held(ref("ghost"), 0.5)] }];
    const result = adjust(allocations, usage);
    expect(gpuByName(result.allocations)).toEqual({
      "ml-serving/a": 0n,
      [`${NODE}/__idle__`]: V100_HOUR,
    });
    expect(result.attributedNanos).toBe(0n);
    expect(result.notes).toContain(
      `${NODE}: ml-serving/ghost/main held a GPU but has no allocation on the node; its 1.53 counted as idle`,
    );
  });

  it("matches containers when allocations are per container, and sums containers for pod-level allocations", () => {
    const perContainer = [
      podAllocation("a", V100_HOUR, NODE, { name: "ml-serving/a/main", container: "main" }),
      podAllocation("a", 0n, NODE, { name: "ml-serving/a/sidecar", container: "sidecar" }),
      idleAllocation(NODE, 0n),
    ];
    const usage = [
      { gpu: gpu(0), series: [held(ref("a", "main"), 0.5, 0, 30), held(ref("a", "sidecar"), 0.5, 30)] },
    ];
    const containers = adjust(perContainer, usage);
    expect(gpuByName(containers.allocations)).toEqual({
      "ml-serving/a/main": 765_000_000n,
      "ml-serving/a/sidecar": 765_000_000n,
      [`${NODE}/__idle__`]: 1_530_000_000n,
    });
    const perPod = adjust([podAllocation("a", V100_HOUR), idleAllocation(NODE, 0n)], usage);
    expect(perPod.allocations[0]?.components.gpu).toBe(1_530_000_000n);
  });

  it("nodes DCGM never saw keep the source's figures", () => {
    const other = "gke-prod-l4-pool-9z8y";
    const allocations = [
      podAllocation("a", V100_HOUR),
      podAllocation("l4-pod", 707_500_000n, other),
      idleAllocation(other, 707_500_000n),
    ];
    const result = adjust(allocations, [{ gpu: gpu(0), series: [held(ref("a"), 1)] }]);
    expect(result.allocations[1]).toBe(allocations[1]);
    expect(result.allocations[2]).toBe(allocations[2]);
    expect(result.keptNodes).toEqual([other]);
    expect(result.notes[0]).toBe(
      `1 node(s) with GPU cost DCGM did not measure keep the source's figures: ${other}`,
    );
  });

  it("keeps every figure when idle GPU cost is not split by node (one cluster-wide __idle__)", () => {
    const clusterIdle = k8sAllocation({
      name: "__idle__",
      namespace: "",
      pod: undefined,
      special: "idle",
      components: { gpu: V100_HOUR },
    });
    const allocations = [podAllocation("a", V100_HOUR), clusterIdle];
    const result = adjust(allocations, [{ gpu: gpu(0), series: [held(ref("a"), 0.5)] }]);
    expect(result.allocations).toEqual(allocations);
    expect(result).toMatchObject({ pooledNanos: 0n, nodes: [], keptNodes: [NODE] });
    expect(result.notes[0]).toMatch(/^idle GPU cost of 3.06 is not split by node/);
  });

  it("a cluster-wide __idle__ without GPU cost does not stop the split: the nodes' GPU idle was 0", () => {
    const clusterIdle = k8sAllocation({
      name: "__idle__",
      namespace: "",
      pod: undefined,
      special: "idle",
      components: { cpu: 5n },
    });
    const result = adjust(
      [podAllocation("a", V100_HOUR), clusterIdle],
      [{ gpu: gpu(0), series: [held(ref("a"), 0.95)] }],
    );
    expect(gpuByName(result.allocations)).toEqual({
      "ml-serving/a": 2_907_000_000n,
      __idle__: 0n,
      [`${NODE}/__idle__`]: 153_000_000n,
    });
  });

  it("charges a GPU listed twice once", () => {
    const allocations = [podAllocation("a", V100_HOUR), idleAllocation(NODE, 0n)];
    const usage = [
      { gpu: gpu(0), series: [held(ref("a"), 0.95, 0, 30)] },
      { gpu: gpu(0), series: [held(ref("a"), 0.95, 30)] },
    ];
    const result = adjust(allocations, usage);
    expect(result.allocations[0]?.components.gpu).toBe(2_907_000_000n);
  });

  it("splits a MIG-partitioned GPU by slices", () => {
    const mig = (id: string, profile: string): GpuIdentity => ({
      ...gpu(0),
      modelName: "NVIDIA A100-SXM4-40GB",
      migProfile: profile,
      migInstanceId: id,
    });
    const allocations = [podAllocation("small", 1_000_000_000n), podAllocation("big", 2_000_000_000n)];
    const usage = [
      { gpu: mig("1", "3g.20gb"), series: [held(ref("big"), 1)] },
      { gpu: mig("2", "1g.5gb"), series: [held(ref("small"), 1)] },
    ];
    const result = adjust(allocations, usage);
    expect(gpuByName(result.allocations)).toEqual({
      "ml-serving/small": 750_000_000n,
      "ml-serving/big": 2_250_000_000n,
    });
  });

  it("does not modify its input", () => {
    const allocations = [podAllocation("a", V100_HOUR), idleAllocation(NODE, 0n)];
    const before = structuredClone(allocations);
    adjust(allocations, [{ gpu: gpu(0), series: [held(ref("a"), 0.5)] }]);
    expect(allocations).toEqual(before);
  });
});
