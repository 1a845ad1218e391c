import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";

const FILE = "sql_runner_probe";

describe("the warehouse's SqlRunner on DuckDB", () => {
  const warehouse = createDuckDbWarehouse({ path: ":memory:" });

  beforeAll(async () => {
    await warehouse.init();
  });
  afterAll(async () => {
    await warehouse.close();
  });

  it("binds each parameter by its JS type and hands back plain values (money as exact decimal text)", async () => {
    const at = new Date("2026-11-25T10:00:00Z");
    const [row] = await warehouse.sql.query(`${FILE}#values`, {
      amount: "0.000000001",
      at,
      n: 41,
      x: 0.25,
      flag: true,
      text: "a'b",
    });
    expect(row).toEqual({
      money: "0.000000003",
      at,
      n: 42,
      x: 0.5,
      flag: true,
      text: "a'b",
      day: "2026-11-23",
      nothing: null,
    });
  });

  it("runs every statement of a section and returns the last one's rows", async () => {
    expect(await warehouse.sql.query(`${FILE}#two_statements`)).toEqual([{ total: 3 }]);
  });

  it("names the missing parameter", async () => {
    await expect(warehouse.sql.query(`${FILE}#values`, { amount: "1" })).rejects.toThrow(/\$at/);
  });
});
