import { getTestServer } from "@google-cloud/functions-framework/testing";
import { afterEach, describe, expect, it } from "vitest";
import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import { createMemoryAlertClaims } from "#adapters/memory-alert-claims/memory-alert-claims.ts";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import { createBudgetDigest } from "#app/budget-digest.ts";
import { type Alert, parseAlert } from "#domain/alerts/alert.ts";
import { parseBudgets } from "#domain/budgets/budget-config.ts";
import { TOPICS } from "#ports/bus.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import { type Runtime, setRuntime } from "#runtime/runtime.ts";
import { costRow } from "../support/cost-row-builder.ts";
import { postForJson } from "../support/post-function.ts";

const USD = 1_000_000_000n;
/** Monday 2026-11-23, 09:00 UTC: the scheduled run, ISO week 2026-W48. */
const NOW = new Date("2026-11-23T09:00:00Z");
const RANGE = { from: new Date("2026-10-01T00:00:00Z"), to: new Date("2026-12-01T00:00:00Z") };

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe("budget digest with the DuckDB warehouse, the memory bus and memory claims", () => {
  it("sends each team one digest with the right budgets and amounts, once per week", async () => {
    const warehouse = createDuckDbWarehouse({ path: ":memory:" });
    await warehouse.init();
    const bus = createMemoryBus({ logger: silentLogger });
    closers.push(
      () => warehouse.close(),
      () => bus.close(),
    );
    const claims = createMemoryAlertClaims();
    const received: Alert[] = [];
    await bus.subscribe(TOPICS.alerts, "notify", async (message) => {
      const parsed = parseAlert(JSON.parse(message.data.toString()));
      if (!parsed.ok) throw new Error(parsed.reason);
      received.push(parsed.alert);
    });

    const budgets = parseBudgets([
      // Approaching now (85% of November) and overran October by $1,500.
      { name: "nlp-monthly", scope: { team: "nlp-team" }, period: "monthly", amount: "20000" },
      // Last week $900 of $1,000, this week nothing: not in the digest.
      {
        name: "nlp-prod-weekly",
        scope: { team: "nlp-team", environment: "prod" },
        period: "weekly",
        amount: "1000",
      },
      // 50% now, 90% last month: search-team gets no digest.
      { name: "search-monthly", scope: { team: "search-team" }, period: "monthly", amount: "10000" },
      // Approaching today (90% by 09:00), owned by another team than its scope's.
      {
        name: "vision-daily",
        scope: { team: "vision" },
        owner: "vision-team",
        period: "daily",
        amount: "100",
      },
    ]);

    let n = 0;
    const rows = [
      ["nlp-team", 17_000n, "2026-11-10T12:00:00Z"],
      ["nlp-team", 21_500n, "2026-10-15T12:00:00Z"],
      ["nlp-team", 900n, "2026-11-18T12:00:00Z"], // last week (prod), also November
      ["search-team", 5_000n, "2026-11-05T12:00:00Z"],
      ["search-team", 9_000n, "2026-10-05T12:00:00Z"],
      ["vision", 90n, "2026-11-23T08:30:00Z"],
      ["vision", 500n, "2026-11-22T12:00:00Z"], // yesterday: an overrun of the daily budget
      ["vision", 999n, "2026-11-23T10:00:00Z"], // after now: not counted
    ] as const;
    await warehouse.insertEvents(
      rows.map(([team, dollars, at]) =>
        costRow({ event_id: `d-${++n}`, team, event_time: new Date(at), cost_nanos: dollars * USD }),
      ),
    );
    await warehouse.refreshHourly(RANGE);

    const digest = createBudgetDigest({
      warehouse,
      bus,
      claims,
      budgets,
      clock: fixedClock(NOW),
      logger: silentLogger,
    });
    const result = await digest.send();
    await bus.drain();

    // November's $17,000 includes the $900 of last week: $17,900 of $20,000.
    expect(result.week).toBe("2026-W48");
    expect(result.sent).toEqual([
      {
        team: "nlp-team",
        key: "budget-digest:nlp-team:2026-W48",
        severity: "warning",
        approaching: ["nlp-monthly"],
        overran: ["nlp-monthly"],
      },
      {
        team: "vision-team",
        key: "budget-digest:vision-team:2026-W48",
        severity: "warning",
        approaching: ["vision-daily"],
        overran: ["vision-daily"],
      },
    ]);
    expect(received.map((a) => [a.kind, a.scope.team, a.severity])).toEqual([
      ["budget.digest", "nlp-team", "warning"],
      ["budget.digest", "vision-team", "warning"],
    ]);
    expect(received[0]?.summary).toBe(
      [
        "nlp-team: 1 overran last period, 1 approaching the limit.",
        "Overran last period (1):",
        "• nlp-monthly (monthly from 2026-10-01): $21,500.00 of $20,000.00 (107.5%), over by $1,500.00 (7.5%)",
        "Approaching the limit, 80% or more (1):",
        // 537 of November's 720 hours elapsed: $17,900 × 720 / 537 = $24,000.00.
        "• nlp-monthly (monthly from 2026-11-01): $17,900.00 of $20,000.00 (89.5%); forecast $24,000.00 (120%) by the period end",
      ].join("\n"),
    );
    expect(received[1]?.summary).toBe(
      [
        "vision-team: 1 overran last period, 1 approaching the limit.",
        "Overran last period (1):",
        "• vision-daily (daily from 2026-11-22): $500.00 of $100.00 (500%), over by $400.00 (400%)",
        "Approaching the limit, 80% or more (1):",
        "• vision-daily (daily from 2026-11-23): $90.00 of $100.00 (90%); forecast $240.00 (240%) by the period end",
      ].join("\n"),
    );

    // A re-run that week sends nothing.
    const again = await digest.send();
    await bus.drain();
    expect(again.sent).toEqual([]);
    expect(again.alreadySent).toEqual(["nlp-team", "vision-team"]);
    expect(received).toHaveLength(2);

    // The next Monday is a new week: the digests go out again (whatever still qualifies).
    const nextWeek = createBudgetDigest({
      warehouse,
      bus,
      claims,
      budgets,
      clock: fixedClock("2026-11-30T09:00:00Z"),
      logger: silentLogger,
    });
    const next = await nextWeek.send();
    await bus.drain();
    expect(next.sent.map((s) => s.key)).toEqual(["budget-digest:nlp-team:2026-W49"]);
    expect(next.sent[0]?.approaching).toEqual(["nlp-monthly"]);
  });
});

describe("sendBudgetDigest function (HTTP, scheduled Mondays 09:00 UTC)", () => {
  it("answers with the digests it sent, and sends none twice in a week", async () => {
    const warehouse = createDuckDbWarehouse({ path: ":memory:" });
    await warehouse.init();
    const bus = createMemoryBus({ logger: silentLogger });
    closers.push(
      () => warehouse.close(),
      () => bus.close(),
    );
    await warehouse.insertEvents([
      costRow({ team: "nlp-team", event_time: new Date("2026-10-15T12:00:00Z"), cost_nanos: 25_000n * USD }),
    ]);
    await warehouse.refreshHourly(RANGE);
    const budgetDigest = createBudgetDigest({
      warehouse,
      bus,
      claims: createMemoryAlertClaims(),
      budgets: parseBudgets([
        { name: "nlp-monthly", scope: { team: "nlp-team" }, period: "monthly", amount: "20000" },
      ]),
      clock: fixedClock(NOW),
    });
    // Only the part this function reads; the composition root builds the whole Runtime.
    setRuntime({ budgetDigest } as unknown as Runtime);
    await import("../../functions/send-budget-digest/index.ts");
    const server = getTestServer("sendBudgetDigest");
    expect(await postForJson(server)).toEqual({
      sent_at: NOW.toISOString(),
      week: "2026-W48",
      budgets: 1,
      sent: [
        {
          team: "nlp-team",
          key: "budget-digest:nlp-team:2026-W48",
          severity: "warning",
          approaching: [],
          overran: ["nlp-monthly"],
        },
      ],
      already_sent: [],
    });
    expect(await postForJson(server)).toMatchObject({ sent: [], already_sent: ["nlp-team"] });
  });
});
