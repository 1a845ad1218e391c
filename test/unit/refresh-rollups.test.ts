import { describe, expect, it } from "vitest";
import { createIngestEvents } from "#app/ingest-events.ts";
import { createRefreshRollups } from "#app/refresh-rollups.ts";
import { silentLogger } from "#ports/logger.ts";
import { inferenceEvent, NOW, ndjson, testPricer, trainingEvent } from "../support/ingest-builders.ts";
import { createMemoryWarehouse } from "../support/memory-warehouse.ts";

const DAY_MS = 24 * 3_600_000;

function setup() {
  const warehouse = createMemoryWarehouse();
  const clock = { now: () => NOW };
  const { ingest } = createIngestEvents({ warehouse, pricer: testPricer(), clock, logger: silentLogger });
  const { refresh } = createRefreshRollups({ warehouse, clock });
  const total = async (from = new Date(NOW.getTime() - 401 * DAY_MS)) => {
    const [row] = await warehouse.report({
      from,
      to: new Date(NOW.getTime() + DAY_MS),
      by: [],
      reads: "rollup",
    });
    return row?.cost_nanos ?? 0n;
  };
  return { ingest, refresh, total };
}

const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY_MS).toISOString();

describe("refresh", () => {
  it("rebuilds the hours written since the last refresh, then nothing until more is written", async () => {
    const { ingest, refresh, total } = setup();
    await ingest(
      ndjson([inferenceEvent({ id: "a" }), inferenceEvent({ id: "b", time: "2026-11-15T09:10:00Z" })]),
    );
    expect(await total()).toBe(0n);
    expect((await refresh()).length).toBe(1);
    expect(await total()).toBe(17_000_000n);
    expect(await refresh()).toEqual([]);
  });

  it("counts backfills of any accepted age: 60, 200 and 399 days old", async () => {
    const { ingest, refresh, total } = setup();
    const ages = [60, 200, 399];
    const summary = await ingest(
      ndjson(ages.map((age) => inferenceEvent({ id: `old-${age}`, time: daysAgo(age) }))),
    );
    expect(summary.accepted).toBe(3);
    await refresh();
    expect(await total()).toBe(3n * 8_500_000n);
  });

  it("charges a late training event once: later hours of the job are rebuilt too", async () => {
    const { ingest, refresh, total } = setup();
    const later = trainingEvent({
      id: "p2",
      time: "2026-11-15T11:00:00Z",
      data: { elapsed_seconds: 7200, cost_nanos: "2000" },
    });
    const earlier = trainingEvent({
      id: "p1",
      time: "2026-11-14T09:00:00Z",
      data: { elapsed_seconds: 3600, cost_nanos: "1200" },
    });
    await ingest(JSON.stringify(later));
    await refresh();
    expect(await total()).toBe(2000n);
    await ingest(JSON.stringify(earlier));
    await refresh();
    expect(await total()).toBe(2000n);
  });
});
