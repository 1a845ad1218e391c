import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyIdlePolicy, type IdlePolicy, SHARE_POLICIES } from "#domain/allocation/idle-policy.ts";
import {
  COMPONENT_NAMES,
  type CostComponents,
  componentsTotal,
  type K8sAllocation,
  sumComponents,
} from "#domain/allocation/k8s-allocation.ts";
import { arbitraryAllocations, arbitraryPolicy } from "../fixtures/opencost/allocation-arbitraries.ts";
import { k8sAllocation } from "../fixtures/opencost/k8s-allocation-builder.ts";

const idle = k8sAllocation({
  name: "__idle__",
  namespace: "",
  pod: undefined,
  special: "idle",
  components: { gpu: 1_000n, cpu: 301n, ram: 7n },
});
const gpuUser = k8sAllocation({
  name: "ml/llm-0",
  namespace: "ml",
  labels: { team: "search" },
  components: { gpu: 3_000n, cpu: 100n, ram: 10n },
});
const cpuUser = k8sAllocation({
  name: "web/api-0",
  namespace: "web",
  labels: { team: "web" },
  components: { cpu: 200n, ram: 10n },
});
const unlabelled = k8sAllocation({ name: "default/debug", namespace: "default", components: { cpu: 100n } });
const system = k8sAllocation({
  name: "kube-system/coredns",
  namespace: "kube-system",
  components: { cpu: 50n, ram: 5n },
});
const unmounted = k8sAllocation({
  name: "__unmounted__",
  namespace: "",
  special: "unmounted",
  components: { pv: 90n },
});
const all = [idle, gpuUser, cpuUser, unlabelled, system, unmounted];

function policy(overrides: Partial<IdlePolicy>): IdlePolicy {
  return {
    idle: "keep",
    sharedNamespaces: ["kube-system", "monitoring"],
    sharedPolicy: "keep",
    ...overrides,
  };
}

const byName = (out: readonly K8sAllocation[], name: string) => out.find((a) => a.name === name);

describe("applyIdlePolicy", () => {
  it("keep leaves idle and shared namespaces as their own buckets", () => {
    expect(applyIdlePolicy(all, policy({}))).toEqual(all);
  });

  it("share-by-cost splits each idle component over its users (idle GPU to the GPU user)", () => {
    const out = applyIdlePolicy(all, policy({ idle: "share-by-cost" }));
    expect(byName(out, "__idle__")).toBeUndefined();
    expect(byName(out, "ml/llm-0")?.components.gpu).toBe(4_000n);
    expect(byName(out, "web/api-0")?.components.gpu).toBe(0n);
    // cpu 301 over cpu weights 100:200:100 (llm, api, debug); ram 7 over 10:10:0.
    expect(byName(out, "ml/llm-0")?.components.cpu).toBe(100n + 75n);
    expect(byName(out, "web/api-0")?.components.cpu).toBe(200n + 151n);
    expect(byName(out, "default/debug")?.components.cpu).toBe(100n + 75n);
    expect(byName(out, "ml/llm-0")?.components.ram).toBe(14n);
    expect(byName(out, "web/api-0")?.components.ram).toBe(13n);
    expect(byName(out, "kube-system/coredns")).toEqual(system);
    expect(byName(out, "__unmounted__")).toEqual(unmounted);
  });

  it("share-evenly gives every receiver an equal part, remainder to the earliest", () => {
    const out = applyIdlePolicy(all, policy({ idle: "share-evenly", sharedPolicy: "share-evenly" }));
    expect(out.map((a) => a.name)).toEqual(["ml/llm-0", "web/api-0", "default/debug", "__unmounted__"]);
    // gpu 1000 over 3 receivers: 334, 333, 333.
    expect(out.slice(0, 3).map((a) => a.components.gpu)).toEqual([3_334n, 333n, 333n]);
  });

  it("keeps the cost in its bucket when there is nobody to share it with", () => {
    const out = applyIdlePolicy(
      [idle, system],
      policy({ idle: "share-by-cost", sharedPolicy: "share-evenly" }),
    );
    expect(out).toEqual([idle, system]);
  });

  it("falls back to total cost, then to equal parts, when receivers have none of a component", () => {
    const out = applyIdlePolicy(
      [k8sAllocation({ ...idle, components: { pv: 10n } }), cpuUser, unlabelled],
      policy({ idle: "share-by-cost" }),
    );
    expect(out.map((a) => a.components.pv)).toEqual([7n, 3n]);
  });

  it("does not modify its input", () => {
    const input = structuredClone(all);
    applyIdlePolicy(input, policy({ idle: "share-by-cost", sharedPolicy: "share-evenly" }));
    expect(input).toEqual(all);
  });

  it("conserves every component to the nano, for any allocations and every policy", () => {
    fc.assert(
      fc.property(arbitraryAllocations(), arbitraryPolicy(), (allocations, p) => {
        const out = applyIdlePolicy(allocations, p);
        const before: CostComponents = sumComponents(allocations);
        const after: CostComponents = sumComponents(out);
        for (const name of COMPONENT_NAMES) expect(after[name]).toBe(before[name]);
        for (const a of out) for (const name of COMPONENT_NAMES) expect(a.components[name] >= 0n).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("shares everything away when asked and a receiver exists", () => {
    fc.assert(
      fc.property(arbitraryAllocations(), (allocations) => {
        for (const idlePolicy of SHARE_POLICIES.filter((s) => s !== "keep")) {
          const out = applyIdlePolicy(allocations, policy({ idle: idlePolicy, sharedPolicy: idlePolicy }));
          const hasReceiver = allocations.some(
            (a) => a.special === null && !["kube-system", "monitoring"].includes(a.namespace),
          );
          const leftIdle = componentsTotal(sumComponents(out.filter((a) => a.special === "idle")));
          if (hasReceiver) expect(leftIdle).toBe(0n);
        }
      }),
    );
  });
});
