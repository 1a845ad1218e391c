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
    expect(received).toHaveLength(2);
  });

  it("a late event after 100% passed, or one that lifts spend over a passed threshold again, sends nothing", async () => {
    const { warehouse, received, spend, run } = await setup();
    await spend(20_050n);
    await run();
    expect(received.map((a) => a.idempotency_key)).toEqual([
      "budget:nlp-monthly:2026-11-01:50",
      "budget:nlp-monthly:2026-11-01:80",
      "budget:nlp-monthly:2026-11-01:100",
    ]);
    await spend(100n, new Date("2026-11-02T01:00:00Z")); // a late event in an old hour
    expect((await run()).published).toEqual([]);
    // A credit drops spend under 100%, then a late event lifts it past again: still no second alert.
    await spend(-500n, new Date("2026-11-03T01:00:00Z"));
    await run();
    await spend(450n, new Date("2026-11-04T01:00:00Z"));
    expect((await run()).published).toEqual([]);
    expect(received).toHaveLength(3);
    await warehouse.close();
  });

  it("emits every threshold crossed within one hour, lowest first", async () => {
    const { received, spend, run } = await setup();
    await spend(17_000n);
    await run();
    expect(received.map((a) => a.idempotency_key)).toEqual([
      "budget:nlp-monthly:2026-11-01:50",
      "budget:nlp-monthly:2026-11-01:80",
    ]);
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

  it("reports status with spend, percent, forecast and all spend as estimate", async () => {
    const { evaluator, spend, received } = await setup();
    await spend(16_000n);
    const [status] = await evaluator.budgetStatus();
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
