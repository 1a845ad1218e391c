import { describe, expect, it } from "vitest";
import { parseAlert } from "#domain/alerts/alert.ts";
import { type Budget, BudgetConfigError, parseBudgets } from "#domain/budgets/budget-config.ts";
import { parseEnforcementEvent } from "#domain/budgets/budget-enforcement.ts";
import { HOUR_MS, hourOfWeek, periodAt, startOfLocalDay } from "#domain/budgets/budget-period.ts";
import {
  evaluateBudget,
  forecastSpend,
  formatMoney,
  type HourSample,
  percentList,
  thresholdAlert,
  thresholdSeverity,
} from "#domain/budgets/evaluate-budget.ts";

const USD = 1_000_000_000n;
const NOW = new Date("2026-11-20T10:30:00Z");

function budget(overrides: Record<string, unknown> = {}): Budget {
  const [parsed] = parseBudgets([
    { name: "nlp-monthly", scope: { team: "nlp-team" }, period: "monthly", amount: "20000", ...overrides },
  ]);
  if (!parsed) throw new Error("no budget");
  return parsed;
}

function problems(raw: unknown): readonly string[] {
  try {
    parseBudgets(raw);
  } catch (error) {
    if (error instanceof BudgetConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("budgets config", () => {
  it("fills the defaults: UTC, USD, thresholds 50/80/100/125, no forecast, owner from scope.team", () => {
    expect(budget()).toEqual({
      name: "nlp-monthly",
      scope: { team: "nlp-team" },
      period: "monthly",
      timeZone: "UTC",
      amount_nanos: 20_000n * USD,
      currency: "USD",
      thresholds: [50, 80, 100, 125],
      forecast: false,
      owner: "nlp-team",
    });
  });

  it("reads amounts as exact decimals and sorts thresholds", () => {
    const b = budget({ amount: "1234.567890123", thresholds: [100, 25, 90] });
    expect(b.amount_nanos).toBe(1_234_567_890_123n);
    expect(b.thresholds).toEqual([25, 90, 100]);
  });

  it("names the budget and the field in every error", () => {
    const raw = [
      { name: "a", scope: { team: "x" }, period: "daily", amount: "1" },
      { name: "b", scope: { team: "x" }, period: "daily", amount: "1" },
      {
        name: "nlp-monthly",
        scope: { team: "nlp-team" },
        period: "monthly",
        amount: "20000",
        thresholds: [50, -5],
      },
    ];
    expect(problems(raw)).toEqual(["budgets[2] (nlp-monthly).thresholds.1: must be at least 1 (percent)"]);
    expect(problems([{ ...raw[0], amount: "twenty" }])[0]).toMatch(
      /^budgets\[0\] \(a\)\.amount: must be a decimal/,
    );
    expect(problems([{ ...raw[0], amount: 0.1 }])[0]).toMatch(
      /^budgets\[0\] \(a\)\.amount: must be a decimal string/,
    );
    expect(problems([{ ...raw[0], amount: "0" }])).toEqual(["budgets[0] (a).amount: must be more than zero"]);
    for (const amount of ["1.0000000001", "0.0000000001"]) {
      expect(problems([{ ...raw[0], amount }])).toEqual([
        "budgets[0] (a).amount: has more than 9 decimals: amounts are kept to the nano",
      ]);
    }
    expect(problems([{ ...raw[0], amount: "1.000000001000" }])).toEqual([]);
    expect(problems([{ ...raw[0], timeZone: "Mars/Olympus" }])[0]).toMatch(
      /^budgets\[0\] \(a\)\.timeZone: must be an IANA/,
    );
    expect(problems([{ ...raw[0], period: "hourly" }])[0]).toMatch(/^budgets\[0\] \(a\)\.period: /);
    expect(problems([raw[0], { ...raw[1], name: "a" }])).toEqual([
      "budgets[1] (a).name: duplicates budgets[0]",
    ]);
    expect(problems([{ ...raw[0], thresholds: [80, 80] }])).toEqual([
      "budgets[0] (a).thresholds.1: 80 is listed twice",
    ]);
    expect(problems([{ name: "c", period: "daily", amount: "1" }])).toEqual([
      "budgets[0] (c).owner: is required when the scope names no team (who receives the alerts?)",
    ]);
    expect(problems([{ ...raw[0], scope: { squad: "x" } }])[0]).toMatch(/^budgets\[0\] \(a\)\.scope: /);
    expect(problems([{ ...raw[0], enforcement: { threshold: 100, topic: "goog-x" } }])[0]).toMatch(
      /^budgets\[0\] \(a\)\.enforcement\.topic: /,
    );
    expect(problems([{ scope: { team: "x" }, period: "daily", amount: "1" }])[0]).toMatch(
      /^budgets\[0\]\.name: /,
    );
  });

  it("accepts labels in the schema but refuses them because the rollup cannot filter by labels", () => {
    const [problem] = problems([
      { name: "l", scope: { team: "x", labels: { app: "y" } }, period: "daily", amount: "1" },
    ]);
    expect(problem).toMatch(/^budgets\[0\] \(l\)\.scope\.labels: budgets cannot be scoped by labels yet/);
  });

  it("treats an absent section as no budgets", () => {
    expect(parseBudgets(undefined)).toEqual([]);
  });
});

describe("budget periods", () => {
  it("aligns months and quarters to local midnight in the configured zone", () => {
    const month = periodAt("monthly", NOW, "America/New_York");
    expect([month.label, month.start.toISOString(), month.end.toISOString()]).toEqual([
      "2026-11-01",
      "2026-11-01T04:00:00.000Z", // EDT until 1 November 02:00
      "2026-12-01T05:00:00.000Z", // EST
    ]);
    const quarter = periodAt("quarterly", NOW, "Europe/Berlin");
    expect([quarter.label, quarter.start.toISOString(), quarter.end.toISOString()]).toEqual([
      "2026-10-01",
      "2026-09-30T22:00:00.000Z",
      "2026-12-31T23:00:00.000Z",
    ]);
  });

  it("has 23- and 25-hour days across DST and Monday-aligned weeks", () => {
    const spring = periodAt("daily", new Date("2026-03-08T12:00:00Z"), "America/New_York");
    expect(spring.end.getTime() - spring.start.getTime()).toBe(23 * HOUR_MS);
    const autumn = periodAt("daily", new Date("2026-11-01T12:00:00Z"), "America/New_York");
    expect(autumn.end.getTime() - autumn.start.getTime()).toBe(25 * HOUR_MS);
    const week = periodAt("weekly", new Date("2026-03-08T12:00:00Z"), "America/New_York");
    expect([week.label, week.start.toISOString(), week.end.toISOString()]).toEqual([
      "2026-03-02",
      "2026-03-02T05:00:00.000Z",
      "2026-03-09T04:00:00.000Z",
    ]);
  });

  it("starts a day at the DST jump when midnight does not exist", () => {
    // Brazil moved its clocks from 00:00 to 01:00 on 4 November 2018.
    expect(startOfLocalDay(2018, 11, 4, "America/Sao_Paulo").toISOString()).toBe("2018-11-04T03:00:00.000Z");
  });

  it("keeps rollup hours whole in half-hour zones: the hour holding local midnight opens the new day", () => {
    const before = periodAt("daily", new Date("2026-01-01T18:10:00Z"), "Asia/Kolkata");
    expect([before.label, before.start.toISOString(), before.hoursFrom.toISOString()]).toEqual([
      "2026-01-02",
      "2026-01-01T18:30:00.000Z",
      "2026-01-01T18:00:00.000Z",
    ]);
  });

  it("numbers hours of the local week from Monday 00:00", () => {
    expect(hourOfWeek(new Date("2026-11-16T05:00:00Z"), "America/New_York")).toBe(0);
    expect(hourOfWeek(new Date("2026-11-16T04:00:00Z"), "America/New_York")).toBe(167);
  });
});

describe("evaluateBudget: the seed's worked example", () => {
  const nlp = budget();

  it("sends nothing under 50%", () => {
    const e = evaluateBudget(nlp, 9_999_999_999_999n, NOW);
    expect(e.crossed).toEqual([]);
    expect(e.alerts).toEqual([]);
    expect(e.percent).toBe(50);
  });

  it("$10,000 is the 50% alert, info", () => {
    const e = evaluateBudget(nlp, 10_000n * USD, NOW);
    expect(e.alerts.map((a) => [a.idempotency_key, a.kind, a.severity])).toEqual([
      ["budget:nlp-monthly:2026-11-01:50", "budget.threshold", "info"],
    ]);
    expect(e.alerts[0]?.summary).toContain("spend is $10,000.00 of $20,000.00 (50%)");
  });

  it("$16,000 is the 80% alert, warning (with the 50% one, recomputed at 80%, it already sent under its own key)", () => {
    const e = evaluateBudget(nlp, 16_000n * USD, NOW);
    expect(e.alerts.map((a) => [a.idempotency_key, a.severity])).toEqual([
      ["budget:nlp-monthly:2026-11-01:50", "warning"],
      ["budget:nlp-monthly:2026-11-01:80", "warning"],
    ]);
  });

  it('$20,050 is the 100% alert: critical, "Budget exceeded. Immediate action required."', () => {
    const e = evaluateBudget(nlp, 20_050n * USD, NOW);
    const alert = e.alerts.at(-1);
    expect(alert?.idempotency_key).toBe("budget:nlp-monthly:2026-11-01:100");
    expect(alert?.severity).toBe("critical");
    expect(alert?.action).toBe("Budget exceeded. Immediate action required.");
    expect(alert?.title).toBe("Budget nlp-monthly exceeded");
    expect(alert?.amounts).toMatchObject({
      spend_nanos: 20_050n * USD,
      limit_nanos: 20_000n * USD,
      percent: 100.25,
    });
    expect(alert?.scope).toEqual({ team: "nlp-team", budget: "nlp-monthly" });
    expect(alert?.period).toEqual({ start: "2026-11-01T00:00:00.000Z", end: "2026-12-01T00:00:00.000Z" });
    for (const a of e.alerts)
      expect(
        parseAlert(JSON.parse(JSON.stringify(a, (_, v) => (typeof v === "bigint" ? `${v}` : v)))),
      ).toMatchObject({ ok: true });
  });

  it("at 141% one message speaks for 125% and names the thresholds passed with it", () => {
    const e = evaluateBudget(nlp, 28_200n * USD, NOW);
    expect(e.crossed).toEqual([50, 80, 100, 125]);
    const alert = thresholdAlert(e, 125, [50, 80, 100]);
    expect([alert.idempotency_key, alert.severity, alert.title]).toEqual([
      "budget:nlp-monthly:2026-11-01:125",
      "critical",
      "Budget nlp-monthly reached 125%",
    ]);
    expect(alert.summary).toContain(
      "(141%) in the monthly period from 2026-11-01 (UTC), past the 125% threshold (also passed 50%, 80% and 100%: one message for all).",
    );
    expect(
      parseAlert(JSON.parse(JSON.stringify(alert, (_, v) => (typeof v === "bigint" ? `${v}` : v)))),
    ).toMatchObject({
      ok: true,
    });
    expect(percentList([50])).toBe("50%");
    expect(percentList([50, 80])).toBe("50% and 80%");
  });

  it("decides crossings exactly: one nano short of 80% is not 80%", () => {
    expect(evaluateBudget(nlp, 16_000n * USD - 1n, NOW).crossed).toEqual([50]);
  });

  it("maps severities: under 80 info, 80 to under 100 warning, 100 and over critical", () => {
    expect([50, 79, 80, 99, 100, 125].map(thresholdSeverity)).toEqual([
      "info",
      "info",
      "warning",
      "warning",
      "critical",
      "critical",
    ]);
  });

  it("routes to the owner and an explicit channel", () => {
    const e = evaluateBudget(budget({ owner: "ml-platform", channel: "#nlp-spend" }), 10_000n * USD, NOW);
    expect(e.alerts[0]?.scope.team).toBe("ml-platform");
    expect(e.alerts[0]?.channel).toBe("#nlp-spend");
  });

  it("builds the enforcement event once the enforcement threshold is reached", () => {
    const enforced = budget({ enforcement: { threshold: 100, topic: "nlp-training-queue" } });
    expect(evaluateBudget(enforced, 19_999n * USD, NOW).enforcement).toBeNull();
    const event = evaluateBudget(enforced, 20_050n * USD, NOW).enforcement;
    expect(event?.id).toBe("budget:nlp-monthly:2026-11-01:enforcement:100");
    expect(event?.data).toMatchObject({
      budget: "nlp-monthly",
      spend_nanos: "20050000000000",
      threshold: 100,
    });
    expect(parseEnforcementEvent(JSON.parse(JSON.stringify(event)))).toMatchObject({ ok: true });
  });
});

describe("forecast", () => {
  const nlp = budget();
  const period = periodAt("monthly", NOW, "UTC");

  it("projects the flat run rate exactly on bigints", () => {
    // 19 days 10.5 hours elapsed (466.5 h) of 720 h; $9,330 spent: $20/h, 253.5 h to go = $5,070 more.
    const spend = 9_330n * USD;
    expect(forecastSpend(period, spend, NOW)).toEqual({ nanos: 14_400n * USD, method: "run-rate" });
    // Exact rational, rounded once: 1 nano over 466.5 h for 720 h total.
    expect(forecastSpend(period, 1n, NOW).nanos).toBe(2n); // 1 × 720 / 466.5 = 1.5434 → 2
    expect(forecastSpend(period, 7n, NOW).nanos).toBe(11n); // 7 × 720 / 466.5 = 10.804 → 11
  });

  it("weights the remaining hours by the same hour of the week, and falls back to the run rate", () => {
    // Spend only 09:00-17:00 UTC on weekdays, $100 each such hour, over the last week.
    const profile: HourSample[] = [];
    const currentHour = Math.floor(NOW.getTime() / HOUR_MS) * HOUR_MS;
    for (let i = 168; i >= 1; i--) {
      const hour = new Date(currentHour - i * HOUR_MS);
      const weekday = hour.getUTCDay();
      const busy = weekday >= 1 && weekday <= 5 && hour.getUTCHours() >= 9 && hour.getUTCHours() < 17;
      profile.push({ hour, spend_nanos: busy ? 100n * USD : 0n });
    }
    const spend = 10_000n * USD;
    const shaped = forecastSpend(period, spend, NOW, profile);
    expect(shaped.method).toBe("hour-of-week");
    // Remaining: $100 for every weekday working hour (and part hour) left in November after 10:30
    // on Friday the 20th, nothing at night or at weekends.
    let busyMs = 0;
    for (let t = NOW.getTime(); t < period.hoursTo.getTime(); ) {
      const next = Math.min(Math.floor(t / HOUR_MS) * HOUR_MS + HOUR_MS, period.hoursTo.getTime());
      const d = new Date(t);
      if (d.getUTCDay() >= 1 && d.getUTCDay() <= 5 && d.getUTCHours() >= 9 && d.getUTCHours() < 17)
        busyMs += next - t;
      t = next;
    }
    expect(shaped.nanos).toBe(spend + (100n * USD * BigInt(busyMs)) / BigInt(HOUR_MS));

    const partial = forecastSpend(period, spend, NOW, profile.slice(-24));
    expect(partial.method).toBe("mixed");
  });

  it("sends a forecast alert once enough of the period has passed, only for thresholds of 100% and more", () => {
    const forecasting = budget({ forecast: true });
    const e = evaluateBudget(forecasting, 16_000n * USD, NOW); // run rate → 24,694 (123%)
    expect(e.forecast.percent).toBeCloseTo(123.47, 2);
    expect(e.alerts.map((a) => [a.idempotency_key, a.kind, a.severity])).toEqual([
      ["budget:nlp-monthly:2026-11-01:50", "budget.threshold", "warning"],
      ["budget:nlp-monthly:2026-11-01:80", "budget.threshold", "warning"],
      ["budget:nlp-monthly:2026-11-01:forecast:100", "budget.forecast", "warning"],
    ]);
    const early = evaluateBudget(forecasting, 5_000n * USD, new Date("2026-11-02T00:00:00Z"));
    expect(early.forecast.percent).toBeGreaterThan(100);
    expect(early.alerts).toEqual([]);
  });

  it("formats money with separators and the currency", () => {
    expect(formatMoney(20_050n * USD, "USD")).toBe("$20,050.00");
    expect(formatMoney(1_234_567_890n, "EUR")).toBe("1.23 EUR");
    expect(nlp.amount_nanos).toBe(20_000n * USD);
  });
});
