import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  currenciesBySpend,
  dailySeries,
  type GroupedCost,
  matchesFilters,
  rankedTotals,
  utcDays,
} from "#domain/dashboard/spend-series.ts";

const row = (
  day: string,
  team: string,
  cost: bigint,
  extra: Partial<GroupedCost["group"]> = {},
): GroupedCost => ({
  group: { day, team, model: "m", business_unit: "bu", ...extra },
  currency: "USD",
  cost_nanos: cost,
});

describe("utcDays", () => {
  it("lists every UTC day the half-open range touches", () => {
    expect(utcDays(new Date("2026-11-01T00:00:00Z"), new Date("2026-11-03T00:00:00Z"))).toEqual([
      "2026-11-01",
      "2026-11-02",
    ]);
    expect(utcDays(new Date("2026-10-31T23:00:00Z"), new Date("2026-11-01T01:00:00Z"))).toEqual([
      "2026-10-31",
      "2026-11-01",
    ]);
    expect(utcDays(new Date("2026-11-01T00:00:00Z"), new Date("2026-11-01T00:00:00Z"))).toEqual([]);
  });
});

describe("dailySeries", () => {
  const days = ["2026-11-01", "2026-11-02"];

  it("puts each team's cost on its day, highest total first", () => {
    const rows = [row("2026-11-01", "a", 5n), row("2026-11-02", "b", 7n), row("2026-11-02", "a", 1n)];
    expect(dailySeries(rows, "team", days)).toEqual([
      { name: "b", total: 7n, daily: [0n, 7n] },
      { name: "a", total: 6n, daily: [5n, 1n] },
    ]);
  });

  it("gathers the values below the largest into one series that says how many it holds", () => {
    const rows = ["a", "b", "c", "d"].map((team, i) => row("2026-11-01", team, BigInt(10 - i)));
    const series = dailySeries(rows, "team", days, 3);
    expect(series.map((s) => [s.name, s.total, s.others])).toEqual([
      ["a", 10n, undefined],
      ["b", 9n, undefined],
      ["2 others", 15n, 2],
    ]);
  });

  it("refuses a row of a day outside the chart rather than drop it", () => {
    expect(() => dailySeries([row("2026-10-31", "a", 1n)], "team", days)).toThrow(/outside/);
  });

  it("adds up to the rows' total, day by day, whatever the rows and the number of series", () => {
    const arbitraryRow = fc.record({
      day: fc.constantFrom(...days),
      team: fc.constantFrom("a", "b", "c", "d", "e", "f"),
      cost: fc.bigInt({ min: -1_000_000_000_000n, max: 1_000_000_000_000n }),
    });
    fc.assert(
      fc.property(fc.array(arbitraryRow, { maxLength: 40 }), fc.integer({ min: 1, max: 8 }), (input, max) => {
        const rows = input.map((r) => row(r.day, r.team, r.cost));
        const series = dailySeries(rows, "team", days, max);
        expect(series.length).toBeLessThanOrEqual(max);
        days.forEach((day, i) => {
          const expected = rows.filter((r) => r.group.day === day).reduce((s, r) => s + r.cost_nanos, 0n);
          expect(series.reduce((s, line) => s + (line.daily[i] ?? 0n), 0n)).toBe(expected);
        });
        for (const line of series) expect(line.daily.reduce((s, n) => s + n, 0n)).toBe(line.total);
      }),
    );
  });
});

describe("filters, rankings and currencies", () => {
  it("matches a row on every filter given, a null value as (none)", () => {
    const r = row("2026-11-01", "a", 1n, { model: null });
    expect(matchesFilters(r, {})).toBe(true);
    expect(matchesFilters(r, { team: "a", business_unit: "bu" })).toBe(true);
    expect(matchesFilters(r, { team: "b" })).toBe(false);
    expect(matchesFilters(r, { model: "(none)" })).toBe(true);
  });

  it("ranks by total then name, and currencies by spend", () => {
    const rows = [row("2026-11-01", "b", 3n), row("2026-11-01", "a", 3n), row("2026-11-02", "c", 4n)];
    expect(rankedTotals(rows, "team").map((t) => t.name)).toEqual(["c", "a", "b"]);
    const eur = { ...row("2026-11-01", "a", 100n), currency: "EUR" };
    expect(currenciesBySpend([...rows, eur])).toEqual(["EUR", "USD"]);
    expect(currenciesBySpend([])).toEqual([]);
  });
});
