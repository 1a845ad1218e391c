import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ReportLine } from "#domain/report-format.ts";
import { CostTrendError, dailyTrend, utcDays } from "#domain/reports/cost-trend.ts";

const range = (from: string, to: string) => ({ from: new Date(from), to: new Date(to) });

const day = (d: string, team: string, cost_nanos: bigint, currency = "USD"): ReportLine => ({
  group: { day: d, team },
  currency,
  cost_nanos,
  rows: 2,
});

describe("utcDays", () => {
  it.each([
    ["2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", ["2026-11-01"]],
    ["2026-11-01T23:00:00Z", "2026-11-02T01:00:00Z", ["2026-11-01", "2026-11-02"]],
    ["2026-10-31T00:00:00Z", "2026-11-03T00:00:00Z", ["2026-10-31", "2026-11-01", "2026-11-02"]],
  ])("[%s, %s) touches %j", (from, to, days) => {
    expect(utcDays(range(from, to))).toEqual(days);
  });
});

describe("dailyTrend", () => {
  const window = range("2026-11-01T00:00:00Z", "2026-11-04T00:00:00Z");

  it("lists every day for every group, zero where it spent nothing, biggest group first", () => {
    // Prepare: idle spends only on the 2nd; nothing at all on the 3rd.
    const lines = [day("2026-11-01", "nlp", 5n), day("2026-11-02", "nlp", 1n), day("2026-11-02", "idle", 9n)];

    // Act
    const trend = dailyTrend(lines, ["team"], window);

    // Assess
    expect(trend.map((l) => [l.group.day, l.group.team, l.cost_nanos, l.rows])).toEqual([
      ["2026-11-01", "idle", 0n, 0],
      ["2026-11-01", "nlp", 5n, 2],
      ["2026-11-02", "idle", 9n, 2],
      ["2026-11-02", "nlp", 1n, 2],
      ["2026-11-03", "idle", 0n, 0],
      ["2026-11-03", "nlp", 0n, 0],
    ]);
  });

  it("keeps currencies and empty dimension values apart", () => {
    const lines: ReportLine[] = [
      day("2026-11-01", "nlp", 5n, "EUR"),
      day("2026-11-01", "nlp", 5n),
      { group: { day: "2026-11-02", team: null }, currency: "USD", cost_nanos: 1n, rows: 1 },
    ];
    const trend = dailyTrend(lines, ["team"], range("2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z"));
    expect(trend.filter((l) => l.group.day === "2026-11-01").map((l) => [l.group.team, l.currency])).toEqual([
      ["nlp", "EUR"],
      ["nlp", "USD"],
      [null, "USD"],
    ]);
  });

  it("refuses a line whose day is outside the range", () => {
    expect(() => dailyTrend([day("2026-11-09", "nlp", 1n)], ["team"], window)).toThrow(CostTrendError);
  });

  it("adds up to the cost it was given, with one line per day and group", () => {
    const days = utcDays(window);
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({
            day: fc.constantFrom(...days),
            team: fc.constantFrom("a", "b", "idle", "unallocated", "shared"),
            cost: fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
          }),
          { selector: (l) => `${l.day}|${l.team}` },
        ),
        (input) => {
          const trend = dailyTrend(
            input.map((l) => day(l.day, l.team, l.cost)),
            ["team"],
            window,
          );
          const teams = new Set(input.map((l) => l.team));
          expect(trend).toHaveLength(days.length * teams.size);
          expect(trend.reduce((n, l) => n + l.cost_nanos, 0n)).toBe(input.reduce((n, l) => n + l.cost, 0n));
          expect(trend.map((l) => l.group.day)).toEqual([...trend.map((l) => l.group.day)].sort());
        },
      ),
    );
  });
});
