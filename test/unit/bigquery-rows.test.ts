import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifyBigQueryError, toWarehouseError } from "#adapters/bigquery/bigquery-errors.ts";
import {
  chunkInsertRows,
  costRowInsertId,
  type InsertAllRow,
  NUMERIC_LIMIT_NANOS,
  nanosToNumeric,
  numericToNanos,
  wholeHours,
} from "#adapters/bigquery/bigquery-rows.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";

/** Stands in for the client's Big.js NUMERIC values: only `toFixed` is read. */
const decimal = (text: string) => ({ toFixed: (dp: number) => (dp === 9 ? text : "wrong precision") });

describe("NUMERIC conversion", () => {
  it.each([
    [0n, "0.000000000"],
    [1n, "0.000000001"],
    [-1n, "-0.000000001"],
    [3_060_000_000n, "3.060000000"],
    [NUMERIC_LIMIT_NANOS - 1n, "99999999999999999999999999999.999999999"],
  ])("writes %s nanos as %s", (nanos, text) => {
    expect(nanosToNumeric(nanos)).toBe(text);
  });

  it("refuses amounts NUMERIC cannot hold", () => {
    expect(() => nanosToNumeric(NUMERIC_LIMIT_NANOS)).toThrow(WarehouseError);
    expect(() => nanosToNumeric(-NUMERIC_LIMIT_NANOS, "rows[4].cost")).toThrow(/rows\[4\]\.cost/);
  });

  it("reads decimal-like values through toFixed(9) and decimal strings, never floats", () => {
    expect(numericToNanos(decimal("0.000000001"))).toBe(1n);
    expect(numericToNanos("12345678901234567890.123456789")).toBe(12_345_678_901_234_567_890_123_456_789n);
    expect(() => numericToNanos(0.1, "total_cost")).toThrow(/total_cost/);
    expect(() => numericToNanos(null)).toThrow(WarehouseError);
  });

  it("round-trips every NUMERIC value exactly (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -NUMERIC_LIMIT_NANOS + 1n, max: NUMERIC_LIMIT_NANOS - 1n }), (nanos) => {
        expect(numericToNanos(nanosToNumeric(nanos))).toBe(nanos);
      }),
    );
  });
});

describe("costRowInsertId", () => {
  it("depends on the key only", () => {
    const a = costRowInsertId({ event_source: "s", event_id: "1", part: 0 });
    expect(costRowInsertId({ event_source: "s", event_id: "1", part: 0 })).toBe(a);
    expect(costRowInsertId({ event_source: "s", event_id: "1", part: 1 })).not.toBe(a);
    // No ambiguity from concatenation: ("s1", "") is not ("s", "1").
    expect(costRowInsertId({ event_source: "s1", event_id: "", part: 0 })).not.toBe(
      costRowInsertId({ event_source: "s", event_id: "1", part: 0 }),
    );
    expect(a.length).toBeLessThanOrEqual(128);
  });
});

describe("chunkInsertRows", () => {
  const item = (i: number, bytes = 10) => ({
    label: `rows[${i}]`,
    row: { insertId: String(i), json: { pad: "x".repeat(bytes) } } satisfies InsertAllRow,
  });

  it("cuts by row count and keeps order", () => {
    const chunks = chunkInsertRows(
      Array.from({ length: 1_200 }, (_, i) => item(i)),
      { maxRows: 500, maxBytes: 9_000_000 },
    );
    expect(chunks.map((c) => c.length)).toEqual([500, 500, 200]);
    expect(chunks.flat().map((c) => c.label)).toEqual(Array.from({ length: 1_200 }, (_, i) => `rows[${i}]`));
  });

  it("cuts by encoded size", () => {
    const items = Array.from({ length: 10 }, (_, i) => item(i, 1_000));
    const chunks = chunkInsertRows(items, { maxRows: 500, maxBytes: 3_500 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) {
      const body = JSON.stringify({ rows: chunk.map((c) => c.row) });
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(3_500);
    }
  });

  it("refuses a row larger than a request, naming it", () => {
    expect(() => chunkInsertRows([item(0), item(1, 5_000)], { maxRows: 500, maxBytes: 3_000 })).toThrow(
      /rows\[1\]/,
    );
  });
});

describe("wholeHours", () => {
  it("widens a range to the hours it touches", () => {
    expect(
      wholeHours({ from: new Date("2026-03-01T10:20:00Z"), to: new Date("2026-03-01T11:00:00.001Z") }),
    ).toEqual({ from: new Date("2026-03-01T10:00:00Z"), to: new Date("2026-03-01T12:00:00Z") });
    const aligned = { from: new Date("2026-03-01T10:00:00Z"), to: new Date("2026-03-01T11:00:00Z") };
    expect(wholeHours(aligned)).toEqual(aligned);
  });
});

describe("classifyBigQueryError", () => {
  const apiError = (code: number, reason?: string) =>
    Object.assign(new Error("x"), { code, errors: reason ? [{ reason }] : [] });

  it.each([
    [apiError(400, "invalid"), "invalid"],
    [apiError(404, "notFound"), "invalid"],
    [apiError(403, "quotaExceeded"), "unavailable"],
    [apiError(403, "accessDenied"), "unavailable"],
    [apiError(429), "unavailable"],
    [apiError(500, "backendError"), "unavailable"],
    [apiError(503), "unavailable"],
    [apiError(400, "rateLimitExceeded"), "unavailable"],
    [Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), "unavailable"],
  ])("%o is %s", (error, code) => {
    expect(classifyBigQueryError(error)).toBe(code);
  });
});

describe("toWarehouseError", () => {
  const notFound = Object.assign(new Error("Not found: Table p:finops.cost_events"), {
    code: 404,
    errors: [],
  });

  it("makes rows wait for a missing table, and a read of one fail as invalid", () => {
    expect(toWarehouseError(notFound, "insert into cost_events", true).code).toBe("unavailable");
    expect(toWarehouseError(notFound, "query report").code).toBe("invalid");
  });
});
