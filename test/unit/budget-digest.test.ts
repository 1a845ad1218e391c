import { describe, expect, it } from "vitest";
import { createMemoryAlertClaims } from "#adapters/memory-alert-claims/memory-alert-claims.ts";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import { BudgetDigestError, budgetDigestResultToJson, createBudgetDigest } from "#app/budget-digest.ts";
import { type Alert, parseAlert } from "#domain/alerts/alert.ts";
import { type Budget, parseBudgets } from "#domain/budgets/budget-config.ts";
import {
  buildDigestAlert,
  DIGEST_SUMMARY_MAX,
  type DigestOverrun,
  digestEntry,
  digestKey,
  digestSummary,
  isoWeek,
  type TeamDigest,
  teamDigests,
} from "#domain/budgets/budget-digest.ts";
import { periodAt, previousPeriod } from "#domain/budgets/budget-period.ts";
import type { Bus } from "#ports/bus.ts";
import { TOPICS } from "#ports/bus.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import { costRow } from "../support/cost-row-builder.ts";
import { createMemoryWarehouse } from "../support/memory-warehouse.ts";

const USD = 1_000_000_000n;
/** A Monday, 09:00 UTC: when the digest is scheduled. ISO week 2026-W48. */
const NOW = new Date("2026-11-23T09:00:00Z");

function budget(overrides: Record<string, unknown> = {}): Budget {
  const [parsed] = parseBudgets([
    { name: "nlp-monthly", scope: { team: "nlp-team" }, period: "monthly", amount: "20000", ...overrides },
  ]);
  return parsed as Budget;
}

function entryFor(b: Budget, currentDollars: bigint, previousDollars: bigint, now = NOW) {
  const current = periodAt(b.period, now, b.timeZone);
  return digestEntry(
    b,
    { period: current, spend_nanos: currentDollars * USD },
    { period: previousPeriod(current), spend_nanos: previousDollars * USD },
    now,
  );
}

describe("isoWeek and digestKey", () => {
  it("name the ISO 8601 week of the instant in UTC", () => {
    expect(isoWeek(NOW)).toBe("2026-W48");
    expect(isoWeek(new Date("2026-11-29T23:59:59Z"))).toBe("2026-W48"); // Sunday
    expect(isoWeek(new Date("2026-11-30T00:00:00Z"))).toBe("2026-W49");
    expect(isoWeek(new Date("2027-01-01T12:00:00Z"))).toBe("2026-W53"); // 2026 has 53 weeks
    expect(isoWeek(new Date("2024-12-30T00:00:00Z"))).toBe("2025-W01");
    expect(isoWeek(new Date("2026-01-01T00:00:00Z"))).toBe("2026-W01");
    // UTC, not local: Sunday 23:30 in New York is already Monday in UTC.
    expect(isoWeek(new Date("2026-11-30T04:30:00Z"))).toBe("2026-W49");
    expect(digestKey("nlp-team", NOW)).toBe("budget-digest:nlp-team:2026-W48");
  });
});

describe("digestEntry: which budgets qualify", () => {
  const b = budget();

  it("is approaching from exactly 80% up to, not including, 100% of the limit", () => {
    expect(entryFor(b, 15_999n, 0n)).toEqual({});
    expect(entryFor(b, 16_000n, 0n).approaching).toMatchObject({ budget: "nlp-monthly", percent: 80 });
    expect(entryFor(b, 19_999n, 0n).approaching?.percent).toBe(100); // 99.995 rounds for display
    expect(entryFor(b, 20_000n, 0n)).toEqual({});
    expect(entryFor(b, 25_000n, 0n)).toEqual({});
  });

  it("forecasts the period end at the flat run rate", () => {
    // November so far: 537 of 720 hours, $17,000 → $22,793.30 by December.
    const approaching = entryFor(b, 17_000n, 0n).approaching;
    expect(approaching?.forecast).toEqual({ nanos: 22_793_296_089_385n, percent: 113.97 });
    expect(approaching?.period.label).toBe("2026-11-01");
    // At the very start of a period nothing has elapsed: no forecast.
    const start = new Date("2026-11-01T00:00:00Z");
    const early = digestEntry(
      b,
      { period: periodAt("monthly", start, "UTC"), spend_nanos: 17_000n * USD },
      { period: previousPeriod(periodAt("monthly", start, "UTC")), spend_nanos: 0n },
      start,
    );
    expect(early.approaching).toBeDefined();
    expect(early.approaching?.forecast).toBeUndefined();
  });

  it("is an overrun only when the previous period's spend was more than the limit", () => {
    expect(entryFor(b, 0n, 20_000n)).toEqual({});
    const overrun = entryFor(b, 0n, 21_500n).overrun;
    expect(overrun).toMatchObject({
      budget: "nlp-monthly",
      spend_nanos: 21_500n * USD,
      limit_nanos: 20_000n * USD,
      over_nanos: 1_500n * USD,
      over_percent: 7.5,
      percent: 107.5,
      currency: "USD",
    });
    expect(overrun?.period.label).toBe("2026-10-01");
  });

  it("can be both: overran last period and approaching this one", () => {
    const entry = entryFor(b, 18_000n, 30_000n);
    expect(entry.approaching?.percent).toBe(90);
    expect(entry.overrun?.over_percent).toBe(50);
  });
});

describe("teamDigests", () => {
  it("groups by owner, drops teams with nothing, sorts teams and budgets", () => {
    const a = budget({ name: "a" });
    const c = budget({ name: "c" });
    const d = budget({ name: "d", scope: { team: "vision" } });
    const e = budget({ name: "e", scope: { team: "quiet" } });
    const digests = teamDigests([
      { owner: "nlp-team", entry: entryFor(a, 16_000n, 21_000n) },
      { owner: "nlp-team", entry: entryFor(c, 19_000n, 30_000n) },
      { owner: "vision", entry: entryFor(d, 17_000n, 0n) },
      { owner: "quiet", entry: entryFor(e, 1_000n, 19_000n) },
    ]);
    expect(digests.map((t) => t.team)).toEqual(["nlp-team", "vision"]);
    expect(digests[0]?.approaching.map((x) => x.budget)).toEqual(["c", "a"]);
    expect(digests[0]?.overruns.map((x) => x.budget)).toEqual(["c", "a"]);
    expect(digests[1]?.overruns).toEqual([]);
  });
});

describe("digest formatting", () => {
  it("lists the overruns and the budgets approaching their limit with amounts", () => {
    const [digest] = teamDigests([
      { owner: "nlp-team", entry: entryFor(budget(), 17_000n, 21_500n) },
      {
        owner: "nlp-team",
        entry: entryFor(
          budget({ name: "nlp-eu", period: "weekly", amount: "1000", currency: "EUR" }),
          0n,
          1_250n,
        ),
      },
    ]);
    expect(digestSummary(digest as TeamDigest)).toBe(
      [
        "nlp-team: 2 overran last period, 1 approaching the limit.",
        "Overran last period (2):",
        "• nlp-eu (weekly from 2026-11-16): 1,250.00 EUR of 1,000.00 EUR (125%), over by 250.00 EUR (25%)",
        "• nlp-monthly (monthly from 2026-10-01): $21,500.00 of $20,000.00 (107.5%), over by $1,500.00 (7.5%)",
        "Approaching the limit, 80% or more (1):",
        "• nlp-monthly (monthly from 2026-11-01): $17,000.00 of $20,000.00 (85%); forecast $22,793.30 (113.97%) by the period end",
      ].join("\n"),
    );
  });

  it("builds a valid budget.digest alert: warning with an overrun, info without, none when empty", () => {
    const [warning] = teamDigests([{ owner: "nlp-team", entry: entryFor(budget(), 17_000n, 21_500n) }]);
    const alert = buildDigestAlert(warning as TeamDigest, NOW);
    expect(alert).toMatchObject({
      idempotency_key: "budget-digest:nlp-team:2026-W48",
      kind: "budget.digest",
      severity: "warning",
      title: "Weekly budget digest for nlp-team (2026-W48)",
      scope: { team: "nlp-team" },
      source: { system: "finops", id: "budget-digest:nlp-team:2026-W48" },
      created_at: NOW.toISOString(),
    });
    expect(parseAlert(JSON.parse(JSON.stringify(alert))).ok).toBe(true);

    const [info] = teamDigests([{ owner: "nlp-team", entry: entryFor(budget(), 17_000n, 0n) }]);
    expect(buildDigestAlert(info as TeamDigest, NOW)?.severity).toBe("info");
    expect(buildDigestAlert({ team: "nlp-team", approaching: [], overruns: [] }, NOW)).toBeNull();
  });

  it("truncates the summary to the alert limit with '… and N more', counting every line left off", () => {
    const b = budget();
    const prev = previousPeriod(periodAt("monthly", NOW, "UTC"));
    const overruns: DigestOverrun[] = Array.from({ length: 60 }, (_, i) => ({
      budget: `budget-with-a-fairly-long-name-${String(i).padStart(3, "0")}`,
      period: prev,
      spend_nanos: 21_000n * USD,
      limit_nanos: b.amount_nanos,
      currency: "USD",
      percent: 105,
      over_nanos: 1_000n * USD,
      over_percent: 5,
    }));
    const digest: TeamDigest = { team: "nlp-team", approaching: [], overruns };
    const summary = digestSummary(digest);
    expect(summary.length).toBeLessThanOrEqual(DIGEST_SUMMARY_MAX);
    const shown = summary.split("\n").filter((line) => line.startsWith("• ")).length;
    expect(shown).toBeGreaterThan(5);
    expect(shown).toBeLessThan(60);
    expect(summary.endsWith(`\n… and ${60 - shown} more`)).toBe(true);
    // Every line that fits is kept: one more would not have.
    expect(summary.length + 110).toBeGreaterThan(DIGEST_SUMMARY_MAX);

    const alert = buildDigestAlert(digest, NOW);
    expect(parseAlert(JSON.parse(JSON.stringify(alert))).ok).toBe(true);

    // Small limits: the section header counts too; the suffix always fits.
    const tiny = digestSummary({ team: "t", approaching: [], overruns: overruns.slice(0, 3) }, 60);
    expect(tiny).toBe("t: 3 overran last period.\n… and 3 more");
    const all = digestSummary({ team: "t", approaching: [], overruns: overruns.slice(0, 2) }, 10_000);
    expect(all).not.toContain("more");
  });

  it("keeps a long team name's title within the alert model's limit", () => {
    const team = "t".repeat(200);
    const [digest] = teamDigests([{ owner: team, entry: entryFor(budget({ owner: team }), 17_000n, 0n) }]);
    const alert = buildDigestAlert(digest as TeamDigest, NOW);
    expect(alert?.title.length).toBe(150);
    expect(parseAlert(JSON.parse(JSON.stringify(alert))).ok).toBe(true);
  });
});

describe("createBudgetDigest with the memory warehouse", () => {
  async function setup(bus?: Bus) {
    const warehouse = createMemoryWarehouse();
    const memoryBus = createMemoryBus({ logger: silentLogger });
    const claims = createMemoryAlertClaims();
    const received: Alert[] = [];
    await memoryBus.subscribe(TOPICS.alerts, "test-alerts", async (m) => {
      const parsed = parseAlert(JSON.parse(m.data.toString()));
      if (!parsed.ok) throw new Error(parsed.reason);
      received.push(parsed.alert);
    });
    const budgets = parseBudgets([
      { name: "nlp-monthly", scope: { team: "nlp-team" }, period: "monthly", amount: "20000" },
      { name: "nlp-eur", scope: { team: "nlp-team" }, period: "monthly", amount: "100", currency: "EUR" },
    ]);
    let n = 0;
    async function spend(dollars: bigint, at: Date, currency = "USD") {
      n += 1;
      await warehouse.insertEvents([
        costRow({
          event_id: `s-${n}`,
          team: "nlp-team",
          event_time: at,
          cost_nanos: dollars * USD,
          currency,
        }),
      ]);
      await warehouse.refreshHourly({
        from: new Date("2026-10-01T00:00:00Z"),
        to: new Date("2026-12-01T00:00:00Z"),
      });
    }
    const make = (clock = fixedClock(NOW)) =>
      createBudgetDigest({ warehouse, bus: bus ?? memoryBus, claims, budgets, clock, logger: silentLogger });
    return { bus: memoryBus, received, spend, make };
  }

  it("counts only each budget's currency, sends one digest per team per week", async () => {
    const { bus, received, spend, make } = await setup();
    await spend(16_500n, new Date("2026-11-10T12:00:00Z"));
    await spend(500n, new Date("2026-11-10T12:00:00Z"), "EUR"); // 500% of nlp-eur, not of nlp-monthly
    await spend(40n, new Date("2026-10-10T12:00:00Z"), "EUR"); // 40% of nlp-eur last period
    const digest = make();
    const result = await digest.send();
    await bus.drain();
    expect(budgetDigestResultToJson(result)).toEqual({
      sent_at: NOW.toISOString(),
      week: "2026-W48",
      budgets: 2,
      sent: [
        {
          team: "nlp-team",
          key: "budget-digest:nlp-team:2026-W48",
          severity: "info",
          approaching: ["nlp-monthly"],
          overran: [],
        },
      ],
      already_sent: [],
    });
    expect(received).toHaveLength(1);
    expect(received[0]?.summary).toContain("$16,500.00 of $20,000.00 (82.5%)");

    const again = await digest.send();
    await bus.drain();
    expect(again.sent).toEqual([]);
    expect(again.alreadySent).toEqual(["nlp-team"]);
    expect(received).toHaveLength(1);
  });

  it("sends nothing, and claims nothing, for a team with nothing to report", async () => {
    const { received, spend, make, bus } = await setup();
    await spend(1_000n, new Date("2026-11-10T12:00:00Z"));
    expect((await make().send()).sent).toEqual([]);
    // Later that week the budget gets close: the digest still goes out on a re-run.
    await spend(15_500n, new Date("2026-11-23T08:00:00Z"));
    expect((await make().send()).sent.map((s) => s.team)).toEqual(["nlp-team"]);
    await bus.drain();
    expect(received).toHaveLength(1);
  });

  it("throws publish_failed when the bus fails after the claim; the week's key stays claimed", async () => {
    const failing: Bus = {
      async publish() {
        throw new Error("bus down");
      },
      async subscribe() {
        throw new Error("not used");
      },
      async close() {},
    };
    const { spend, make } = await setup(failing);
    await spend(16_500n, new Date("2026-11-10T12:00:00Z"));
    const error = await make()
      .send()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BudgetDigestError);
    expect((error as BudgetDigestError).code).toBe("publish_failed");
    expect((await make().send()).alreadySent).toEqual(["nlp-team"]);
  });
});
