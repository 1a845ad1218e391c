import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocationEventId, allocationEvents } from "#domain/allocation/allocation-events.ts";
import { applyIdlePolicy } from "#domain/allocation/idle-policy.ts";
import { COMPONENT_NAMES, sumComponents } from "#domain/allocation/k8s-allocation.ts";
import { ALLOCATION_V1 } from "#domain/events/allocation.ts";
import { parseCostEvent } from "#domain/events/parse.ts";
import { arbitraryAllocations, arbitraryPolicy } from "../fixtures/opencost/allocation-arbitraries.ts";
import { k8sAllocation, WINDOW } from "../fixtures/opencost/k8s-allocation-builder.ts";

const NOW = new Date("2026-11-15T11:20:00Z");
const options = { cluster: "prod-gke-1", window: WINDOW, source: "//finops/collect-allocations" };

/** What an ingest receives: the JSON text of the event. */
const wire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe("allocationEvents", () => {
  it("emits one ai.cost.allocation.v1 CloudEvent per allocation, timed at the window's end", () => {
    const [event] = allocationEvents(
      [
        k8sAllocation({
          node: "gke-l4-1",
          controller: "llm-7b",
          controllerKind: "statefulset",
          labels: { team: "search", model: "llama-7b", model_version: "v3" },
          components: { gpu: 695_000_000n, cpu: 126_880_000n },
          gpuHours: 1,
        }),
      ],
      options,
    );
    expect(event).toEqual({
      specversion: "1.0",
      id: expect.stringMatching(/^alloc-[0-9a-f]{40}$/),
      source: "//finops/collect-allocations",
      type: ALLOCATION_V1,
      time: "2026-11-15T11:00:00.000Z",
      datacontenttype: "application/json",
      data: {
        team: "search",
        model: "llama-7b",
        model_version: "v3",
        namespace: "ml-serving",
        labels: { node: "gke-l4-1", controller_kind: "statefulset", controller: "llm-7b", pod: "llm-7b-0" },
        cluster: "prod-gke-1",
        window: { start: "2026-11-15T10:00:00.000Z", end: "2026-11-15T11:00:00.000Z" },
        components: { gpu: "695000000", cpu: "126880000", ram: "0", pv: "0", network: "0", other: "0" },
        gpu_hours: 1,
        currency: "USD",
      },
    });
    const parsed = parseCostEvent(wire(event), NOW);
    expect(parsed.ok).toBe(true);
  });

  it("names the cluster from the options where the allocation has none, and marks specials", () => {
    const [event] = allocationEvents(
      [k8sAllocation({ name: "__idle__", cluster: "", namespace: "", pod: undefined, special: "idle" })],
      options,
    );
    expect(event?.data).toMatchObject({ team: "idle", cluster: "prod-gke-1", labels: { special: "idle" } });
    expect(event?.data.namespace).toBeUndefined();
  });

  it("keeps each allocation's own window inside the collected one", () => {
    const [inside, spilling] = allocationEvents(
      [
        k8sAllocation({
          name: "a",
          window: { start: new Date("2026-11-15T10:15:00Z"), end: new Date("2026-11-15T10:30:00Z") },
        }),
        k8sAllocation({
          name: "b",
          window: { start: new Date("2026-11-15T09:00:00Z"), end: new Date("2026-11-15T12:00:00Z") },
        }),
      ],
      options,
    );
    expect(inside?.data.window).toEqual({
      start: "2026-11-15T10:15:00.000Z",
      end: "2026-11-15T10:30:00.000Z",
    });
    expect(spilling?.data.window).toEqual({
      start: "2026-11-15T10:00:00.000Z",
      end: "2026-11-15T11:00:00.000Z",
    });
  });

  it("keeps the id when owner labels change, and changes it with the window or the allocation", () => {
    const a = k8sAllocation({ labels: { team: "search" } });
    const id = allocationEventId("prod-gke-1", WINDOW, a);
    expect(allocationEventId("prod-gke-1", WINDOW, { ...a, labels: { team: "ads" } })).toBe(id);
    expect(allocationEventId("prod-gke-2", WINDOW, a)).not.toBe(id);
    expect(
      allocationEventId("prod-gke-1", { from: WINDOW.to, to: new Date("2026-11-15T12:00:00Z") }, a),
    ).not.toBe(id);
    expect(
      allocationEventId("prod-gke-1", WINDOW, { ...a, pod: "llm-7b-1", name: "ml-serving/llm-7b-1" }),
    ).not.toBe(id);
  });

  it("for any allocations and policy: valid events, unique and repeatable ids, every nano carried over", () => {
    fc.assert(
      fc.property(arbitraryAllocations(), arbitraryPolicy(), (allocations, policy) => {
        const shaped = applyIdlePolicy(allocations, policy);
        const events = allocationEvents(shaped, options);
        expect(events).toHaveLength(shaped.length);

        const rejections = events.map((e) => parseCostEvent(wire(e), NOW)).filter((r) => !r.ok);
        expect(rejections).toEqual([]);

        const ids = events.map((e) => e.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(allocationEvents(applyIdlePolicy(allocations, policy), options).map((e) => e.id)).toEqual(ids);

        const fetched = sumComponents(allocations);
        for (const name of COMPONENT_NAMES) {
          const emitted = events.reduce((sum, e) => sum + BigInt(e.data.components[name]), 0n);
          expect(emitted).toBe(fetched[name]);
        }
      }),
      { numRuns: 300 },
    );
  });
});
