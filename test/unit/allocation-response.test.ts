import { describe, expect, it } from "vitest";
import { componentsOf, parseAllocationResponse, specialOf } from "#adapters/kubecost/allocation-response.ts";
import { allocationUrl } from "#adapters/kubecost/kubecost-allocation-source.ts";
import { componentsTotal } from "#domain/allocation/k8s-allocation.ts";
import { AllocationSourceError } from "#ports/allocation-source.ts";
import { WINDOW } from "../fixtures/opencost/k8s-allocation-builder.ts";

const context = { window: WINDOW };

function body(entries: Record<string, unknown>): string {
  return JSON.stringify({ code: 200, status: "success", data: [entries] });
}

describe("componentsOf", () => {
  it("adds each adjustment to its cost and puts what totalCost holds beyond them in other", () => {
    const notes: string[] = [];
    const components = componentsOf(
      {
        gpuCost: 0.7075,
        gpuCostAdjustment: -0.0125,
        cpuCost: 0.1,
        ramCost: 0.05,
        pvCost: 0.01,
        networkCost: 0.002,
        loadBalancerCost: 0.025,
        totalCost: 0.882,
      },
      notes,
    );
    expect(components).toEqual({
      gpu: 695_000_000n,
      cpu: 100_000_000n,
      ram: 50_000_000n,
      pv: 10_000_000n,
      network: 2_000_000n,
      other: 25_000_000n,
    });
    expect(notes).toEqual([]);
  });

  it("clamps a slightly negative component to 0 with a note and keeps the total", () => {
    const notes: string[] = [];
    const components = componentsOf({ cpuCost: 0.5, ramCost: -0.000001, totalCost: 0.5 }, notes);
    expect(components.ram).toBe(0n);
    expect(componentsTotal(components)).toBe(500_000_000n);
    expect(notes).toEqual(["ram: negative (-1000 nanos) clamped to 0"]);
  });

  it("takes components that exceed a rounded totalCost back in proportion, never below 0", () => {
    const notes: string[] = [];
    const components = componentsOf({ cpuCost: 0.00003, ramCost: 0.00001, totalCost: 0.00003 }, notes);
    expect(componentsTotal(components)).toBe(30_000n);
    expect(components.cpu).toBeGreaterThanOrEqual(0n);
    expect(components.ram).toBeGreaterThanOrEqual(0n);
    expect(components.other).toBe(0n);
    expect(notes[0]).toMatch(/exceed totalCost by 10000 nanos/);
  });

  it("reads NaN as 0 and rebuilds an unreadable total from the parts", () => {
    const notes: string[] = [];
    const components = componentsOf(
      { cpuCost: "NaN", ramCost: 0.2, loadBalancerCost: 0.1, totalCost: null },
      notes,
    );
    expect(components).toMatchObject({ cpu: 0n, ram: 200_000_000n, other: 100_000_000n });
    expect(notes).toContain('cpuCost: "NaN" read as 0');
    expect(notes).toContain("totalCost: absent or NaN; rebuilt from the components");
  });

  it("clamps a negative totalCost to 0 and the components with it", () => {
    const components = componentsOf({ cpuCost: 0.1, totalCost: -0.2 }, []);
    expect(componentsTotal(components)).toBe(0n);
  });
});

describe("parseAllocationResponse", () => {
  it("turns bare NaN and Infinity tokens into absent values, leaving strings alone", () => {
    const text = `{"code":200,"data":[{"a":{"name":"a","properties":{"namespace":"NaN-team"},"cpuCost":NaN,"ramCost":0.25,"cpuEfficiency":-Infinity,"totalCost":0.25}}]}`;
    const parsed = parseAllocationResponse(text, context);
    expect(parsed.nonFiniteTokens).toBe(2);
    expect(parsed.allocations[0]?.namespace).toBe("NaN-team");
    expect(parsed.allocations[0]?.components.ram).toBe(250_000_000n);
    expect(parsed.allocations[0]?.notes).toContain("cpuCost: null read as 0");
  });

  it("recognises the special allocations, also inside multi-aggregation keys", () => {
    expect(specialOf("__idle__")).toBe("idle");
    expect(specialOf("cluster-one/__idle__")).toBe("idle");
    expect(specialOf("__unmounted__/__unmounted__")).toBe("unmounted");
    expect(specialOf("kubecost/__unallocated__")).toBe("unallocated");
    expect(specialOf("kubecost/cost-analyzer")).toBeNull();
  });

  it("skips placeholders and nulls, and takes the window asked for when the entry gives none", () => {
    const parsed = parseAllocationResponse(
      body({ "...etc": {}, nothing: null, idle: { name: "__idle__", totalCost: 1 } }),
      context,
    );
    expect(parsed.skipped).toEqual(['data[0]["...etc"]', 'data[0]["nothing"]']);
    expect(parsed.allocations).toHaveLength(1);
    expect(parsed.allocations[0]).toMatchObject({ special: "idle", namespace: "", cluster: "" });
    expect(parsed.allocations[0]?.window).toEqual({ start: WINDOW.from, end: WINDOW.to });
  });

  it("replaces the cluster when the context names one", () => {
    const parsed = parseAllocationResponse(
      body({ a: { name: "a", properties: { cluster: "default-cluster" }, totalCost: 0 } }),
      { ...context, cluster: "prod-gke-1" },
    );
    expect(parsed.allocations[0]?.cluster).toBe("prod-gke-1");
  });

  it.each([
    ["not JSON", "<html>bad gateway</html>", "invalid"],
    ["not an object", "[1,2]", "invalid"],
    ["data of the wrong type", '{"code":200,"data":"x"}', "invalid"],
    ["a 400 code in the body", '{"code":400,"status":"error","message":"bad window"}', "invalid"],
    ["a 500 code in the body", '{"code":500,"message":"Prometheus down"}', "unavailable"],
  ])("refuses %s", (_what, text, code) => {
    const error = (() => {
      try {
        parseAllocationResponse(text, context);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(AllocationSourceError);
    expect((error as AllocationSourceError).code).toBe(code);
  });

  it("reads an empty or null data as no allocations", () => {
    expect(parseAllocationResponse('{"code":200,"data":null}', context).allocations).toEqual([]);
    expect(parseAllocationResponse('{"code":200,"data":[]}', context).allocations).toEqual([]);
  });
});

describe("allocationUrl", () => {
  it("asks OpenCost for /allocation with includeIdle and an RFC 3339 pair", () => {
    const url = allocationUrl({ baseUrl: "http://opencost.opencost:9003/", flavor: "opencost" }, WINDOW, [
      "namespace",
      "pod",
    ]);
    expect(url.pathname).toBe("/allocation");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      window: "2026-11-15T10:00:00Z,2026-11-15T11:00:00Z",
      aggregate: "namespace,pod",
      includeIdle: "true",
      accumulate: "true",
    });
  });

  it("asks Kubecost for /model/allocation with idle=true, keeping a proxy path prefix", () => {
    const url = allocationUrl(
      {
        baseUrl: "http://localhost:8001/api/v1/namespaces/kubecost/services/kc:9090/proxy",
        flavor: "kubecost",
      },
      WINDOW,
      "pod",
    );
    expect(url.pathname).toBe("/api/v1/namespaces/kubecost/services/kc:9090/proxy/model/allocation");
    expect(url.searchParams.get("idle")).toBe("true");
    expect(url.searchParams.get("includeIdle")).toBeNull();
    expect(url.searchParams.get("aggregate")).toBe("pod");
  });

  it("refuses sub-second and empty windows", () => {
    const opts = { baseUrl: "http://x", flavor: "opencost" } as const;
    expect(() =>
      allocationUrl(opts, { from: new Date("2026-11-15T10:00:00.500Z"), to: WINDOW.to }, "pod"),
    ).toThrow(AllocationSourceError);
    expect(() => allocationUrl(opts, { from: WINDOW.to, to: WINDOW.from }, "pod")).toThrow(
      /to must be after/,
    );
  });
});
