import { describe, expect, it } from "vitest";
import { createIngestEvents } from "#app/ingest-events.ts";
import { createRefreshRollups, INGEST_MARGIN_MS } from "#app/refresh-rollups.ts";
import type { Clock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import type { TimeRange } from "#ports/warehouse.ts";
import { inferenceEvent, NOW, ndjson, testPricer, trainingEvent } from "../support/ingest-builders.ts";
import { createMemoryWarehouse } from "../support/memory-warehouse.ts";

function movingClock(start: Date) {
  let at = start.getTime();
  const clock: Clock = { now: () => new Date(at) };
  return { clock, advance: (ms: number) => (at += ms) };
}

async function setup() {
  const store = createMemoryWarehouse();
  const refreshed: TimeRange[] = [];
  const warehouse = {
    ...store,
    async refreshHourly(range: TimeRange) {
      refreshed.push(range);
      return store.refreshHourly(range);
    },
  };
  const { clock, advance } = movingClock(NOW);
  const { ingest } = createIngestEvents({ warehouse, pricer: testPricer(), clock, logger: silentLogger });
  const { refresh } = createRefreshRollups({ warehouse, clock });
  const total = async () => {
    const [row] = await store.report({
      from: new Date("2026-11-01T00:00:00Z"),
      to: new Date("2026-12-01T00:00:00Z"),
      by: [],
    });
    return row?.cost_nanos ?? 0n;
  };
  return { ingest, refresh, refreshed, advance, total };
}

describe("refresh", () => {
  it("rebuilds the hours touched since the watermark and returns a watermark behind this run's start", async () => {
    const { ingest, refresh, refreshed, advance, total } = await setup();
    await ingest(
      ndjson([inferenceEvent({ id: "a" }), inferenceEvent({ id: "b", time: "2026-11-15T09:10:00Z" })]),
    );
    advance(60_000);
    const watermark = await refresh(new Date(0));
    expect(watermark).toEqual(new Date(NOW.getTime() + 60_000 - INGEST_MARGIN_MS));
    expect(refreshed).toEqual([
      { from: new Date("2026-11-15T09:00:00Z"), to: new Date("2026-11-15T13:00:00Z") },
    ]);
    expect(await total()).toBe(17_000_000n);

    advance(60_000);
    const next = await refresh(watermark);
    expect(next).toEqual(new Date(NOW.getTime() + 120_000 - INGEST_MARGIN_MS));
    expect(refreshed).toHaveLength(2); // still within the margin: the same hours again, harmlessly
    expect(await total()).toBe(17_000_000n);

    advance(INGEST_MARGIN_MS);
    const past = await refresh(next);
    expect(past.getTime()).toBeGreaterThan(NOW.getTime()); // the watermark has passed the rows
    await refresh(past);
    expect(refreshed).toHaveLength(3);
  });

  it("charges a late training event once: later hours of the job are rebuilt too", async () => {
    const { ingest, refresh, advance, total } = await setup();
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
    advance(1000);
    let watermark = await refresh(new Date(0));
    expect(await total()).toBe(2000n);

    advance(1000);
    await ingest(JSON.stringify(earlier));
    advance(1000);
    watermark = await refresh(watermark);
    expect(await total()).toBe(2000n);
  });

  it("refuses a lookback that is not a positive number of days", () => {
    const store = createMemoryWarehouse();
    expect(() =>
      createRefreshRollups({ warehouse: store, clock: { now: () => NOW }, lookbackDays: 0 }),
    ).toThrow(/lookbackDays/);
  });
});
