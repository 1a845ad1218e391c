import { describe, expect, it } from "vitest";
import { judgeableDays } from "#domain/reconciliation/judgeable-days.ts";

describe("judgeableDays", () => {
  it("re-judges the 7 days ending two days before today (UTC)", () => {
    expect(judgeableDays(new Date("2026-11-10T03:00:00Z"))).toEqual([
      "2026-11-02",
      "2026-11-03",
      "2026-11-04",
      "2026-11-05",
      "2026-11-06",
      "2026-11-07",
      "2026-11-08",
    ]);
  });

  it("depends only on the UTC date: every run on the same day agrees", () => {
    const early = judgeableDays(new Date("2026-11-10T00:00:00Z"));
    expect(judgeableDays(new Date("2026-11-10T23:59:59.999Z"))).toEqual(early);
    expect(judgeableDays(new Date("2026-11-10T01:00:00+02:00"))).toEqual(
      judgeableDays(new Date("2026-11-09T12:00Z")),
    );
  });

  it("honours settleDays and window, across month and year ends", () => {
    expect(judgeableDays(new Date("2027-01-02T10:00:00Z"), { settleDays: 1, window: 3 })).toEqual([
      "2026-12-30",
      "2026-12-31",
      "2027-01-01",
    ]);
    expect(judgeableDays(new Date("2024-03-02T10:00:00Z"), { settleDays: 2, window: 1 })).toEqual([
      "2024-02-29",
    ]);
  });

  it("rejects nonsense", () => {
    expect(() => judgeableDays(new Date("2026-11-10"), { settleDays: 0 })).toThrow(RangeError);
    expect(() => judgeableDays(new Date("2026-11-10"), { window: 0 })).toThrow(RangeError);
    expect(() => judgeableDays(new Date("2026-11-10"), { window: 1.5 })).toThrow(RangeError);
    expect(() => judgeableDays(new Date("nope"))).toThrow(RangeError);
  });
});
