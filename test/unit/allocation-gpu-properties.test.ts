import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { adjustGpuCost } from "#domain/allocation/gpu-adjustment.ts";
import { COMPONENT_NAMES, type K8sAllocation } from "#domain/allocation/k8s-allocation.ts";
import type { GpuUsage, PodRef, UsageSample } from "#domain/gpu-split/gpu-usage.ts";
import { GPU_SPLIT_STRATEGIES } from "#domain/gpu-split/split-gpu-cost.ts";
import { k8sAllocation, WINDOW } from "../fixtures/opencost/k8s-allocation-builder.ts";

const T0 = WINDOW.from.getTime() / 1000;
const STEP = 300;
const NODES = ["node-a", "node-b", "node-c"];
const PODS = ["p0", "p1", "p2", "p3"];

const nanos = fc.oneof(
  fc.constant(0n),
  fc.bigInt({ min: 0n, max: 10n ** 11n }),
  fc.bigInt({ min: 0n, max: 7n }),
);

/** A random cluster: per node, pods (some with GPU cost), maybe an idle allocation, GPUs DCGM saw (maybe none). */
const scenario = fc.record({
  strategy: fc.constantFrom(...GPU_SPLIT_STRATEGIES),
  perContainer: fc.boolean(),
  nodes: fc.array(
    fc.record({
      pods: fc.subarray(PODS),
      podGpu: fc.array(nanos, { minLength: PODS.length, maxLength: PODS.length }),
      idle: fc.option(nanos, { nil: undefined }),
      idleNamedByKey: fc.boolean(),
      gpus: fc.integer({ min: 0, max: 3 }),
      series: fc.array(
        fc.record({
          gpu: fc.integer({ min: 0, max: 2 }),
          // An index past PODS is a pod with no allocation; -1 is "no pod".
          pod: fc.integer({ min: -1, max: PODS.length }),
          container: fc.constantFrom("main", "sidecar"),
          samples: fc.array(
            fc.record({
              step: fc.integer({ min: 0, max: 11 }),
              u: fc.double({ min: -0.2, max: 1.2, noNaN: true }),
            }),
            { maxLength: 12 },
          ),
        }),
        { maxLength: 6 },
      ),
    }),
    { minLength: NODES.length, maxLength: NODES.length },
  ),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function build(s: Scenario): { allocations: K8sAllocation[]; usage: GpuUsage[] } {
  const allocations: K8sAllocation[] = [];
  const usage: GpuUsage[] = [];
  s.nodes.forEach((n, ni) => {
    const node = NODES[ni] ?? "node";
    for (const pod of n.pods) {
      const pi = PODS.indexOf(pod);
      allocations.push(
        k8sAllocation({
          name: `ml/${node}-${pod}${s.perContainer ? "/main" : ""}`,
          namespace: "ml",
          pod: `${node}-${pod}`,
          ...(s.perContainer ? { container: "main" } : {}),
          node,
          components: { gpu: n.podGpu[pi] ?? 0n, cpu: 7n },
        }),
      );
    }
    if (n.idle !== undefined) {
      allocations.push(
        k8sAllocation({
          name: `prod/${node}/__idle__`,
          namespace: "",
          pod: undefined,
          ...(n.idleNamedByKey ? {} : { node }),
          special: "idle",
          components: { gpu: n.idle, ram: 3n },
        }),
      );
    }
    for (let g = 0; g < n.gpus; g += 1) {
      const series = n.series
        .filter((x) => x.gpu === g)
        .map((x) => {
          const pod: PodRef | null =
            x.pod < 0
              ? null
              : { namespace: "ml", pod: `${node}-${PODS[x.pod] ?? "ghost"}`, container: x.container };
          const samples: UsageSample[] = x.samples.map((p) => ({ t: T0 + p.step * STEP, utilization: p.u }));
          return { pod, samples };
        });
      usage.push({ gpu: { uuid: `GPU-${node}-${g}`, index: g, node, modelName: "Tesla V100" }, series });
    }
  });
  return { allocations, usage };
}

const nodeOf = (a: K8sAllocation) => a.node ?? a.name.split("/").at(-2) ?? "";
const gpuOn = (allocations: readonly K8sAllocation[], node: string) =>
  allocations.filter((a) => nodeOf(a) === node).reduce((sum, a) => sum + a.components.gpu, 0n);

describe("adjustGpuCost properties", () => {
  it("conserves each node's GPU cost to the nano and puts every pooled nano in a pod or idle", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { allocations, usage } = build(s);
        const result = adjustGpuCost({
          allocations,
          usage,
          strategy: s.strategy,
          window: WINDOW,
          stepSeconds: STEP,
        });
        const out = result.allocations;
        // Input order kept; created allocations are node idle ones, appended.
        expect(out.slice(0, allocations.length).map((a) => a.name)).toEqual(allocations.map((a) => a.name));
        for (const created of out.slice(allocations.length)) expect(created.special).toBe("idle");

        for (const node of NODES) expect(gpuOn(out, node)).toBe(gpuOn(allocations, node));
        // Only GPU components move.
        out.slice(0, allocations.length).forEach((a, i) => {
          for (const name of COMPONENT_NAMES) {
            if (name !== "gpu") expect(a.components[name]).toBe(allocations[i]?.components[name]);
          }
          expect(a.components.gpu >= 0n).toBe(true);
        });

        expect(result.attributedNanos + result.idleNanos).toBe(result.pooledNanos);
        const measured = new Set(result.nodes.map((n) => n.node));
        const onMeasured = out.filter((a) => measured.has(nodeOf(a)));
        const podGpu = onMeasured
          .filter((a) => a.special !== "idle")
          .reduce((t, a) => t + a.components.gpu, 0n);
        const idleGpu = onMeasured
          .filter((a) => a.special === "idle")
          .reduce((t, a) => t + a.components.gpu, 0n);
        expect(podGpu).toBe(result.attributedNanos);
        expect(idleGpu).toBe(result.idleNanos);
        for (const n of result.nodes) expect(n.pooledNanos).toBe(gpuOn(allocations, n.node));

        // Measured: DCGM saw GPUs on the node. The rest keep their figures exactly.
        s.nodes.forEach((n, ni) => {
          const node = NODES[ni] ?? "";
          const hasAllocations = allocations.some((a) => nodeOf(a) === node);
          expect(measured.has(node)).toBe(n.gpus > 0 && hasAllocations);
          if (!measured.has(node)) {
            allocations.forEach((a, i) => {
              if (nodeOf(a) === node) expect(out[i]).toBe(a);
            });
          }
        });

        // A pod DCGM never saw holding a GPU on a measured node carries no GPU cost.
        const seen = new Set(
          usage.flatMap((u) => u.series.filter((x) => x.pod && x.samples.length > 0).map((x) => x.pod?.pod)),
        );
        for (const a of onMeasured) {
          if (a.special === null && !seen.has(a.pod)) expect(a.components.gpu).toBe(0n);
        }
      }),
      { numRuns: 400 },
    );
  });
});
