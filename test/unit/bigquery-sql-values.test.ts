import { BigQuery } from "@google-cloud/bigquery";
import { describe, expect, it } from "vitest";
import { bigQueryParamType, fromBigQueryRow } from "#adapters/bigquery/sql-values.ts";

describe("BigQuery values for SqlRunner", () => {
  it("types each parameter by its JS value", () => {
    expect(bigQueryParamType(new Date(0), "p")).toBe("TIMESTAMP");
    expect(bigQueryParamType(7, "p")).toBe("INT64");
    expect(bigQueryParamType(0.5, "p")).toBe("FLOAT64");
    expect(bigQueryParamType("x", "p")).toBe("STRING");
    expect(bigQueryParamType(false, "p")).toBe("BOOL");
    expect(() => bigQueryParamType(Number.NaN, "q: @n")).toThrow(/q: @n/);
  });

  it("hands back what the DuckDB runner does: exact NUMERIC text, Dates, days as text", () => {
    const row = fromBigQueryRow(
      {
        // The client's Big.js NUMERIC values are read through toFixed(9) only.
        money: { toFixed: (dp: number) => (dp === 9 ? "0.000000001" : "wrong precision") },
        at: BigQuery.timestamp("2026-11-25T10:00:00.000Z"),
        day: BigQuery.date("2026-11-23"),
        n: 42,
        text: "a",
        nothing: null,
      },
      "q",
    );
    expect(row).toEqual({
      money: "0.000000001",
      at: new Date("2026-11-25T10:00:00Z"),
      day: "2026-11-23",
      n: 42,
      text: "a",
      nothing: null,
    });
  });
});
