import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDuckDbWarehouse, type DuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import type { GroupKey } from "#domain/cost-row.ts";
import type { ReportReads } from "#ports/warehouse.ts";
import { BASE_HOUR, costRow, trainingRow } from "../support/cost-row-builder.ts";

// Live reports on DuckDB: the rollup's settled hours, and the pending hours computed from the raw
// rows as the next refresh will compute them. Each case compares live reads with what the refresh
// then writes, so "the same to the nano" is checked against the rollup itself.

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const USD = 1_000_000_000n;
/** What refreshPending takes as now: an hour after the base hour. */
const NOW = new Date(BASE_HOUR.getTime() + HOUR_MS);
/** A report range from before the oldest backfill the cases write to after their latest hour. */
const RANGE = {
  from: new Date(BASE_HOUR.getTime() - 400 * DAY_MS),
  to: new Date(BASE_HOUR.getTime() + 6 * HOUR_MS),
};

describe("live reports on DuckDB (the rollup's settled hours and the raw tail)", () => {
  let warehouse: DuckDbWarehouse;

  beforeEach(async () => {
    warehouse = createDuckDbWarehouse({ path: ":memory:" });
    await warehouse.init();
  });
  afterEach(() => warehouse.close());

  /** "group|group → nanos" of a report over RANGE. */
  async function figures(reads: ReportReads, by: GroupKey[] = ["team", "model", "business_unit"]) {
    const rows = await warehouse.report({ ...RANGE, by, reads });
    return new Map(
      rows.map((row) => [`${by.map((d) => row.group[d]).join("|")} ${row.currency}`, row.cost_nanos]),
    );
  }

  async function total(reads: ReportReads): Promise<bigint> {
    const [row] = await warehouse.report({ ...RANGE, by: [], reads });
    return row?.cost_nanos ?? 0n;
  }

  it("shows an event as soon as it is stored; the rollup alone shows it after the refresh", async () => {
    await warehouse.insertEvents([costRow({ team: "risk", cost_nanos: 1_500_000_001n })]);

    expect(await figures("live", ["team"])).toEqual(new Map([["risk USD", 1_500_000_001n]]));
    expect(await figures("rollup", ["team"])).toEqual(new Map());

    await warehouse.refreshPending(NOW);
    expect(await figures("rollup", ["team"])).toEqual(new Map([["risk USD", 1_500_000_001n]]));
    expect(await figures("live", ["team"])).toEqual(new Map([["risk USD", 1_500_000_001n]]));
  });

  it("gives an unrefreshed hour the figures its refresh writes, infrastructure and usage shares included, to the nano", async () => {
    // A Kubecost-covered namespace divided among its requests, a licence shared by usage, a training
    // job charged by differences, and a second hour already settled before the new rows arrive.
    await warehouse.insertEvents([
      costRow({ team: "search", event_time: new Date(BASE_HOUR.getTime() - HOUR_MS) }),
    ]);
    await warehouse.refreshPending(NOW);
    await warehouse.insertEvents([
      costRow({
        event_type: "ai.cost.allocation.v1",
        event_source: "//kubecost/prod",
        basis: "allocation",
        team: "ml-platform",
        model: "unallocated",
        namespace: "serving",
        cost_nanos: 10n * USD + 7n,
      }),
      costRow({ namespace: "serving", business_unit: "consumer", cost_nanos: 1_000_000_003n }),
      costRow({ namespace: "serving", business_unit: "enterprise", team: "ads", cost_nanos: 2_000_000_005n }),
      costRow({ namespace: "batch", team: "ads", cost_nanos: 333_333_333n }),
      costRow({
        event_type: "ai.cost.fixed.v1",
        team: "shared",
        model: "unallocated",
        cost_nanos: 4n * USD + 1n,
      }),
      trainingRow("job-1", 600, 3n * USD, { namespace: "training" }),
      trainingRow("job-1", 1200, 5n * USD + 9n, { namespace: "training" }),
    ]);

    const live = await figures("live");
    expect([...live.keys()].some((key) => key.startsWith("shared"))).toBe(false);
    await warehouse.refreshPending(NOW);

    expect(await figures("rollup")).toEqual(live);
    expect(await figures("live")).toEqual(live);
    const came = 1_500_000_000n + 10n * USD + 7n + 4n * USD + 1n + 333_333_333n + 5n * USD + 9n;
    expect(await total("live")).toBe(came);
  });

  it("reads a backfill into a year-old hour from the tail, beside the current hour", async () => {
    const yearOld = new Date(BASE_HOUR.getTime() - 365 * DAY_MS);
    await warehouse.insertEvents([costRow({ team: "risk", cost_nanos: 2n * USD })]);
    await warehouse.refreshPending(NOW);
    await warehouse.insertEvents([
      costRow({ team: "archive", event_time: yearOld, cost_nanos: 7n * USD + 3n }),
      costRow({ team: "risk", cost_nanos: USD }),
    ]);

    const live = await figures("live", ["day", "team"]);
    expect(live).toEqual(
      new Map([
        ["2026-11-15|risk USD", 3n * USD],
        ["2025-11-15|archive USD", 7n * USD + 3n],
      ]),
    );
    expect(await figures("rollup", ["day", "team"])).toEqual(new Map([["2026-11-15|risk USD", 2n * USD]]));

    await warehouse.refreshPending(NOW);
    expect(await figures("rollup", ["day", "team"])).toEqual(live);
  });

  it("reads a late training event's job from the tail through its later hours, so no difference is charged twice", async () => {
    // The job's events at 1 h and 3 h are settled; one at 2 h arrives late and changes the 3 h charge.
    await warehouse.insertEvents([
      trainingRow("job-7", 3_600, 10n * USD),
      trainingRow("job-7", 3 * 3_600, 30n * USD),
    ]);
    await warehouse.refreshPending(new Date(BASE_HOUR.getTime() + 4 * HOUR_MS));
    await warehouse.insertEvents([trainingRow("job-7", 2 * 3_600, 20n * USD)]);

    const live = await figures("live", ["hour"]);
    expect([...live.values()]).toEqual([10n * USD, 10n * USD, 10n * USD]);
    await warehouse.refreshPending(new Date(BASE_HOUR.getTime() + 4 * HOUR_MS));
    expect(await figures("rollup", ["hour"])).toEqual(live);
  });

  it("counts every stored batch once while refreshes run between the inserts and the reports", async () => {
    const batches = Array.from({ length: 12 }, (_, i) =>
      Array.from({ length: 5 }, (_, j) =>
        costRow({
          cost_nanos: BigInt(i * 5 + j + 1) * 1_000_000_007n,
          event_time: new Date(BASE_HOUR.getTime() + j * 600_000),
        }),
      ),
    );
    const prefixes = [0n];
    for (const batch of batches)
      prefixes.push((prefixes.at(-1) ?? 0n) + batch.reduce((s, r) => s + r.cost_nanos, 0n));

    // Calls are queued in the order made: each report comes after its batch's insert and any refresh
    // before it, so it must see exactly the batches stored so far, none twice, none missing.
    const seen = await Promise.all(
      batches.map(async (batch, i) => {
        const stored = warehouse.insertEvents(batch);
        const refreshed = i % 3 === 0 ? warehouse.refreshPending(NOW) : undefined;
        const figure = total("live");
        await Promise.all([stored, refreshed]);
        return figure;
      }),
    );
    expect(seen).toEqual(prefixes.slice(1));
    expect(await total("live")).toBe(prefixes.at(-1));
    await warehouse.refreshPending(NOW);
    expect(await total("rollup")).toBe(prefixes.at(-1));
  });
});
