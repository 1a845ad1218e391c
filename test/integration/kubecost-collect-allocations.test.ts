import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createKubecostAllocationSource } from "#adapters/kubecost/kubecost-allocation-source.ts";
import { createMemoryBus, type MemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import {
  type CollectSummary,
  createCollectAllocations,
  MAX_EVENTS_PER_MESSAGE,
  previousHour,
} from "#app/collect-allocations.ts";
import { createIngestEvents } from "#app/ingest-events.ts";
import type { AllocationCloudEvent } from "#domain/allocation/allocation-events.ts";
import type { IdlePolicy } from "#domain/allocation/idle-policy.ts";
import { UNALLOCATED } from "#domain/cost-row.ts";
import { decodeEventBody } from "#domain/events/decode-body.ts";
import { parseCostEvent } from "#domain/events/parse.ts";
import type { AllocationSource } from "#ports/allocation-source.ts";
import { type DeliveredMessage, TOPICS } from "#ports/bus.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import { k8sAllocation } from "../fixtures/opencost/k8s-allocation-builder.ts";
import { testPricer } from "../support/ingest-builders.ts";
import { createMemoryWarehouse } from "../support/memory-warehouse.ts";

/** Twenty minutes past the constructed fixture's hour: the default window is that hour. */
const NOW = new Date("2026-11-15T11:20:00Z");
const IDLE_RESPONSE = readFileSync(
  new URL("../fixtures/opencost/allocation-namespace-pod-idle.CONSTRUCTED.json", import.meta.url),
  "utf8",
);
/** Sum of the fixture's seven totalCost values (6.60505 USD). */
const FETCHED = 6_605_050_000n;
const IDLE = 1_210_170_000n;
/** kube-system/coredns (0.00341) + default/debug-shell (0.00499) + __unmounted__ (0.0137). */
const UNALLOCATED_NANOS = 3_410_000n + 4_990_000n + 13_700_000n;

let server: Server;
let baseUrl: string;
const requests: URL[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(new URL(req.url ?? "/", "http://127.0.0.1"));
    res.writeHead(200, { "content-type": "application/json" }).end(IDLE_RESPONSE);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

let bus: MemoryBus | undefined;
afterEach(async () => {
  await bus?.close();
  bus = undefined;
});

async function setup(policy: IdlePolicy, source?: AllocationSource) {
  bus = createMemoryBus({ logger: silentLogger });
  const published: DeliveredMessage[] = [];
  await bus.subscribe(TOPICS.events, "collect-allocations-test", async (m) => {
    published.push(m);
  });
  const collector = createCollectAllocations({
    source: source ?? createKubecostAllocationSource({ baseUrl, flavor: "opencost", cluster: "prod-gke-1" }),
    bus,
    clock: fixedClock(NOW),
    policy,
    cluster: "prod-gke-1",
    logger: silentLogger,
  });
  const run = async (): Promise<{ summary: CollectSummary; events: AllocationCloudEvent[] }> => {
    const before = published.length;
    const summary = await collector.collect();
    await bus?.drain();
    const events = published
      .slice(before)
      .flatMap((m) => JSON.parse(m.data.toString("utf8")) as AllocationCloudEvent[]);
    return { summary, events };
  };
  return { run, published };
}

const KEEP: IdlePolicy = {
  idle: "keep",
  sharedNamespaces: ["kube-system", "monitoring"],
  sharedPolicy: "keep",
};
const SHARE: IdlePolicy = {
  idle: "share-by-cost",
  sharedNamespaces: ["kube-system", "monitoring"],
  sharedPolicy: "share-evenly",
};

const sumOf = (events: readonly AllocationCloudEvent[]) =>
  events.reduce((sum, e) => sum + Object.values(e.data.components).reduce((s, v) => s + BigInt(v), 0n), 0n);

describe("collectAllocations end to end (OpenCost HTTP → policy → events topic)", () => {
  it("collects the previous whole hour and publishes one CloudEvents batch", async () => {
    const { run, published } = await setup(KEEP);
    const { summary, events } = await run();
    expect(requests.at(-1)?.searchParams.get("window")).toBe("2026-11-15T10:00:00Z,2026-11-15T11:00:00Z");
    expect(published).toHaveLength(1);
    expect(published[0]?.attributes["content-type"]).toBe("application/cloudevents-batch+json");
    expect(events).toHaveLength(7);
    expect(summary).toMatchObject({
      window: previousHour(NOW),
      allocations: 7,
      events: 7,
      messages: 1,
      fetchedNanos: FETCHED,
      totalNanos: FETCHED,
      idleNanos: IDLE,
      idleFetchedNanos: IDLE,
      unallocatedNanos: UNALLOCATED_NANOS,
      attributedNanos: FETCHED - IDLE - UNALLOCATED_NANOS,
    });
    expect(sumOf(events)).toBe(FETCHED);
    const byPod = new Map(events.map((e) => [e.data.labels?.pod ?? e.data.labels?.special, e.data]));
    expect(byPod.get("llm-7b-0")).toMatchObject({
      team: "search",
      model: "llama-7b",
      model_version: "v3",
      cost_center: "cc-42",
      namespace: "ml-serving",
    });
    expect(byPod.get("trainer-0")).toMatchObject({
      team: "research",
      model: "ranker-v2",
      business_unit: "ads",
    });
    expect(byPod.get("debug-shell")).toMatchObject({ team: UNALLOCATED, namespace: "default" });
    expect(byPod.get("idle")).toMatchObject({ team: "idle", cluster: "prod-gke-1" });
  });

  it("shares idle and kube-system away, conserving the total to the nano", async () => {
    const { run } = await setup(SHARE);
    const { summary, events } = await run();
    expect(events).toHaveLength(5);
    expect(events.some((e) => e.data.team === "idle" || e.data.namespace === "kube-system")).toBe(false);
    expect(summary).toMatchObject({
      fetchedNanos: FETCHED,
      totalNanos: FETCHED,
      idleNanos: 0n,
      idleFetchedNanos: IDLE,
    });
    expect(sumOf(events)).toBe(FETCHED);
  });

  it("publishes events that ingest takes without a rejection, and a second run dedupes completely", async () => {
    const { run } = await setup(KEEP);
    const warehouse = createMemoryWarehouse();
    const ingest = createIngestEvents({
      warehouse,
      pricer: testPricer(),
      clock: fixedClock(NOW),
      logger: silentLogger,
    });
    const first = await run();
    const body = JSON.stringify(first.events);
    expect(decodeEventBody(body, "application/cloudevents-batch+json").rejections).toEqual([]);
    for (const event of first.events) expect(parseCostEvent(event, NOW).ok).toBe(true);
    const stored = await ingest.ingest(body, "application/cloudevents-batch+json");
    expect(stored).toMatchObject({ received: 7, accepted: 7, duplicates: 0, rejected: [] });
    const storedNanos = warehouse.events().reduce((sum, row) => sum + row.cost_nanos, 0n);
    expect(storedNanos).toBe(FETCHED);

    const second = await run();
    expect(second.events.map((e) => e.id)).toEqual(first.events.map((e) => e.id));
    const again = await ingest.ingest(JSON.stringify(second.events), "application/cloudevents-batch+json");
    expect(again).toMatchObject({ accepted: 0, duplicates: 7, rejected: [] });
    expect(warehouse.events().reduce((sum, row) => sum + row.cost_nanos, 0n)).toBe(FETCHED);
  });

  it("publishes at most 500 events per message", async () => {
    const many = Array.from({ length: 1201 }, (_, i) =>
      k8sAllocation({
        name: `ml/pod-${i}`,
        pod: `pod-${i}`,
        labels: { team: "search" },
        components: { cpu: 1n },
      }),
    );
    const { run, published } = await setup(KEEP, { allocations: async () => many });
    const { summary, events } = await run();
    expect(published.map((m) => (JSON.parse(m.data.toString()) as unknown[]).length)).toEqual([
      MAX_EVENTS_PER_MESSAGE,
      MAX_EVENTS_PER_MESSAGE,
      201,
    ]);
    expect(summary).toMatchObject({ events: 1201, messages: 3, totalNanos: 1201n, attributedNanos: 1201n });
    expect(new Set(events.map((e) => e.id)).size).toBe(1201);
  });

  it("publishes nothing for a window without allocations", async () => {
    const { run, published } = await setup(KEEP, { allocations: async () => [] });
    const { summary } = await run();
    expect(published).toEqual([]);
    expect(summary).toMatchObject({ events: 0, messages: 0, totalNanos: 0n });
  });

  it("collects a window hour by hour: a wider backfill over collected hours adds only the new hours", async () => {
    // Prepare: a source that accumulates 1 USD of GPU an hour, as Kubecost does over any window.
    const asked: string[] = [];
    const source: AllocationSource = {
      allocations: async (window) => {
        asked.push(`${window.from.toISOString()},${window.to.toISOString()}`);
        const hours = BigInt((window.to.getTime() - window.from.getTime()) / 3_600_000);
        return [
          k8sAllocation({
            labels: { team: "search" },
            window: { start: window.from, end: window.to },
            components: { gpu: hours * 1_000_000_000n },
          }),
        ];
      },
    };
    bus = createMemoryBus({ logger: silentLogger });
    const warehouse = createMemoryWarehouse();
    const ingest = createIngestEvents({
      warehouse,
      pricer: testPricer(),
      clock: fixedClock(NOW),
      logger: silentLogger,
    });
    await bus.subscribe(TOPICS.events, "ingest", async (m) => {
      await ingest.ingest(m.data, m.attributes["content-type"]);
    });
    const collector = createCollectAllocations({
      source,
      bus,
      clock: fixedClock(NOW),
      cluster: "prod-gke-1",
    });
    const at = (hour: number) => new Date(Date.UTC(2026, 10, 15, hour));

    // Act: the scheduled hour, then a backfill of the three hours around it, then the same again.
    const scheduled = await collector.collect();
    const backfill = await collector.collect({ from: at(8), to: at(11) });
    await collector.collect({ from: at(8), to: at(11) });
    await bus.drain();

    // Assess
    expect(scheduled).toMatchObject({ hours: 1, events: 1, totalNanos: 1_000_000_000n });
    expect(backfill).toMatchObject({
      window: { from: at(8), to: at(11) },
      hours: 3,
      events: 3,
      fetchedNanos: 3_000_000_000n,
      totalNanos: 3_000_000_000n,
    });
    expect(asked.slice(0, 4)).toEqual([
      "2026-11-15T10:00:00.000Z,2026-11-15T11:00:00.000Z",
      "2026-11-15T08:00:00.000Z,2026-11-15T09:00:00.000Z",
      "2026-11-15T09:00:00.000Z,2026-11-15T10:00:00.000Z",
      "2026-11-15T10:00:00.000Z,2026-11-15T11:00:00.000Z",
    ]);
    expect(warehouse.events().reduce((sum, row) => sum + row.cost_nanos, 0n)).toBe(3_000_000_000n);
    expect(warehouse.conflicts()).toEqual([]);
  });

  it.each([
    ["from", { from: "2026-11-15T09:30:00Z", to: "2026-11-15T11:00:00Z" }, /^from: .* not a whole UTC hour/],
    ["to", { from: "2026-11-15T09:00:00Z", to: "2026-11-15T10:00:00.500Z" }, /^to: .* not a whole UTC hour/],
    ["to", { from: "2026-11-15T10:00:00Z", to: "2026-11-15T12:00:00Z" }, /^to: .* has not passed yet/],
    [
      "from",
      { from: "2025-10-01T00:00:00Z", to: "2025-10-01T01:00:00Z" },
      /^from: .* more than 400 days ago/,
    ],
    [
      "window",
      { from: "2026-10-01T00:00:00Z", to: "2026-11-15T00:00:00Z" },
      /^window: 1080 hours; at most 744/,
    ],
  ])(
    "refuses a window it cannot collect whole, naming %s, before asking the source",
    async (_, window, message) => {
      bus = createMemoryBus({ logger: silentLogger });
      const collector = createCollectAllocations({
        source: { allocations: async () => expect.unreachable("source called") },
        bus,
        clock: fixedClock(NOW),
        cluster: "prod-gke-1",
      });
      await expect(
        collector.collect({ from: new Date(window.from), to: new Date(window.to) }),
      ).rejects.toMatchObject({ code: "invalid", message: expect.stringMatching(message) });
    },
  );

  it("refuses an empty window before asking the source", async () => {
    bus = createMemoryBus({ logger: silentLogger });
    const collector = createCollectAllocations({
      source: { allocations: async () => expect.unreachable("source called") },
      bus,
      clock: fixedClock(NOW),
      cluster: "prod-gke-1",
    });
    await expect(collector.collect({ from: NOW, to: NOW })).rejects.toMatchObject({ code: "invalid" });
  });
});
