import { afterAll, describe, expect, it } from "vitest";
import { createIngestEvents } from "#app/ingest-events.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import { createPreparePool, ingestPrepared } from "#runtime/prepare-workers/prepare-pool.ts";
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

const NDJSON = "application/x-ndjson";
const pool = createPreparePool({ catalog: TEST_CATALOG, regionFallback: undefined }, 2);
afterAll(() => pool.close());

function setup() {
  const store = createMemoryWarehouse();
  const ingestEvents = createIngestEvents({
    warehouse: store,
    pricer: testPricer(),
    clock: fixedClock(NOW),
    logger: silentLogger,
  });
  return { store, ingestEvents };
}

/** Bodies with every case an insert tells apart: rows of several parts, labels, amounts, repeats, bad events. */
const BODIES = [
  {
    body: ndjson([
      inferenceEvent({ id: "a", data: { labels: { tier: "gold" } } }),
      inferenceEvent({ id: "stored" }),
      { id: "bad" },
      fixedEvent({ id: "licence" }),
      inferenceEvent({ id: "a", data: { labels: { tier: "gold" } } }),
    ]),
    contentType: NDJSON,
  },
  { body: "not json\n{}", contentType: NDJSON },
  {
    body: ndjson([
      inferenceEvent({ id: "b", data: { gpu_seconds: 20, namespace: "scoring" } }),
      inferenceEvent({ id: "b", data: { gpu_seconds: 30 } }),
      inferenceEvent({ id: "stored", data: { gpu_seconds: 40 } }),
      trainingEvent({ id: "t" }),
      inferenceEvent({ id: "unknown", data: { instance_type: "p99.mega" } }),
    ]),
    contentType: NDJSON,
  },
];

describe("bodies prepared in worker threads", () => {
  it("answer and store exactly as bodies prepared on the writing thread", async () => {
    const here = setup();
    const there = setup();
    const seed = [{ body: ndjson([inferenceEvent({ id: "stored", data: { gpu_seconds: 5 } })]) }];
    await here.ingestEvents.ingestBodies(seed);
    await there.ingestEvents.ingestBodies(seed);

    const expected = await here.ingestEvents.ingestBodies(BODIES);
    const answers = await there.ingestEvents.ingestBodies(BODIES, await pool.prepare(BODIES, NOW));

    expect(answers).toEqual(expected);
    expect(
      answers.map((a) => [a.received, a.accepted, a.duplicates, a.conflicts, a.rejected.length]),
    ).toEqual([
      [5, 2, 1, 1, 1],
      [2, 0, 0, 0, 2],
      [5, 2, 0, 2, 1],
    ]);
    expect(there.store.events()).toEqual(here.store.events());
    expect(there.store.conflicts()).toEqual(here.store.conflicts());
    expect(there.store.rejected()).toEqual(here.store.rejected());
  });

  it("start their inserts in the order of the calls, so the first copy of an event stays the one counted", async () => {
    const { store, ingestEvents } = setup();
    const ingest = ingestPrepared(ingestEvents, pool);
    // The first call is much larger: its worker finishes after the second call's.
    const many = Array.from({ length: 5000 }, (_, i) => inferenceEvent({ id: `e-${i}` }));
    const first = ingest([{ body: ndjson([...many, inferenceEvent({ id: "x" })]), contentType: NDJSON }]);
    const second = ingest([
      { body: ndjson([inferenceEvent({ id: "x", data: { gpu_seconds: 99 } })]), contentType: NDJSON },
    ]);
    const [[a], [b]] = await Promise.all([first, second]);
    expect(a).toMatchObject({ accepted: 5001, conflicts: 0 });
    expect(b).toMatchObject({ accepted: 0, conflicts: 1 });
    expect(store.events().find((r) => r.event_id === "x")?.gpu_seconds).toBe(10);
  });
});
