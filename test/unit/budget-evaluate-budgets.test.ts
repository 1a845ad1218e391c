import { describe, expect, it } from "vitest";
import { createMemoryAlertClaims } from "#adapters/memory-alert-claims/memory-alert-claims.ts";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import { createEvaluateBudgets, EvaluateBudgetsError } from "#app/evaluate-budgets.ts";
import { type Alert, parseAlert } from "#domain/alerts/alert.ts";
import { parseBudgets } from "#domain/budgets/budget-config.ts";
import { formatBudgetStatus } from "#domain/budgets/budget-status.ts";
import type { Bus } from "#ports/bus.ts";
import { TOPICS } from "#ports/bus.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import { costRow } from "../support/cost-row-builder.ts";
import { createMemoryWarehouse } from "../support/memory-warehouse.ts";

const USD = 1_000_000_000n;
const NOW = new Date("2026-11-20T10:30:00Z");
const MONTH = { from: new Date("2026-11-01T00:00:00Z"), to: new Date("2026-12-01T00:00:00Z") };

async function setup(extra: Record<string, unknown> = {}, bus?: Bus) {
  const warehouse = createMemoryWarehouse();
  const memoryBus = createMemoryBus({ logger: silentLogger });
  const claims = createMemoryAlertClaims();
  const received: Alert[] = [];
  const enforcement: unknown[] = [];
  await memoryBus.subscribe(TOPICS.alerts, "test-alerts", async (m) => {
    const parsed = parseAlert(JSON.parse(m.data.toString()));
    if (!parsed.ok) throw new Error(parsed.reason);
    received.push(parsed.alert);
  });
  await memoryBus.subscribe("nlp-training-queue", "test-enforcement", async (m) => {
    enforcement.push(JSON.parse(m.data.toString()));
  });
  const budgets = parseBudgets([
    { name: "nlp-monthly", scope: { team: "nlp-team" }, period: "monthly", amount: "20000", ...extra },
  ]);
  const evaluator = createEvaluateBudgets({
    warehouse,
    bus: bus ?? memoryBus,
    claims,
    budgets,
    clock: fixedClock(NOW),
    logger: silentLogger,
    forecastProfileHours: 24,
  });
  let n = 0;
  async function spend(dollars: bigint, at = new Date("2026-11-10T12:00:00Z"), team = "nlp-team") {
    n += 1;
    await warehouse.insertEvents([
      costRow({ event_id: `spend-${n}`, team, event_time: at, cost_nanos: dollars * USD }),
    ]);
    await warehouse.refreshHourly(MONTH);
  }
  async function run() {
    const result = await evaluator.evaluate();
    await memoryBus.drain();
    return result;
  }
  return { warehouse, bus: memoryBus, claims, evaluator, received, enforcement, spend, run };
}

describe("evaluateBudgets", () => {
  it("publishes the seed's three messages, each once, and nothing under 50%", async () => {
    const { received, spend, run } = await setup();
    await spend(4_000n);
    await spend(2_000n, new Date("2026-11-05T03:00:00Z"), "other-team");
    expect((await run()).published).toEqual([]);
    await spend(6_000n); // $10,000
    expect((await run()).published.map((p) => p.key)).toEqual(["budget:nlp-monthly:2026-11-01:50"]);
    await spend(6_000n); // $16,000
    await run();
    await spend(4_050n); // $20,050
    await run();
    expect(received.map((a) => [a.idempotency_key, a.severity, a.amounts?.percent])).toEqual([
      ["budget:nlp-monthly:2026-11-01:50", "info", 50],
      ["budget:nlp-monthly:2026-11-01:80", "warning", 80],
      ["budget:nlp-monthly:2026-11-01:100", "critical", 100.25],
    ]);
    expect(received[2]?.action).toBe("Budget exceeded. Immediate action required.");
  });

  it("re-running at the same spend publishes nothing new", async () => {
    const { received, spend, run } = await setup();
    await spend(16_000n);
    await run();
    const again = await run();
    expect(again.published).toEqual([]);
    expect(again.alreadySent).toBe(2);
    expect(received).toHaveLength(1);
  });

  it("a late event after 100% passed, or one that lifts spend over a passed threshold again, sends nothing", async () => {
    const { warehouse, received, spend, run } = await setup();
    await spend(20_050n);
    expect((await run()).published).toEqual([
      {
        key: "budget:nlp-monthly:2026-11-01:100",
        kind: "budget.threshold",
        severity: "critical",
        budget: "nlp-monthly",
        alsoPassed: [50, 80],
      },
    ]);
    await spend(100n, new Date("2026-11-02T01:00:00Z")); // a late event in an old hour
    expect((await run()).published).toEqual([]);
    // A credit drops spend under 100%, then a late event lifts it past again: still no second alert.
    await spend(-500n, new Date("2026-11-03T01:00:00Z"));
    await run();
    await spend(450n, new Date("2026-11-04T01:00:00Z"));
    expect((await run()).published).toEqual([]);
    expect(received.map((a) => a.idempotency_key)).toEqual(["budget:nlp-monthly:2026-11-01:100"]);
    await warehouse.close();
  });

  it("a budget first seen at 141% posts one message, for 125%, naming 50%, 80% and 100% as passed", async () => {
    const { received, spend, run } = await setup();
    await spend(28_200n); // 141% of $20,000

    const first = await run();

    expect(first.published).toEqual([
      {
        key: "budget:nlp-monthly:2026-11-01:125",
        kind: "budget.threshold",
        severity: "critical",
        budget: "nlp-monthly",
        alsoPassed: [50, 80, 100],
      },
    ]);
    expect(first.alreadySent).toBe(0);
    expect(received).toHaveLength(1);
    const [alert] = received;
    expect(alert?.title).toBe("Budget nlp-monthly reached 125%");
    expect(alert?.severity).toBe("critical");
    expect(alert?.action).toBe("Budget exceeded. Immediate action required.");
    expect(alert?.summary).toContain("spend is $28,200.00 of $20,000.00 (141%)");
    expect(alert?.summary).toContain(
      "past the 125% threshold (also passed 50%, 80% and 100%: one message for all)",
    );
    expect(alert?.amounts).toMatchObject({ percent: 141, spend_nanos: 28_200n * USD });

    // A rerun posts nothing: every threshold was claimed by the first run, the lower ones included.
    const again = await run();
    expect(again.published).toEqual([]);
    expect(again.alreadySent).toBe(4);
    expect(received).toHaveLength(1);
  });

  it("a jump past two thresholds within one hour is one message, for the higher", async () => {
    const { received, spend, run } = await setup();
    await spend(17_000n);
    await run();
    expect(received.map((a) => [a.idempotency_key, a.severity])).toEqual([
      ["budget:nlp-monthly:2026-11-01:80", "warning"],
    ]);
    expect(received[0]?.summary).toContain("(also passed 50%: one message for all)");
    // Later, past 100% and 125% at once: one message for 125%, naming 100% only (50% and 80% were sent).
    await spend(9_000n);
    expect((await run()).published.map((p) => [p.key, p.alsoPassed])).toEqual([
      ["budget:nlp-monthly:2026-11-01:125", [100]],
    ]);
  });

  it("a threshold added below one already alerted on is claimed without a message", async () => {
    const warehouse = createMemoryWarehouse();
    const bus = createMemoryBus({ logger: silentLogger });
    const claims = createMemoryAlertClaims();
    const evaluatorWith = (thresholds: number[]) =>
      createEvaluateBudgets({
        warehouse,
        bus,
        claims,
        budgets: parseBudgets([
          {
            name: "nlp-monthly",
            scope: { team: "nlp-team" },
            period: "monthly",
            amount: "20000",
            thresholds,
          },
        ]),
        clock: fixedClock(NOW),
        forecastProfileHours: 0,
      });
    const at = new Date("2026-11-10T12:00:00Z");
    await warehouse.insertEvents([
      costRow({ event_id: "s", team: "nlp-team", event_time: at, cost_nanos: 17_000n * USD }),
    ]);
    await warehouse.refreshHourly(MONTH);
    expect((await evaluatorWith([50, 80]).evaluate()).published.map((p) => p.key)).toEqual([
      "budget:nlp-monthly:2026-11-01:80",
    ]);
    const later = await evaluatorWith([50, 60, 80]).evaluate();
    expect(later.published).toEqual([]);
    expect(await claims.claim("budget:nlp-monthly:2026-11-01:60")).toBe(false);
  });

  it("publishes budget.enforcement on its own topic once", async () => {
    const { enforcement, spend, run } = await setup({
      enforcement: { threshold: 100, topic: "nlp-training-queue" },
    });
    await spend(19_000n);
    expect((await run()).enforcement).toEqual([]);
    await spend(1_500n);
    expect((await run()).enforcement).toEqual([
      { id: "budget:nlp-monthly:2026-11-01:enforcement:100", topic: "nlp-training-queue" },
    ]);
    await run();
    expect(enforcement).toHaveLength(1);
    expect(enforcement[0]).toMatchObject({
      type: "budget.enforcement",
      data: { budget: "nlp-monthly", threshold: 100 },
    });
  });

  it("fails loudly, naming the lost alerts in the log, when the bus refuses after the claim", async () => {
    const failing: Bus = {
      publish: async () => {
        throw new Error("bus down");
      },
      subscribe: async () => ({ close: async () => {} }),
      close: async () => {},
    };
    const { spend, evaluator } = await setup({}, failing);
    await spend(10_000n);
    await expect(evaluator.evaluate()).rejects.toBeInstanceOf(EvaluateBudgetsError);
  });

  it.each([
    [false, "alerts on thresholds only"],
    [true, "alerts on its forecast too"],
  ])(
    "a threshold alert carries the forecast `budgets check` shows (a budget that %s: %s)",
    async (forecast) => {
      // Prepare: spend early in the month and in the profile's last hours, so the hour-of-week shape and a flat run rate differ.
      const { evaluator, spend, received, run } = await setup({ forecast });
      await spend(9_000n, new Date("2026-11-02T12:00:00Z"));
      await spend(1_500n, new Date("2026-11-20T08:00:00Z"));

      // Act
      await run();
      const [status] = await evaluator.budgetStatus("rollup");

      // Assess
      const threshold = received.find((a) => a.kind === "budget.threshold");
      expect(threshold?.amounts?.forecast_nanos).toBe(status?.evaluation.forecast.nanos);
      expect(status?.evaluation.forecast.method).not.toBe("run-rate");
    },
  );

  it("reports the status at the instant it is given (FINOPS_NOW), not the clock's", async () => {
    const { evaluator, spend } = await setup();
    await spend(16_000n);

    const [december] = await evaluator.budgetStatus("rollup", new Date("2026-12-05T00:00:00Z"));

    expect(december?.evaluation.period.label).toBe("2026-12-01");
    expect(december?.evaluation.spend_nanos).toBe(0n);
  });

  it("reports status with spend, percent, forecast and all spend as estimate", async () => {
    const { evaluator, spend, received } = await setup();
    await spend(16_000n);
    const [status] = await evaluator.budgetStatus("rollup");
    expect(status?.evaluation.spend_nanos).toBe(16_000n * USD);
    expect(status?.evaluation.percent).toBe(80);
    expect(status?.evaluation.forecast.nanos).toBeGreaterThan(16_000n * USD);
    expect([status?.reconciled_nanos, status?.estimate_nanos, status?.basis_known]).toEqual([
      0n,
      16_000n * USD,
      false,
    ]);
    expect(received).toEqual([]);
    const table = formatBudgetStatus(status ? [status] : [], "table");
    expect(table).toContain("$16,000.00");
    expect(table).toContain("80.00%");
    expect(table).toContain("all spend is shown as estimate");
    expect(JSON.parse(formatBudgetStatus(status ? [status] : [], "json")).budgets[0]).toMatchObject({
      name: "nlp-monthly",
      spend_nanos: "16000000000000",
      estimate_nanos: "16000000000000",
      reconciled_nanos: "0",
    });
  });
});
