import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDuckDbWarehouse, dimensionList, toWarehouseError } from "#adapters/duckdb/duckdb-warehouse.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";
import { at, BASE_HOUR, costRow } from "../support/cost-row-builder.ts";
import { describeWarehouseContract } from "./warehouse-contract.ts";

const ALL = { from: new Date("2000-01-01T00:00:00Z"), to: new Date("2100-01-01T00:00:00Z") };
const HOUR = { from: BASE_HOUR, to: new Date(BASE_HOUR.getTime() + 3_600_000) };

function tempDir(): { dir: string; remove: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), "finops-duckdb-"));
  return { dir, remove: async () => rmSync(dir, { recursive: true, force: true }) };
}

describeWarehouseContract("duckdb (file)", async () => {
  const { dir, remove } = tempDir();
  const warehouse = createDuckDbWarehouse({ path: join(dir, "finops.duckdb") });
  return {
    warehouse,
    readEvents: warehouse.readEvents,
    readRejected: warehouse.readRejected,
    cleanup: remove,
  };
});

describeWarehouseContract("duckdb (:memory:)", async () => {
  const warehouse = createDuckDbWarehouse({ path: ":memory:" });
  return { warehouse, readEvents: warehouse.readEvents, readRejected: warehouse.readRejected };
});

describe("DuckDB warehouse", () => {
  let dir: string;
  let remove: () => Promise<void>;

  beforeEach(() => {
    ({ dir, remove } = tempDir());
  });

  afterEach(async () => {
    await remove();
  });

  it("keeps its rows and rollup in the file across a close and a reopen", async () => {
    const path = join(dir, "finops.duckdb");
    const first = createDuckDbWarehouse({ path });
    await first.init();
    const row = costRow({ cost_nanos: 42n, labels: { tenant: "acme" } });
    await first.insertEvents([row]);
    await first.refreshHourly(HOUR);
    await first.close();

    const second = createDuckDbWarehouse({ path });
    await second.init();
    try {
      expect(await second.readEvents(ALL)).toEqual([row]);
      expect(await second.report({ ...HOUR, by: ["team"], reads: "rollup" })).toEqual([
        { group: { team: "risk" }, currency: "USD", cost_nanos: 42n, rows: 1 },
      ]);
      expect(await second.insertEvents([row])).toEqual({
        inserted: 0,
        duplicates: 1,
        duplicateRows: new Set([0]),
        conflictRows: new Map(),
      });
    } finally {
      await second.close();
    }
  });

  it("releases the file on close, so another instance can open it", async () => {
    const path = join(dir, "finops.duckdb");
    const warehouse = createDuckDbWarehouse({ path });
    await warehouse.init();
    await warehouse.close();
    await warehouse.close();
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll("SELECT count(*) FROM cost_events");
    expect(reader.getRows()).toEqual([[0n]]);
    connection.closeSync();
    instance.closeSync();
  });

  it("uses an injected instance and leaves it open on close", async () => {
    const instance = await DuckDBInstance.create(":memory:");
    const warehouse = createDuckDbWarehouse({ path: ":memory:", instance });
    await warehouse.init();
    await warehouse.insertEvents([costRow()]);
    await warehouse.close();
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll("SELECT count(*) FROM cost_events");
    expect(reader.getRows()).toEqual([[1n]]);
    connection.closeSync();
    instance.closeSync();
  });

  it("buckets hours in UTC whatever the session time zone was", async () => {
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    await connection.run("SET TimeZone = 'Asia/Kolkata'");
    const warehouse = createDuckDbWarehouse({ path: ":memory:", connection });
    try {
      await warehouse.init();
      await warehouse.insertEvents([costRow({ event_time: at(59), cost_nanos: 9n })]);
      await warehouse.refreshHourly(HOUR);
      expect(await warehouse.report({ ...HOUR, by: [], reads: "rollup" })).toEqual([
        { group: {}, currency: "USD", cost_nanos: 9n, rows: 1 },
      ]);
    } finally {
      await warehouse.close();
      connection.closeSync();
      instance.closeSync();
    }
  });

  it("stores a batch larger than one data chunk, with duplicates, counting exactly", async () => {
    const warehouse = createDuckDbWarehouse({ path: join(dir, "big.duckdb") });
    await warehouse.init();
    try {
      const rows = Array.from({ length: 5000 }, (_, i) =>
        costRow({ event_id: `big-${i}`, team: `team-${i % 7}`, cost_nanos: BigInt(i) }),
      );
      expect(await warehouse.insertEvents([...rows, ...rows.slice(0, 100)])).toEqual({
        inserted: 5000,
        duplicates: 100,
        duplicateRows: new Set(Array.from({ length: 100 }, (_, i) => 5000 + i)),
        conflictRows: new Map(),
      });
      expect(await warehouse.insertEvents([...rows.slice(4000), costRow({ cost_nanos: 0n })])).toEqual({
        inserted: 1,
        duplicates: 1000,
        duplicateRows: new Set(Array.from({ length: 1000 }, (_, i) => i)),
        conflictRows: new Map(),
      });
      await warehouse.refreshHourly(HOUR);
      const [row] = await warehouse.report({ ...HOUR, by: [], reads: "rollup" });
      expect(row?.cost_nanos).toBe((4999n * 5000n) / 2n);
      expect(row?.rows).toBe(5001);
    } finally {
      await warehouse.close();
    }
  });

  it("keeps each row's own attribution when one source sends many combinations", async () => {
    const warehouse = createDuckDbWarehouse({ path: ":memory:" });
    await warehouse.init();
    try {
      const rows = Array.from({ length: 300 }, (_, i) =>
        costRow({
          event_id: `mix-${String(i).padStart(3, "0")}`,
          team: `team-${i % 50}`,
          model: i % 3 === 0 ? "a" : "b",
          labels: i % 4 === 0 ? { tenant: `t-${i % 9}` } : {},
          cache_hit: i % 5 === 0 ? null : i % 2 === 0,
          input_tokens: i % 6 === 0 ? null : i,
        }),
      );
      await warehouse.insertEvents(rows);
      expect(await warehouse.readEvents(ALL)).toEqual(rows);
    } finally {
      await warehouse.close();
    }
  });

  it("refuses a non-integer token count without storing any of the batch", async () => {
    const warehouse = createDuckDbWarehouse({ path: ":memory:" });
    await warehouse.init();
    try {
      const error = await warehouse.insertEvents([costRow(), costRow({ input_tokens: 1.5 })]).catch((e) => e);
      expect(error).toBeInstanceOf(WarehouseError);
      expect(error.code).toBe("invalid");
      expect(error.message).toContain("rows[1].input_tokens");
      expect(await warehouse.readEvents(ALL)).toEqual([]);
      expect(await warehouse.insertEvents([costRow()])).toEqual({
        inserted: 1,
        duplicates: 0,
        duplicateRows: new Set(),
        conflictRows: new Map(),
      });
    } finally {
      await warehouse.close();
    }
  });

  it("answers unavailable when another process holds the file", async () => {
    const path = join(dir, "locked.duckdb");
    const error = toWarehouseError(
      new Error(`IO Error: Could not set lock on file "${path}": Conflicting lock is held`),
      "open",
    );
    expect(error.code).toBe("unavailable");
    expect(error.cause).toBeInstanceOf(Error);
    expect(toWarehouseError(new Error("Binder Error: column x not found"), "query").code).toBe("invalid");
  });

  it("renders report dimensions from the allow-list only", () => {
    expect(dimensionList(["team", "model_version"])).toBe("team, model_version, ");
    expect(dimensionList([])).toBe("");
    expect(() => dimensionList(["team", "team"])).toThrow(WarehouseError);
  });
});
