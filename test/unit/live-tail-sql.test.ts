import { describe, expect, it } from "vitest";
import { clipRanges, liveTailSql } from "#adapters/sql/live-tail.ts";

const at = (iso: string) => new Date(iso);
const DAY_MS = 86_400_000;

describe("the live tail's ranges and predicates (report.sql)", () => {
  it("clips the tail to the report's range and drops what falls outside", () => {
    const tail = [
      { from: at("2025-03-02T05:00:00Z"), to: at("2025-03-02T06:00:00Z") },
      { from: at("2026-03-01T08:00:00Z"), to: at("2026-03-01T11:00:00Z") },
    ];
    expect(clipRanges(tail, { from: at("2026-03-01T09:00:00Z"), to: at("2026-03-01T10:00:00Z") })).toEqual([
      { from: at("2026-03-01T09:00:00Z"), to: at("2026-03-01T10:00:00Z") },
    ]);
    expect(clipRanges(tail, { from: at("2026-03-01T11:00:00Z"), to: at("2026-03-02T00:00:00Z") })).toEqual(
      [],
    );
    // The hours whose start is in the range, as the rollup's are read: 08:30 to 09:30 is the 09:00 hour.
    expect(clipRanges(tail, { from: at("2026-03-01T08:30:00Z"), to: at("2026-03-01T09:30:00Z") })).toEqual([
      { from: at("2026-03-01T09:00:00Z"), to: at("2026-03-01T10:00:00Z") },
    ]);
  });

  it("binds one range per run, each a constant filter, in each dialect's parameter style", () => {
    const ranges = [
      { from: at("2025-03-02T05:00:00Z"), to: at("2025-03-02T06:00:00Z") },
      { from: at("2026-03-01T08:00:00Z"), to: at("2026-03-01T10:00:00Z") },
    ];
    const { identifiers, params } = liveTailSql("bigquery", ranges, 7 * DAY_MS, at("2025-01-01T00:00:00Z"));
    expect(identifiers.tail_events).toBe(
      "((event_time >= @tail_from_0 AND event_time < @tail_to_0) OR (event_time >= @tail_from_1 AND event_time < @tail_to_1))",
    );
    expect(identifiers.tail_lookback).toBe(
      "((event_time >= @tail_lookback_0 AND event_time < @tail_from_0) OR (event_time >= @tail_lookback_1 AND event_time < @tail_from_1))",
    );
    expect(identifiers.tail_hours).toBe(
      "((hour >= @tail_from_0 AND hour < @tail_to_0) OR (hour >= @tail_from_1 AND hour < @tail_to_1))",
    );
    expect(params).toEqual({
      tail_from_0: at("2025-03-02T05:00:00Z"),
      tail_to_0: at("2025-03-02T06:00:00Z"),
      tail_lookback_0: at("2025-02-23T05:00:00Z"),
      tail_from_1: at("2026-03-01T08:00:00Z"),
      tail_to_1: at("2026-03-01T10:00:00Z"),
      tail_lookback_1: at("2026-02-22T08:00:00Z"),
    });
    expect(liveTailSql("duckdb", ranges, 0, at("2025-01-01T00:00:00Z")).identifiers.tail_hours).toBe(
      "((hour >= $tail_from_0 AND hour < $tail_to_0) OR (hour >= $tail_from_1 AND hour < $tail_to_1))",
    );
  });

  it("reads nothing for no tail: one empty range, lookback included, so every rollup hour stays", () => {
    const from = at("2026-03-01T00:00:00Z");
    const { params } = liveTailSql("duckdb", [], 7 * DAY_MS, from);
    expect(params).toEqual({ tail_from_0: from, tail_to_0: from, tail_lookback_0: from });
  });
});
