import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CostRow, RejectedRow } from "#domain/cost-row.ts";
import type { ReportRow, TimeRange, Warehouse } from "#ports/warehouse.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";
import { at, BASE_HOUR, costRow, rejectedRow, trainingRow } from "../support/cost-row-builder.ts";

export interface WarehouseUnderTest {
  /** An empty warehouse (a fresh file, database or dataset); the suite calls init(). */
  warehouse: Warehouse;
  /** What the adapter stored, to check round trips: raw rows with event_time in [from, to). */
  readEvents(range: TimeRange): Promise<CostRow[]>;
  /** Rejected rows with rejected_at in [from, to). */
  readRejected(range: TimeRange): Promise<RejectedRow[]>;
  /** Releases what the factory made besides the warehouse (a temp file, a dataset). */
  cleanup?(): Promise<void>;
}

export type WarehouseFactory = () => Promise<WarehouseUnderTest>;

const HOUR_MS = 3_600_000;
const hour = (n: number): Date => new Date(BASE_HOUR.getTime() + n * HOUR_MS);
const hours = (from: number, to: number): TimeRange => ({ from: hour(from), to: hour(to) });
/** Wide enough for every row the suite writes. */
const ALL: TimeRange = { from: hour(-24 * 30), to: hour(24 * 30) };
const USD = (units: bigint) => units * 1_000_000_000n;

async function expectWarehouseError(promise: Promise<unknown>, code: WarehouseError["code"]): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(WarehouseError);
  expect((error as WarehouseError).code).toBe(code);
}

/** Totals by currency over a range, as a plain object: { USD: nanos }. */
function byCurrency(rows: readonly ReportRow[]): Record<string, bigint> {
  return Object.fromEntries(rows.map((row) => [row.currency, row.cost_nanos]));
}

/** The behaviour every Warehouse adapter owes its callers; run it against each adapter. */
export function describeWarehouseContract(name: string, factory: WarehouseFactory): void {
  describe(`Warehouse contract: ${name}`, () => {
    let subject: WarehouseUnderTest;
    let warehouse: Warehouse;

    beforeEach(async () => {
      subject = await factory();
      warehouse = subject.warehouse;
      await warehouse.init();
    });

    afterEach(async () => {
      await warehouse.close();
      await subject.cleanup?.();
    });

    async function total(range: TimeRange, currency = "USD"): Promise<bigint> {
      const rows = await warehouse.report({ ...range, by: [], reads: "rollup" });
      return byCurrency(rows)[currency] ?? 0n;
    }

    describe("init", () => {
      it("can be called again on an initialized warehouse without losing rows", async () => {
        await warehouse.insertEvents([costRow()]);
        await warehouse.init();
        expect(await subject.readEvents(ALL)).toHaveLength(1);
      });
    });

    describe("insertEvents", () => {
      it("stores a batch and counts what it stored", async () => {
        const result = await warehouse.insertEvents([costRow(), costRow(), costRow()]);
        expect(result).toEqual({
          inserted: 3,
          duplicates: 0,
          duplicateRows: new Set(),
          conflictRows: new Map(),
        });
        expect(await subject.readEvents(ALL)).toHaveLength(3);
      });

      it("answers an empty batch with zero counts", async () => {
        expect(await warehouse.insertEvents([])).toEqual({
          inserted: 0,
          duplicates: 0,
          duplicateRows: new Set(),
          conflictRows: new Map(),
        });
      });

      it("keeps one copy of a key repeated within a batch", async () => {
        const row = costRow();
        const result = await warehouse.insertEvents([row, { ...row }, costRow(), { ...row }]);
        expect(result).toEqual({
          inserted: 2,
          duplicates: 2,
          duplicateRows: new Set([1, 3]),
          conflictRows: new Map(),
        });
        expect(await subject.readEvents(ALL)).toHaveLength(2);
      });

      it("names the duplicate rows by input index: stored keys and later copies within the batch", async () => {
        const stored = [costRow(), costRow({ part: 1 })];
        await warehouse.insertEvents(stored);
        const fresh = costRow();
        const result = await warehouse.insertEvents([
          fresh,
          { ...(stored[1] as CostRow), ingested_at: at(40) },
          costRow({ event_id: (stored[0] as CostRow).event_id, part: 2 }),
          { ...fresh },
          stored[0] as CostRow,
        ]);
        expect(result).toEqual({
          inserted: 2,
          duplicates: 3,
          duplicateRows: new Set([1, 3, 4]),
          conflictRows: new Map(),
        });
        expect(await subject.readEvents(ALL)).toHaveLength(4);
      });

      it("names one copy of a key repeated within a batch, whichever copy it keeps", async () => {
        const later = costRow({ event_id: "dup", ingested_at: at(30) });
        const result = await warehouse.insertEvents([later, { ...later, ingested_at: at(10) }]);
        expect(result.duplicates).toBe(1);
        expect(result.duplicateRows.size).toBe(1);
        expect([0, 1]).toContain([...result.duplicateRows][0]);
      });

      it("keeps the first ingested copy of a key within a batch", async () => {
        const later = costRow({ event_id: "dup", ingested_at: at(30), cost_nanos: 2n });
        const earlier = { ...later, ingested_at: at(10), cost_nanos: 1n };
        await warehouse.insertEvents([later, earlier]);
        const [stored] = await subject.readEvents(ALL);
        expect(stored?.cost_nanos).toBe(1n);
        expect(stored?.ingested_at).toEqual(at(10));
      });

      it("skips keys stored by an earlier batch, counting them as duplicates", async () => {
        const first = [costRow(), costRow()];
        expect(await warehouse.insertEvents(first)).toEqual({
          inserted: 2,
          duplicates: 0,
          duplicateRows: new Set(),
          conflictRows: new Map(),
        });
        const again = await warehouse.insertEvents([
          ...first.map((row) => ({ ...row, ingested_at: at(50) })),
        ]);
        expect(again).toEqual({
          inserted: 0,
          duplicates: 2,
          duplicateRows: new Set([0, 1]),
          conflictRows: new Map(),
        });
        const mixed = await warehouse.insertEvents([first[0] as CostRow, costRow()]);
        expect(mixed).toEqual({
          inserted: 1,
          duplicates: 1,
          duplicateRows: new Set([0]),
          conflictRows: new Map(),
        });
        expect(await subject.readEvents(ALL)).toHaveLength(3);
      });

      it("keys on (event_source, event_id, part), not on the id alone", async () => {
        const base = costRow({ event_id: "shared-id" });
        const result = await warehouse.insertEvents([
          base,
          { ...base, part: 1 },
          { ...base, event_source: "//inference/other" },
        ]);
        expect(result).toEqual({
          inserted: 3,
          duplicates: 0,
          duplicateRows: new Set(),
          conflictRows: new Map(),
        });
      });

      it("counts exactly when batches with shared keys arrive concurrently", async () => {
        const rows = Array.from({ length: 50 }, () => costRow());
        const results = await Promise.all([
          warehouse.insertEvents(rows.slice(0, 30)),
          warehouse.insertEvents(rows.slice(20, 50)),
          warehouse.insertEvents(rows.slice(10, 40)),
        ]);
        expect(results.reduce((sum, r) => sum + r.inserted, 0)).toBe(50);
        expect(results.reduce((sum, r) => sum + r.duplicates, 0)).toBe(40);
        for (const r of results) expect(r.duplicateRows.size).toBe(r.duplicates);
        expect(await subject.readEvents(ALL)).toHaveLength(50);
      });

      it("round-trips every field, labels and components included", async () => {
        const row = costRow({
          event_id: "round-trip",
          part: 2,
          event_time: new Date("2026-11-15T10:17:23.456Z"),
          ingested_at: new Date("2026-11-15T10:18:00.001Z"),
          basis: "allocation",
          labels: { tenant: "acme", "app.kubernetes.io/name": "scorer", note: 'quote " and ünïcode' },
          components: { gpu: 1n, cpu: 2_500_000_001n, ram: USD(1_000_000_000_000_000n), network: -5n },
          cost_nanos: USD(1_000_000_000_000_000n) + 2_500_000_001n + 1n - 5n,
          provider: "gke",
          request_fingerprint: "sha256:abc",
          cache_hit: true,
          job_id: "job-9",
          job_phase: "completed",
          epoch: 12,
          elapsed_seconds: 4321.5,
          gpu_count: 0.5,
          gpu_seconds: 123.25,
          input_tokens: 9_007_199_254_740_991,
        });
        const bare = costRow({
          event_id: "bare",
          model_version: null,
          cost_center: null,
          namespace: null,
          environment: null,
          cloud: null,
          region: null,
          instance_type: null,
          accelerator: null,
          pricing_model: null,
          gpu_count: null,
          gpu_seconds: null,
          input_tokens: null,
          cached_input_tokens: null,
          output_tokens: null,
          cache_hit: null,
          cost_nanos: 0n,
        });
        await warehouse.insertEvents([row, bare]);
        const stored = await subject.readEvents(ALL);
        expect(stored.find((r) => r.event_id === "round-trip")).toEqual(row);
        expect(stored.find((r) => r.event_id === "bare")).toEqual(bare);
      });

      it("refuses an amount no money column can hold, as invalid", async () => {
        await expectWarehouseError(warehouse.insertEvents([costRow({ cost_nanos: 10n ** 38n })]), "invalid");
        expect(await subject.readEvents(ALL)).toHaveLength(0);
      });
    });

    describe("insertRejected", () => {
      it("stores rejected rows with their field, reason and payload", async () => {
        const rows = [
          rejectedRow(),
          rejectedRow({
            rejected_at: at(8),
            event_source: null,
            event_id: null,
            event_type: null,
            field: "body",
            reason: "not JSON",
            payload: "{not json",
          }),
        ];
        await warehouse.insertRejected(rows);
        await warehouse.insertRejected([]);
        expect(await subject.readRejected(ALL)).toEqual(rows);
      });
    });

    describe("refreshHourly and report", () => {
      it("sums money exactly: single nanos and amounts of 10^15 USD", async () => {
        const nanos = Array.from({ length: 1000 }, (_, i) =>
          costRow({ event_time: at(i % 60), cost_nanos: 1n }),
        );
        const huge = [
          costRow({ cost_nanos: USD(10n ** 15n) }),
          costRow({ cost_nanos: USD(10n ** 15n) + 1n }),
          costRow({ cost_nanos: -1n, basis: "billed" }),
        ];
        await warehouse.insertEvents([...nanos, ...huge]);
        await warehouse.refreshHourly(hours(0, 1));
        expect(await total(hours(0, 1))).toBe(USD(2n * 10n ** 15n) + 1000n);
        const [row] = await warehouse.report({ ...hours(0, 1), by: [], reads: "rollup" });
        expect(row?.rows).toBe(1003);
      });

      it("groups by the dimensions asked, in cost order then dimension order", async () => {
        await warehouse.insertEvents([
          costRow({ team: "risk", model: "a", cost_nanos: USD(1n) }),
          costRow({ team: "risk", model: "b", cost_nanos: USD(4n) }),
          costRow({ team: "ads", model: "a", cost_nanos: USD(2n) }),
          costRow({ team: "ads", model: "b", cost_nanos: USD(3n) }),
          costRow({ team: "search", model: "a", cost_nanos: USD(5n) }),
          costRow({ team: "search", model: "c", cost_nanos: USD(0n) }),
          costRow({ team: "bio", model: "a", cost_nanos: USD(5n) }),
        ]);
        await warehouse.refreshHourly(hours(0, 1));

        const teams = await warehouse.report({ ...hours(0, 1), by: ["team"], reads: "rollup" });
        expect(teams).toEqual([
          { group: { team: "ads" }, currency: "USD", cost_nanos: USD(5n), rows: 2 },
          { group: { team: "bio" }, currency: "USD", cost_nanos: USD(5n), rows: 1 },
          { group: { team: "risk" }, currency: "USD", cost_nanos: USD(5n), rows: 2 },
          { group: { team: "search" }, currency: "USD", cost_nanos: USD(5n), rows: 2 },
        ]);

        const pairs = await warehouse.report({ ...hours(0, 1), by: ["model", "team"], reads: "rollup" });
        expect(pairs.map((r) => [r.group.model, r.group.team, r.cost_nanos])).toEqual([
          ["a", "bio", USD(5n)],
          ["a", "search", USD(5n)],
          ["b", "risk", USD(4n)],
          ["b", "ads", USD(3n)],
          ["a", "ads", USD(2n)],
          ["a", "risk", USD(1n)],
          ["c", "search", 0n],
        ]);
        expect(Object.keys(pairs[0]?.group ?? {})).toEqual(["model", "team"]);
      });

      it("groups by UTC day, across the hours of each day, and by UTC hour", async () => {
        const day0 = BASE_HOUR.toISOString().slice(0, 10);
        const day1 = hour(24).toISOString().slice(0, 10);
        await warehouse.insertEvents([
          costRow({ event_time: hour(0), team: "a", cost_nanos: USD(1n) }),
          costRow({ event_time: hour(1), team: "a", cost_nanos: USD(2n) }),
          costRow({ event_time: hour(24), team: "a", cost_nanos: USD(4n) }),
        ]);
        await warehouse.refreshHourly(hours(0, 25));
        const rows = await warehouse.report({ ...hours(0, 25), by: ["day", "team"], reads: "rollup" });
        expect(rows.map((r) => [r.group.day, r.group.team, r.cost_nanos]).sort()).toEqual([
          [day0, "a", USD(3n)],
          [day1, "a", USD(4n)],
        ]);
        const byHour = await warehouse.report({ ...hours(0, 25), by: ["hour"], reads: "rollup" });
        expect(byHour.map((r) => [r.group.hour, r.cost_nanos]).sort()).toEqual(
          [0, 1, 24].map((n, i) => [
            `${hour(n).toISOString().slice(0, 13)}:00:00Z`,
            USD([1n, 2n, 4n][i] as bigint),
          ]),
        );
      });

      it("gives one total per currency when no dimension is asked", async () => {
        await warehouse.insertEvents([
          costRow({ cost_nanos: USD(2n), team: "a" }),
          costRow({ cost_nanos: USD(3n), team: "b" }),
          costRow({ cost_nanos: 7n, currency: "EUR" }),
        ]);
        await warehouse.refreshHourly(hours(0, 1));
        const rows = await warehouse.report({ ...hours(0, 1), by: [], reads: "rollup" });
        expect(rows).toEqual([
          { group: {}, currency: "USD", cost_nanos: USD(5n), rows: 2 },
          { group: {}, currency: "EUR", cost_nanos: 7n, rows: 1 },
        ]);
      });

      it("keeps unallocated owners and missing dimensions as their own groups", async () => {
        await warehouse.insertEvents([
          costRow({ team: "unallocated", business_unit: "unallocated", cost_center: null, cost_nanos: 3n }),
          costRow({ team: "risk", cost_center: "cc-1", cost_nanos: 2n }),
        ]);
        await warehouse.refreshHourly(hours(0, 1));
        const rows = await warehouse.report({ ...hours(0, 1), by: ["team", "cost_center"], reads: "rollup" });
        expect(rows).toEqual([
          { group: { team: "unallocated", cost_center: null }, currency: "USD", cost_nanos: 3n, rows: 1 },
          { group: { team: "risk", cost_center: "cc-1" }, currency: "USD", cost_nanos: 2n, rows: 1 },
        ]);
      });

      it("puts a row in the hour of its event time: from inclusive, to exclusive", async () => {
        await warehouse.insertEvents([
          costRow({ event_time: hour(0), cost_nanos: 1n }),
          costRow({ event_time: new Date(hour(1).getTime() - 1), cost_nanos: 10n }),
          costRow({ event_time: hour(1), cost_nanos: 100n }),
          costRow({ event_time: new Date(hour(0).getTime() - 1), cost_nanos: 1000n }),
        ]);
        await warehouse.refreshHourly(hours(-1, 2));
        expect(await total(hours(0, 1))).toBe(11n);
        expect(await total(hours(1, 2))).toBe(100n);
        expect(await total(hours(-1, 0))).toBe(1000n);
        expect(await total(hours(-1, 2))).toBe(1111n);
        expect(await warehouse.report({ ...hours(2, 3), by: ["team"], reads: "rollup" })).toEqual([]);
      });

      it("reads nothing but what a refresh put in the rollup", async () => {
        await warehouse.insertEvents([costRow({ cost_nanos: 5n })]);
        expect(await total(hours(0, 1))).toBe(0n);
        await warehouse.refreshHourly(hours(0, 1));
        expect(await total(hours(0, 1))).toBe(5n);
      });

      it("rebuilds whole hours when the range is not on hour boundaries", async () => {
        await warehouse.insertEvents([
          costRow({ event_time: at(5), cost_nanos: 1n }),
          costRow({ event_time: at(55), cost_nanos: 2n }),
          costRow({ event_time: at(65), cost_nanos: 4n }),
        ]);
        await warehouse.refreshHourly({ from: at(30), to: at(40) });
        expect(await total(hours(0, 2))).toBe(3n);
        await warehouse.refreshHourly({ from: at(30), to: at(61) });
        expect(await total(hours(0, 2))).toBe(7n);
      });

      it("is idempotent and leaves hours outside its range alone", async () => {
        await warehouse.insertEvents([
          costRow({ event_time: at(10), cost_nanos: 1n }),
          costRow({ event_time: at(70), cost_nanos: 2n }),
        ]);
        await warehouse.refreshHourly(hours(0, 2));
        await warehouse.refreshHourly(hours(0, 2));
        expect(await total(hours(0, 2))).toBe(3n);
        expect((await warehouse.report({ ...hours(0, 2), by: [], reads: "rollup" }))[0]?.rows).toBe(2);

        await warehouse.insertEvents([
          costRow({ event_time: at(20), cost_nanos: 10n }),
          costRow({ event_time: at(80), cost_nanos: 20n }),
        ]);
        await warehouse.refreshHourly(hours(1, 2));
        expect(await total(hours(0, 1))).toBe(1n);
        expect(await total(hours(1, 2))).toBe(22n);
      });

      it("does not count a row twice when it arrives twice", async () => {
        const row = costRow({ cost_nanos: 5n });
        await warehouse.insertEvents([row, row]);
        await warehouse.insertEvents([{ ...row, ingested_at: at(59) }]);
        await warehouse.refreshHourly(hours(0, 1));
        expect(await total(hours(0, 1))).toBe(5n);
      });
    });

    describe("training jobs", () => {
      it("lists each job once with the cost the rollup charges and its outcome", async () => {
        await warehouse.insertEvents([
          trainingRow("job-done", 1800, USD(10n), { job_phase: "started", epoch: 0 }),
          trainingRow("job-done", 3600, USD(25n), { job_phase: "finished", epoch: 4 }),
          trainingRow("job-silent", 600, USD(3n), { job_phase: "progress", epoch: 1 }),
        ]);
        const jobs = await warehouse.trainingJobs({
          ...hours(0, 3),
          now: new Date(hours(0, 3).to.getTime()),
          silenceSeconds: 1800,
        });
        const byId = new Map(jobs.map((j) => [j.job_id, j]));
        expect(byId.get("job-done")).toMatchObject({ cost_nanos: USD(25n), outcome: "finished", epochs: 4 });
        expect(byId.get("job-silent")).toMatchObject({ cost_nanos: USD(3n), outcome: "abandoned" });
        expect(jobs).toHaveLength(2);
      });
    });

    describe("training rows (cumulative cost)", () => {
      // Job progress at 10:30, 11:00 and 11:30 with cumulative 10, 25 and 40 USD: charged 10, 15, 15.
      const job = () => [
        trainingRow("job-1", 1800, USD(10n)),
        trainingRow("job-1", 3600, USD(25n)),
        trainingRow("job-1", 5400, USD(40n)),
      ];

      it("charges each event the difference to the job's previous one", async () => {
        await warehouse.insertEvents(job());
        await warehouse.refreshHourly(hours(0, 2));
        expect(await total(hours(0, 1))).toBe(USD(10n));
        expect(await total(hours(1, 2))).toBe(USD(30n));
      });

      it("gives the same hourly totals in any order of arrival", async () => {
        const orders = [
          [0, 1, 2],
          [2, 1, 0],
          [1, 2, 0],
        ];
        for (const order of orders) {
          const local = await factory();
          try {
            await local.warehouse.init();
            const rows = job();
            for (const index of order) {
              await local.warehouse.insertEvents([rows[index] as CostRow]);
              await local.warehouse.refreshHourly(hours(0, 2));
            }
            const report = async (range: TimeRange) =>
              byCurrency(await local.warehouse.report({ ...range, by: [], reads: "rollup" })).USD;
            expect(await report(hours(0, 1))).toBe(USD(10n));
            expect(await report(hours(1, 2))).toBe(USD(30n));
          } finally {
            await local.warehouse.close();
            await local.cleanup?.();
          }
        }
      });

      it("finds the predecessor before the refreshed range", async () => {
        await warehouse.insertEvents(job());
        await warehouse.refreshHourly(hours(1, 2));
        expect(await total(hours(1, 2))).toBe(USD(30n));
        expect(await total(hours(0, 1))).toBe(0n);
      });

      it("keeps jobs apart and leaves other rows' own cost alone", async () => {
        await warehouse.insertEvents([
          ...job(),
          trainingRow("job-2", 1200, USD(3n)),
          trainingRow("job-2", 3000, USD(4n)),
          costRow({ event_time: at(10), cost_nanos: USD(100n), job_id: "job-1" }),
        ]);
        await warehouse.refreshHourly(hours(0, 2));
        expect(await total(hours(0, 1))).toBe(USD(10n + 4n + 100n));
        expect(await total(hours(1, 2))).toBe(USD(30n));
      });

      it("does not charge a repeated progress event twice", async () => {
        await warehouse.insertEvents(job());
        await warehouse.insertEvents([{ ...(job()[1] as CostRow), ingested_at: hour(5) }]);
        await warehouse.refreshHourly(hours(0, 2));
        expect(await total(hours(0, 2))).toBe(USD(40n));
      });
    });

    describe("refreshPending", () => {
      const NOW = hour(10);

      it("rebuilds every hour written since the last refresh, whatever its age, then nothing", async () => {
        const yearOld = hour(-399 * 24);
        await warehouse.insertEvents([
          costRow({ event_id: "old", event_time: yearOld, cost_nanos: USD(7n) }),
          costRow({ event_id: "a", event_time: at(5), cost_nanos: USD(2n) }),
          costRow({ event_id: "b", event_time: at(125), cost_nanos: USD(3n) }),
        ]);
        expect(await warehouse.refreshPending(NOW)).toEqual([
          { from: hour(-399 * 24), to: hour(-399 * 24 + 1) },
          hours(0, 1),
          hours(2, 3),
        ]);
        expect(await total({ from: yearOld, to: hour(-399 * 24 + 1) })).toBe(USD(7n));
        expect(await total(hours(0, 3))).toBe(USD(5n));
        expect(await warehouse.refreshPending(NOW)).toEqual([]);
      });

      it("keeps no record for rows already stored: a rerun finds the first run's hours still pending", async () => {
        const row = costRow({ event_id: "a", event_time: at(5), cost_nanos: USD(2n) });
        await warehouse.insertEvents([row]);
        await warehouse.insertEvents([row]);
        expect(await warehouse.refreshPending(NOW)).toEqual([hours(0, 1)]);
        expect(await total(hours(0, 1))).toBe(USD(2n));
      });

      it("extends to the job's latest event when a training row arrives late", async () => {
        await warehouse.insertEvents([
          trainingRow("job-1", 3600, USD(25n), { ingested_at: at(70) }),
          trainingRow("job-1", 9000, USD(40n), { ingested_at: at(160) }),
        ]);
        await warehouse.refreshPending(NOW);
        await warehouse.insertEvents([trainingRow("job-1", 900, USD(5n), { ingested_at: at(400) })]);
        const ranges = await warehouse.refreshPending(NOW);
        expect(ranges[0]?.from).toEqual(hour(0));
        expect(ranges.at(-1)?.to.getTime()).toBeGreaterThanOrEqual(hour(3).getTime());
        expect(await total(hours(0, 3))).toBe(USD(40n));
      });
    });

    describe("conflicts", () => {
      const NOW = hour(10);

      it("does not store an event again with another payload, whatever its time, and names the stored hash", async () => {
        const first = costRow({ event_id: "k", event_time: at(5), cost_nanos: USD(1n), payload_hash: "h1" });
        await warehouse.insertEvents([first]);
        const other = costRow({
          event_id: "k",
          event_time: hour(-48),
          cost_nanos: USD(7n),
          payload_hash: "h2",
        });
        const result = await warehouse.insertEvents([other]);
        expect(result.inserted).toBe(0);
        expect([...result.conflictRows]).toEqual([[0, "h1"]]);
        expect(result.duplicateRows.size).toBe(0);
        await warehouse.refreshPending(NOW);
        expect(await total(ALL)).toBe(USD(1n));
      });

      it("counts an identical resend as a duplicate", async () => {
        const row = costRow({ event_id: "k", event_time: at(5), cost_nanos: USD(1n), payload_hash: "h1" });
        await warehouse.insertEvents([row]);
        const result = await warehouse.insertEvents([row]);
        expect([...result.duplicateRows]).toEqual([0]);
        expect(result.conflictRows.size).toBe(0);
      });
    });

    describe("rejections", () => {
      it("stores a rejection key once and knows it afterwards", async () => {
        const row = { ...rejectedRow(), rejection_key: "rk-1" };
        expect(await warehouse.knownRejections(["rk-1", "rk-2"])).toEqual(new Set());
        await warehouse.insertRejected([row]);
        await warehouse.insertRejected([row]);
        expect(await warehouse.knownRejections(["rk-1", "rk-2"])).toEqual(new Set(["rk-1"]));
        expect(await subject.readRejected(ALL)).toHaveLength(1);
      });
    });

    describe("errors", () => {
      it("refuses a dimension that is not allow-listed, as invalid", async () => {
        await expectWarehouseError(
          warehouse.report({
            ...hours(0, 1),
            by: ["team; DROP TABLE cost_events" as "team"],
            reads: "rollup",
          }),
          "invalid",
        );
      });

      it("answers unavailable once closed", async () => {
        await warehouse.close();
        await expectWarehouseError(warehouse.insertEvents([costRow()]), "unavailable");
      });
    });
  });
}
