import { describe, expect, it } from "vitest";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import { createIngestEvents, ingestStatus } from "#app/ingest-events.ts";
import type { CostRow } from "#domain/cost-row.ts";
import { MAX_PAYLOAD_BYTES } from "#domain/events/decode-body.ts";
import { createPricer } from "#domain/pricing/pricer.ts";
import type { DeliveredMessage } from "#ports/bus.ts";
import { BusError } from "#ports/bus-error.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import { isRetryableError } from "#ports/port-error.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";
import {
  fixedEvent,
  inferenceEvent,
  NOW,
  ndjson,
  TEST_CATALOG,
  testPricer,
  trainingEvent,
} from "../support/ingest-builders.ts";
import { createMemoryWarehouse } from "../support/memory-warehouse.ts";

const DEAD_LETTER = "finops-cost-events-dead-letter";

/** Ingest over a bus whose every publish (the dead-letter one) fails with `error`. */
function ingestWhenDeadLetterFails(error: BusError) {
  const store = createMemoryWarehouse();
  const { ingest } = createIngestEvents({
    warehouse: store,
    pricer: testPricer(),
    clock: fixedClock(NOW),
    bus: {
      async publish() {
        throw error;
      },
      async subscribe() {
        throw new BusError("invalid", "not used");
      },
      async close() {},
    },
    deadLetterTopic: DEAD_LETTER,
    logger: silentLogger,
  });
  return { store, ingest };
}

async function setup(warehouseOverride?: (w: Warehouse) => Warehouse) {
  const store = createMemoryWarehouse();
  const warehouse = warehouseOverride ? warehouseOverride(store) : store;
  const bus = createMemoryBus({ logger: silentLogger });
  const deadLetters: DeliveredMessage[] = [];
  await bus.subscribe(DEAD_LETTER, "dead-letter-test", async (m) => {
    deadLetters.push(m);
  });
  const ingest = createIngestEvents({
    warehouse,
    pricer: testPricer(),
    clock: fixedClock(NOW),
    bus,
    deadLetterTopic: DEAD_LETTER,
    logger: silentLogger,
  });
  return { store, bus, deadLetters, ingest: ingest.ingest, ingestBodies: ingest.ingestBodies };
}

/** The bad inputs of the issue, each with the field its rejection must name. */
const BAD_EVENTS: ReadonlyArray<[string, unknown, string]> = [
  ["missing id", { ...inferenceEvent({ id: "x" }), id: undefined }, "id"],
  ["missing team", inferenceEvent({ id: "bad-team", data: { team: undefined } }), "data.team"],
  ["missing time", { ...inferenceEvent({ id: "bad-time" }), time: undefined }, "time"],
  [
    "gpu_seconds as text",
    inferenceEvent({ id: "bad-type", data: { gpu_seconds: "ten" } }),
    "data.gpu_seconds",
  ],
  [
    "tokens as float",
    inferenceEvent({ id: "bad-int", data: { provider: "x", input_tokens: 1.5 } }),
    "data.input_tokens",
  ],
  ["negative cost", inferenceEvent({ id: "neg", data: { cost_nanos: "-5" } }), "data.cost_nanos"],
  ["negative number cost", inferenceEvent({ id: "neg2", data: { cost_nanos: -5 } }), "data.cost_nanos"],
  ['"NaN" cost', inferenceEvent({ id: "nan", data: { cost_nanos: "NaN" } }), "data.cost_nanos"],
  ["null cost", inferenceEvent({ id: "null", data: { cost_nanos: null } }), "data.cost_nanos"],
  ["absurd gpu_seconds", inferenceEvent({ id: "long", data: { gpu_seconds: 1e9 } }), "data.gpu_seconds"],
  [
    "absurd elapsed_seconds",
    trainingEvent({ id: "long-job", data: { elapsed_seconds: 1e12 } }),
    "data.elapsed_seconds",
  ],
  [
    "unknown instance type",
    inferenceEvent({ id: "unk", data: { instance_type: "p99.mega" } }),
    "data.instance_type",
  ],
  ["time far in the future", inferenceEvent({ id: "future", time: "2031-01-01T00:00:00Z" }), "time"],
  ["1 MB string", inferenceEvent({ id: "huge", data: { model: "m".repeat(1024 * 1024) } }), "data.model"],
  ["unknown type", inferenceEvent({ id: "type", type: "ai.cost.magic.v1" }), "type"],
];

describe("ingest", () => {
  it("stores the good events of a batch and rejects each bad one with a reason naming its field", async () => {
    const { store, bus, deadLetters, ingest } = await setup();
    const good = [inferenceEvent({ id: "good-1" }), trainingEvent({ id: "good-2" })];
    const lines = [
      JSON.stringify(good[0]),
      ...BAD_EVENTS.map(([, event]) => JSON.stringify(event)),
      '{"specversion": "1.0", "id": ',
      JSON.stringify(good[1]),
    ];
    const summary = await ingest(lines.join("\n"), "application/x-ndjson");

    expect(summary.received).toBe(lines.length);
    expect(summary.accepted).toBe(2);
    expect(summary.duplicates).toBe(0);
    const expectedFields = [...BAD_EVENTS.map(([, , field]) => field), "body"];
    expect(summary.rejected.map((r) => r.field)).toEqual(expectedFields);
    for (const rejection of summary.rejected) {
      expect(rejection.reason.startsWith(`${rejection.field}:`)).toBe(true);
    }
    expect(summary.rejected.at(-1)?.reason).toMatch(/^body: line 17 is not valid JSON/);
    expect(summary.rejected.find((r) => r.field === "data.instance_type")).toMatchObject({
      index: 12,
      id: "unk",
      source: "//inference/fraud-scorer",
    });

    expect(store.events().map((r) => r.event_id)).toEqual(["good-1", "good-2"]);
    expect(store.insertCalls()).toBe(1);
    const rejectedRows = store.rejected();
    expect(rejectedRows).toHaveLength(BAD_EVENTS.length + 1);
    expect(rejectedRows.every((r) => Buffer.byteLength(r.payload) <= MAX_PAYLOAD_BYTES)).toBe(true);
    expect(rejectedRows.find((r) => r.event_id === "neg")).toMatchObject({
      event_source: "//inference/fraud-scorer",
      event_type: "ai.cost.inference.v1",
      field: "data.cost_nanos",
      rejected_at: NOW,
    });

    await bus.drain();
    expect(deadLetters).toHaveLength(BAD_EVENTS.length + 1);
    const negative = deadLetters.find((m) => m.attributes.event_id === "neg");
    expect(negative?.attributes).toMatchObject({ field: "data.cost_nanos", index: "6" });
    expect(negative?.attributes.reason).toMatch(/^data\.cost_nanos: /);
    expect(JSON.parse(negative?.data.toString() ?? "")).toEqual(BAD_EVENTS[5]?.[1]);
  });

  it("prices the rows it stores and reports the span of event hours written", async () => {
    const { store, ingest } = await setup();
    const summary = await ingest(
      JSON.stringify([inferenceEvent({ id: "a" }), fixedEvent({ id: "f" })]),
      "application/cloudevents-batch+json",
    );
    expect(summary).toMatchObject({ received: 2, accepted: 2, duplicates: 0, rejected: [] });
    expect(summary.hours).toEqual({
      from: new Date("2026-11-15T08:00:00Z"),
      to: new Date("2026-11-15T12:00:00Z"),
    });
    const rows = store.events();
    // 10 s of a 3.06 USD/h instance is 0.0085 USD; the fixed 3 USD is split over three hours.
    expect(rows.find((r) => r.event_id === "a")).toMatchObject({ cost_nanos: 8_500_000n, ingested_at: NOW });
    expect(rows.filter((r) => r.event_id === "f").map((r) => r.cost_nanos)).toEqual([
      1_000_000_000n,
      1_000_000_000n,
      1_000_000_000n,
    ]);
  });

  it("counts repeats within a body and across bodies as duplicates, by event", async () => {
    const { store, ingest } = await setup();
    const first = await ingest(
      ndjson([inferenceEvent({ id: "a" }), fixedEvent(), inferenceEvent({ id: "a" })]),
    );
    expect(first).toMatchObject({ received: 3, accepted: 2, duplicates: 1, rejected: [] });

    const again = await ingest(ndjson([fixedEvent(), inferenceEvent({ id: "a" })]));
    expect(again).toMatchObject({ received: 2, accepted: 0, duplicates: 2, rejected: [], hours: null });

    const mixed = await ingest(
      ndjson([fixedEvent(), inferenceEvent({ id: "b" }), inferenceEvent({ id: "a" })]),
    );
    expect(mixed).toMatchObject({ received: 3, accepted: 1, duplicates: 2 });
    expect(store.events()).toHaveLength(1 + 3 + 1);
  });

  it("counts duplicates event by event in a body that mixes a new multi-row event with stored ones", async () => {
    const { store, ingest } = await setup();
    const stored = [inferenceEvent({ id: "a" }), inferenceEvent({ id: "b" }), inferenceEvent({ id: "c" })];
    expect(await ingest(ndjson(stored))).toMatchObject({ accepted: 3, duplicates: 0 });

    const threeHours = fixedEvent({ id: "f3" });
    const mixed = await ingest(ndjson([threeHours, ...stored]));
    expect(mixed).toMatchObject({ received: 4, accepted: 1, duplicates: 3, rejected: [] });
    expect(store.events().filter((r) => r.event_id === "f3")).toHaveLength(3);
    // Only the new event's hours need a refresh.
    expect(mixed.hours).toEqual({
      from: new Date("2026-11-15T08:00:00.000Z"),
      to: new Date("2026-11-15T11:00:00.000Z"),
    });
  });

  it("counts an event stored before with another period as a conflict, keeping the first copy", async () => {
    const { store, ingest } = await setup();
    const twoHours = fixedEvent({
      id: "grows",
      data: { period: { start: "2026-11-15T08:00:00Z", end: "2026-11-15T10:00:00Z" } },
    });
    expect(await ingest(ndjson([twoHours]))).toMatchObject({ accepted: 1, duplicates: 0, conflicts: 0 });
    const again = await ingest(ndjson([fixedEvent({ id: "grows" }), inferenceEvent({ id: "x" })]));
    expect(again).toMatchObject({ accepted: 1, duplicates: 0, conflicts: 1, rejected: [] });
    expect(store.events().filter((r) => r.event_id === "grows")).toHaveLength(2);
  });

  describe("conflicts: the same (source, id) with another payload", () => {
    const one = inferenceEvent({ id: "k", data: { cost_nanos: "1000000000" } });
    const seven = inferenceEvent({ id: "k", data: { cost_nanos: "7000000000" } });
    const otherTeam = inferenceEvent({ id: "k", data: { team: "vision" } });
    const otherTime = inferenceEvent({ id: "k", time: "2026-11-14T01:00:00Z" });

    it.each([
      ["another cost", seven],
      ["another team", otherTeam],
      ["another time", otherTime],
    ])("keeps the first copy counted and the other retrievable, across bodies (%s)", async (_, second) => {
      const { store, ingest } = await setup();
      await ingest(JSON.stringify(one));
      const answer = await ingest(JSON.stringify(second));
      expect(answer).toMatchObject({ accepted: 0, duplicates: 0, conflicts: 1, rejected: [] });
      expect(ingestStatus(answer)).toBe(200);
      expect(store.events().map((r) => r.cost_nanos)).toEqual([1_000_000_000n]);
      const [conflict] = store.conflicts();
      expect(conflict).toMatchObject({ event_id: "k", stored_hash: store.events()[0]?.payload_hash });
      expect(JSON.parse(conflict?.payload ?? "{}")).toEqual(second);
    });

    it("does the same within one body, the first copy in the body counted", async () => {
      const { store, ingest } = await setup();
      const answer = await ingest(ndjson([one, seven, one]));
      expect(answer).toMatchObject({ received: 3, accepted: 1, duplicates: 1, conflicts: 1 });
      expect(store.events().map((r) => r.cost_nanos)).toEqual([1_000_000_000n]);
      expect(store.conflicts()).toHaveLength(1);
    });

    it("treats the same event laid out differently (key order, spacing, time format) as a duplicate", async () => {
      const { ingest } = await setup();
      await ingest(JSON.stringify(one));
      const reordered = Object.fromEntries(Object.entries(one).reverse());
      const answer = await ingest(JSON.stringify(reordered, null, 2), "application/json");
      expect(answer).toMatchObject({ accepted: 0, duplicates: 1, conflicts: 0 });
    });
  });

  it("reads an empty body as zero events and rejects invalid JSON, without touching the event table", async () => {
    const { store, ingest } = await setup();
    const empty = await ingest("");
    expect(empty).toEqual({
      received: 0,
      accepted: 0,
      duplicates: 0,
      conflicts: 0,
      rejected: [],
      hours: null,
    });
    expect(ingestStatus(empty)).toBe(200);
    const invalid = await ingest("{not json", "application/json");
    expect(invalid.rejected).toEqual([
      { index: 0, field: "body", reason: expect.stringMatching(/^body: line 1 is not valid JSON/) },
    ]);
    expect(store.insertCalls()).toBe(0);
    expect(store.rejected()).toHaveLength(1);
  });

  it("lets a transient warehouse failure propagate, and a retry loses nothing", async () => {
    let failures = 1;
    const { store, deadLetters, bus, ingest } = await setup((w) => ({
      ...w,
      async insertEvents(rows) {
        if (failures-- > 0) throw new WarehouseError("backend timeout", "unavailable");
        return w.insertEvents(rows);
      },
    }));
    const body = ndjson([inferenceEvent({ id: "a" }), inferenceEvent({ id: "b", data: { team: "" } })]);
    const error = await ingest(body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WarehouseError);
    expect(isRetryableError(error)).toBe(true);
    expect(store.events()).toEqual([]);

    const retried = await ingest(body);
    expect(retried).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(retried.rejected).toMatchObject([{ id: "b", field: "data.team" }]);
    await bus.drain();
    expect(deadLetters).toHaveLength(1);
  });

  it("isolates an event the warehouse refuses, keeping the rest of the batch", async () => {
    const refuses = (rows: readonly CostRow[]) => rows.some((r) => r.event_id === "poison");
    const { store, ingest } = await setup((w) => ({
      ...w,
      async insertEvents(rows) {
        if (refuses(rows)) throw new WarehouseError("row rejected: value out of range", "invalid");
        return w.insertEvents(rows);
      },
    }));
    const summary = await ingest(
      ndjson([inferenceEvent({ id: "a" }), inferenceEvent({ id: "poison" }), inferenceEvent({ id: "c" })]),
    );
    expect(summary).toMatchObject({ received: 3, accepted: 2, duplicates: 0 });
    expect(summary.rejected).toEqual([
      {
        index: 1,
        id: "poison",
        source: "//inference/fraud-scorer",
        field: "",
        reason: "event: the warehouse refused it (row rejected: value out of range)",
      },
    ]);
    expect(store.events().map((r) => r.event_id)).toEqual(["a", "c"]);
  });

  it("throws when the dead-letter topic is unavailable, so the delivery is retried", async () => {
    const { store, ingest } = ingestWhenDeadLetterFails(
      new BusError("unavailable", "pubsub: deadline exceeded"),
    );
    const error = await ingest(ndjson([inferenceEvent({ id: "ok" }), { id: "bad" }])).catch(
      (e: unknown) => e,
    );
    expect(isRetryableError(error)).toBe(true);
    expect(store.events().map((r) => r.event_id)).toEqual(["ok"]);
  });

  it("classifies a full disk as retryable: 503 for the edge, no event rejected, nothing half stored", async () => {
    let full = true;
    const { store, ingest } = await setup((w) => ({
      ...w,
      async insertEvents(rows) {
        if (full)
          throw new WarehouseError(
            "DuckDB insertEvents failed: IO Error: No space left on device",
            "unavailable",
          );
        return w.insertEvents(rows);
      },
    }));
    const body = ndjson(Array.from({ length: 20 }, (_, i) => inferenceEvent({ id: `e${i}` })));
    const error = await ingest(body).catch((e: unknown) => e);
    expect(isRetryableError(error)).toBe(true);
    expect(store.rejected()).toEqual([]);
    full = false;
    expect(await ingest(body)).toMatchObject({ accepted: 20, rejected: [] });
  });

  it("stores and dead-letters a rejection once, however often its input is delivered", async () => {
    const { store, deadLetters, bus, ingest } = await setup();
    const body = ndjson([inferenceEvent({ id: "ok" }), { id: "bad" }]);
    for (let delivery = 0; delivery < 3; delivery++) await ingest(body);
    await bus.drain();
    expect(store.rejected()).toHaveLength(1);
    expect(deadLetters).toHaveLength(1);
  });

  it("keeps the rejection when the dead-letter topic is gone for good, instead of looping", async () => {
    const { store, ingest } = ingestWhenDeadLetterFails(
      new BusError("invalid", "pubsub: NOT_FOUND: topic not found"),
    );
    const summary = await ingest(ndjson([inferenceEvent({ id: "ok" }), { id: "bad" }]));
    expect(ingestStatus(summary)).toBe(207);
    expect(store.rejected()).toHaveLength(1);
  });

  it("counts the events priced by the configured region fallback, and refuses an unpriced region without one", async () => {
    const store = createMemoryWarehouse();
    const ingestWith = (pricer: ReturnType<typeof testPricer>) =>
      createIngestEvents({ warehouse: store, pricer, clock: fixedClock(NOW), logger: silentLogger }).ingest;
    const elsewhere = inferenceEvent({ id: "eu", data: { region: "eu-west-1" } });

    const strict = await ingestWith(testPricer())(JSON.stringify(elsewhere));
    expect(strict.rejected).toEqual([expect.objectContaining({ field: "data.region" })]);
    expect(strict.fallbackPriced).toBeUndefined();

    const lenient = createPricer(TEST_CATALOG, { regionFallback: { aws: "us-east-1" } });
    const answer = await ingestWith(lenient)(ndjson([elsewhere, inferenceEvent({ id: "home" })]));
    expect(answer).toMatchObject({ accepted: 2, fallbackPriced: 1, rejected: [] });
    expect(store.events().find((r) => r.event_id === "eu")?.price_source).toMatch(
      /#fallback:region=us-east-1/,
    );
  });

  it("dead-letters a body it cannot read as the bytes received, with how they were encoded", async () => {
    const { store, deadLetters, bus, ingest } = await setup();
    const garbled = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef]);
    await ingest(garbled, "application/x-ndjson", "gzip");
    await ingest(garbled, "application/x-ndjson", "gzip");
    await bus.drain();
    expect(deadLetters).toHaveLength(1);
    expect(Buffer.from(deadLetters[0]?.data ?? [])).toEqual(garbled);
    expect(deadLetters[0]?.attributes).toMatchObject({
      "content-type": "application/x-ndjson",
      "content-encoding": "gzip",
      field: "body",
    });
    expect(store.rejected()).toHaveLength(1);
  });

  it("works without a bus: rejections still reach the rejected table", async () => {
    const store = createMemoryWarehouse();
    const { ingest } = createIngestEvents({
      warehouse: store,
      pricer: testPricer(),
      clock: fixedClock(NOW),
      logger: silentLogger,
    });
    const summary = await ingest(ndjson([inferenceEvent({ id: "ok" }), { id: "bad" }]));
    expect(ingestStatus(summary)).toBe(207);
    expect(store.rejected()).toHaveLength(1);
  });
});

describe("ingestStatus", () => {
  const base = { received: 1, accepted: 1, duplicates: 0, conflicts: 0, rejected: [], hours: null };
  const rejection = { index: 1, field: "id", reason: "id: required" };
  it("is 200 when all taken, 207 when some rejected, 400 when nothing taken", () => {
    expect(ingestStatus(base)).toBe(200);
    expect(ingestStatus({ ...base, accepted: 0, duplicates: 1 })).toBe(200);
    expect(ingestStatus({ ...base, rejected: [rejection] })).toBe(207);
    expect(ingestStatus({ ...base, accepted: 0, duplicates: 1, rejected: [rejection] })).toBe(207);
    expect(ingestStatus({ ...base, accepted: 0, rejected: [rejection] })).toBe(400);
  });
});

describe("ingestBodies", () => {
  it("stores several bodies in one insert and answers each as one body made of them all would", async () => {
    const { store, ingestBodies } = await setup();
    await ingestBodies([
      { body: ndjson([inferenceEvent({ id: "stored" })]), contentType: "application/x-ndjson" },
    ]);
    const calls = store.insertCalls();
    const [first, second] = await ingestBodies([
      {
        body: ndjson([inferenceEvent({ id: "a" }), inferenceEvent({ id: "stored" }), { id: "bad" }]),
        contentType: "application/x-ndjson",
      },
      {
        body: ndjson([
          inferenceEvent({ id: "a" }),
          inferenceEvent({ id: "b", data: { gpu_seconds: 20 } }),
          inferenceEvent({ id: "b", data: { gpu_seconds: 30 } }),
          inferenceEvent({ id: "stored", data: { gpu_seconds: 40 } }),
          trainingEvent({ id: "t" }),
        ]),
        contentType: "application/x-ndjson",
      },
    ]);
    expect(store.insertCalls()).toBe(calls + 1);
    expect(first).toMatchObject({ received: 3, accepted: 1, duplicates: 1, conflicts: 0 });
    expect(first?.rejected.map((r) => [r.index, r.field])).toEqual([[2, "specversion"]]);
    expect(second).toMatchObject({ received: 5, accepted: 2, duplicates: 1, conflicts: 2, rejected: [] });
    expect(second?.hours).toEqual({
      from: new Date("2026-11-15T10:00:00Z"),
      to: new Date("2026-11-15T12:00:00Z"),
    });
    expect(store.conflicts().map((c) => c.event_id)).toEqual(["b", "stored"]);
    expect(
      store
        .events()
        .map((r) => r.event_id)
        .sort(),
    ).toEqual(["a", "b", "stored", "t"]);
  });
});
