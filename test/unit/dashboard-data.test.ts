import { beforeEach, describe, expect, it } from "vitest";
import { createMemoryAlertClaims } from "#adapters/memory-alert-claims/memory-alert-claims.ts";
import { createMemoryAlertLog, type MemoryAlertLog } from "#adapters/memory-alert-log/memory-alert-log.ts";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import { ReportQueryError } from "#app/cost-report.ts";
import { createDashboardData, type DashboardDeps } from "#app/dashboard-data.ts";
import { createEvaluateBudgets } from "#app/evaluate-budgets.ts";
import type { AlertKind } from "#domain/alerts/alert.ts";
import { parseBudgets } from "#domain/budgets/budget-config.ts";
import type { AlertDelivery } from "#ports/alert-log.ts";
import { type Clock, fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import { costRow } from "../support/cost-row-builder.ts";
import { createMemoryWarehouse, type MemoryWarehouse } from "../support/memory-warehouse.ts";

const USD = 1_000_000_000n;
const NOW = new Date("2026-11-20T10:30:00Z");
const MONTH = { from: new Date("2026-11-01T00:00:00Z"), to: new Date("2026-12-01T00:00:00Z") };
const BUDGETS = parseBudgets([
  { name: "nlp-monthly", scope: { team: "nlp" }, period: "monthly", amount: "100" },
  { name: "vision-monthly", scope: { team: "vision" }, period: "monthly", amount: "1000" },
]);

let warehouse: MemoryWarehouse;
let alertLog: MemoryAlertLog;
let n = 0;

async function spend(team: string, model: string, dollars: bigint, at: string, business_unit = "research") {
  n += 1;
  await warehouse.insertEvents([
    costRow({
      event_id: `d-${n}`,
      team,
      model,
      business_unit,
      event_time: new Date(at),
      cost_nanos: dollars * USD,
    }),
  ]);
}

function dashboard(overrides: Partial<DashboardDeps> = {}, clock: Clock = fixedClock(NOW)) {
  const evaluator = createEvaluateBudgets({
    warehouse,
    bus: createMemoryBus({ logger: silentLogger }),
    claims: createMemoryAlertClaims(),
    budgets: BUDGETS,
    clock,
    forecastProfileHours: 0,
  });
  return createDashboardData({
    warehouse,
    budgets: BUDGETS,
    budgetStatus: () => evaluator.budgetStatus("rollup"),
    alertLog,
    clock,
    ...overrides,
  });
}

/** A delivery in the log; without `logged`, as the log kept it before it kept titles and scopes. */
async function delivered(
  key: string,
  kind: AlertKind,
  minutesAgo: number,
  logged: Pick<AlertDelivery, "title" | "scope"> = { scope: {} },
) {
  await alertLog.record({
    idempotency_key: key,
    kind,
    severity: "warning",
    ...logged,
    channel: "#team-nlp-alerts",
    ts: `1.${String(100 - minutesAgo).padStart(6, "0")}`,
    action: "posted",
    delivered_at: new Date(NOW.getTime() - minutesAgo * 60_000),
  });
}

beforeEach(async () => {
  warehouse = createMemoryWarehouse();
  alertLog = createMemoryAlertLog();
  await spend("nlp", "llm", 30n, "2026-11-18T09:10:00Z");
  await spend("nlp", "embedder", 5n, "2026-11-19T09:10:00Z");
  await spend("nlp", "llm", 20n, "2026-11-19T11:10:00Z");
  await spend("vision", "tagger", 7n, "2026-11-19T12:10:00Z", "consumer");
  await spend("vision", "tagger", 1n, "2026-10-10T12:10:00Z", "consumer");
  await warehouse.refreshHourly({ from: new Date("2026-10-01T00:00:00Z"), to: MONTH.to });
  await delivered("budget:nlp-monthly:2026-11-01:50", "budget.threshold", 30);
  await delivered("budget:vision-monthly:2026-11-01:50", "budget.threshold", 20, {
    title: "Budget vision-monthly reached 50%",
    scope: { team: "vision" },
  });
  await delivered("recon:2026-11-19:gcp:nlp", "reconciliation.drift", 15);
  await delivered("aws-anomaly:a1:warning:5", "aws.anomaly", 10, {
    title: "AWS cost anomaly in Amazon SageMaker",
    scope: { team: "vision", business_unit: "consumer" },
  });
  await delivered("spend.anomaly:model=llm:USD:2026-11-20T09:00:00.000Z", "spend.anomaly", 5, {
    title: "Spend anomaly: model llm",
    scope: { team: "nlp", model: "llm", business_unit: "research" },
  });
});

describe("the dashboard's data", () => {
  it("charts the range's daily spend by team and model, exactly, with the top models and the filter values", async () => {
    // Act
    const data = await dashboard().overview({ from: "2026-11-18", to: "2026-11-20" });

    // Assess
    expect(data.range).toEqual({ from: "2026-11-18T00:00:00.000Z", to: "2026-11-20T00:00:00.000Z" });
    expect(data.days).toEqual(["2026-11-18", "2026-11-19"]);
    expect(data.total).toBe("62");
    expect(data.spend_by_team).toEqual([
      { name: "nlp", total: "55", daily: ["30", "25"] },
      { name: "vision", total: "7", daily: ["0", "7"] },
    ]);
    expect(data.spend_by_model.map((s) => [s.name, s.daily])).toEqual([
      ["llm", ["30", "20"]],
      ["tagger", ["0", "7"]],
      ["embedder", ["0", "5"]],
    ]);
    expect(data.top_models).toEqual([
      { model: "llm", cost: "50", share_percent: 80.65 },
      { model: "tagger", cost: "7", share_percent: 11.29 },
      { model: "embedder", cost: "5", share_percent: 8.06 },
    ]);
    expect(data.options).toEqual({
      team: ["nlp", "vision"],
      model: ["embedder", "llm", "tagger"],
      business_unit: ["consumer", "research"],
    });
    expect(data.currency).toBe("USD");
    expect(data.other_currencies).toEqual([]);
  });

  it("narrows every part to the filters, and keeps the filter values of the whole range", async () => {
    // Act
    const load = dashboard();
    const data = await load.overview({ team: "vision", from: "2026-11-18", to: "2026-11-21" });
    const budget = await load.budget({ team: "vision" });

    // Assess
    expect(data.filters).toEqual({ team: "vision" });
    expect(data.total).toBe("7");
    expect(data.spend_by_team.map((s) => s.name)).toEqual(["vision"]);
    expect(data.top_models.map((m) => m.model)).toEqual(["tagger"]);
    expect(budget.list.map((b) => [b.name, b.selection?.narrowed])).toEqual([["vision-monthly", true]]);
    expect(data.alerts.items.map((a) => [a.about, a.not_narrowed])).toEqual([
      ["AWS cost anomaly in Amazon SageMaker, for team vision and business unit consumer.", null],
      ["Drift against the bill.", "organization-wide alert: not narrowed by team"],
      ["Budget vision-monthly reached 50%, for team vision.", null],
    ]);
    expect(data.options.team).toEqual(["nlp", "vision"]);
  });

  it("burns down the most used budget of the selection, or the one asked for, with thresholds and forecast", async () => {
    // Act
    const load = dashboard();
    const first = await load.budget({});
    const asked = await load.budget({ budget: "vision-monthly" });

    // Assess
    const burn = first.burn_down;
    expect(first.list.map((b) => [b.name, b.percent])).toEqual([
      ["nlp-monthly", 55],
      ["vision-monthly", 0.7],
    ]);
    expect(burn).toMatchObject({ name: "nlp-monthly", spend: "55", amount: "100", today: "2026-11-20" });
    expect(burn?.cumulative.slice(16, 21)).toEqual(["0", "30", "55", "55", null]);
    expect(burn?.thresholds.map((t) => t.amount)).toEqual(["50", "80", "100", "125"]);
    expect(burn?.forecast.method).toBe("run-rate");
    expect(Number(burn?.forecast.amount)).toBeGreaterThan(55);
    expect(asked.burn_down?.name).toBe("vision-monthly");
    expect(first.as_of).toBe(NOW.toISOString());
  });

  it("lists recent alerts newest first as sentences: the title, or the kind, with the scope in words", async () => {
    const data = await dashboard().overview({});
    expect(data.alerts).toEqual({
      items: [
        expect.objectContaining({
          kind: "spend.anomaly",
          about: "Spend anomaly: model llm, for team nlp and business unit research.",
          budget: null,
          not_narrowed: null,
        }),
        expect.objectContaining({
          kind: "aws.anomaly",
          about: "AWS cost anomaly in Amazon SageMaker, for team vision and business unit consumer.",
          budget: null,
        }),
        // Logged before the log kept titles: named by its kind, or a budget alert by its budget.
        expect.objectContaining({ about: "Drift against the bill.", budget: null }),
        expect.objectContaining({
          about: "Budget vision-monthly reached 50%, for team vision.",
          budget: "vision-monthly",
        }),
        expect.objectContaining({
          about: "Budget nlp-monthly reached 50%, for team nlp.",
          delivered_at: new Date(NOW.getTime() - 30 * 60_000).toISOString(),
          severity: "warning",
          channel: "#team-nlp-alerts",
          action: "posted",
        }),
      ],
    });
    for (const item of data.alerts.items) expect(item.about).not.toMatch(/[a-z_]+=|:USD:|^budget:/);
  });

  it("writes a scope an old alert kept only in its key in words, never the key", async () => {
    await delivered(
      "spend.anomaly:team=search,model=ranker:USD:2026-11-20T09:00:00.000Z",
      "spend.anomaly",
      1,
    );
    const [item] = (await dashboard().overview({})).alerts.items;
    expect(item?.about).toBe("Spend anomaly, for team search and model ranker.");
  });

  const SPEND_ANOMALY = "Spend anomaly: model llm, for team nlp and business unit research.";
  const AWS_ANOMALY = "AWS cost anomaly in Amazon SageMaker, for team vision and business unit consumer.";
  const DRIFT = "Drift against the bill.";
  const NLP_BUDGET = "Budget nlp-monthly reached 50%, for team nlp.";
  const VISION_BUDGET = "Budget vision-monthly reached 50%, for team vision.";
  it.each([
    [
      { team: "nlp" },
      [
        [SPEND_ANOMALY, null],
        [DRIFT, "organization-wide alert: not narrowed by team"],
        [NLP_BUDGET, null],
      ],
    ],
    [
      { model: "llm" },
      [
        [SPEND_ANOMALY, null],
        [DRIFT, "organization-wide alert: not narrowed by model"],
        [NLP_BUDGET, "team budget: not narrowed by model"],
      ],
    ],
    [
      { business_unit: "consumer" },
      [
        [AWS_ANOMALY, null],
        [DRIFT, "organization-wide alert: not narrowed by business unit"],
        // The filter cannot narrow a team budget, but all of the team's spend is the business unit's.
        [VISION_BUDGET, null],
      ],
    ],
    [
      { team: "vision", model: "tagger" },
      [
        [AWS_ANOMALY, null],
        [DRIFT, "organization-wide alert: not narrowed by team and model"],
        [VISION_BUDGET, null],
      ],
    ],
    [{ team: "nlp", business_unit: "consumer" }, []],
  ])(
    "lists for %j the alerts the filters apply to as they apply to the charts, saying what they cannot narrow",
    async (filters, expected) => {
      const data = await dashboard().overview(filters);
      expect(data.alerts.items.map((a) => [a.about, a.not_narrowed])).toEqual(expected);
    },
  );

  it.each([
    [
      { business_unit: "consumer" },
      [["vision-monthly", false, "team budget: not narrowed by business unit", "7", true]],
    ],
    [{ model: "llm" }, [["nlp-monthly", false, "team budget: not narrowed by model", "50", false]]],
    [
      { model: "tagger", team: "vision" },
      [["vision-monthly", false, "team budget: not narrowed by model", "7", true]],
    ],
    [{ team: "nlp" }, [["nlp-monthly", true, null, null, true]]],
    [{ team: "nlp", business_unit: "consumer" }, []],
  ])(
    "lists for %j only the budgets holding the selection's spend, each saying what the filters cannot narrow",
    async (filters, expected) => {
      const budget = await dashboard().budget(filters);
      expect(
        budget.list.map((b) => [
          b.name,
          b.selection?.narrowed,
          b.selection?.note,
          b.selection?.spend,
          b.selection?.whole,
        ]),
      ).toEqual(expected);
      expect(budget.burn_down?.name).toBe(budget.list[0]?.name);
    },
  );

  it("burns down a budget the filters cannot narrow with the selection's part beside it", async () => {
    const burn = (await dashboard().budget({ model: "llm" })).burn_down;
    expect(burn).toMatchObject({ name: "nlp-monthly", kind_text: "team budget", scope_text: "team nlp" });
    expect(burn?.cumulative.slice(16, 20)).toEqual(["0", "30", "55", "55"]);
    expect(burn?.cumulative_selection?.slice(16, 20)).toEqual(["0", "30", "50", "50"]);
    expect((await dashboard().budget({})).burn_down?.cumulative_selection).toBeNull();
  });

  it("lists an alert of a budget no longer configured by the scope it was logged with", async () => {
    await delivered("budget:retired-monthly:2026-11-01:80", "budget.threshold", 1, {
      title: "Budget retired-monthly reached 80%",
      scope: { team: "vision" },
    });
    const about = async (team: string) =>
      (await dashboard().overview({ team })).alerts.items.map((a) => a.about);
    expect(await about("vision")).toContain("Budget retired-monthly reached 80%, for team vision.");
    expect(await about("nlp")).not.toContain("Budget retired-monthly reached 80%, for team vision.");
  });

  it.each([
    [{ from: "2026-13-01" }, "from"],
    [{ from: "2026-11-20", to: "2026-11-19" }, "to"],
    [{ from: "2024-01-01", to: "2026-11-20" }, "from"],
    [{ team: "x".repeat(257) }, "team"],
    [{ model: ["a", "b"] }, "model"],
    [{ budget: "nope" }, "budget"],
  ])("refuses %j naming the field %s, in every part", async (query, field) => {
    const load = dashboard();
    for (const part of [load.overview, load.budget, load.reconciliation, load.scorecard]) {
      const error = await part(query).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReportQueryError);
      expect((error as ReportQueryError).field).toBe(field);
    }
  });

  it("says when the reconciliation and the scorecard are not available, have nothing, or fail", async () => {
    // Prepare
    const asked: unknown[] = [];
    const none = dashboard();
    const some = dashboard({
      panels: {
        reconciliation: async (query) => {
          asked.push(query);
          return null;
        },
        scorecard: async () => {
          throw new Error("scorecard store down");
        },
      },
    });
    const full = dashboard({
      panels: {
        reconciliation: async () => ({
          currency: "USD",
          estimated: 10n * USD,
          billed: 12n * USD,
          drift: 2n * USD,
          drift_percent: "16.67",
          days: [{ day: "2026-11-01", estimated: 10n * USD, billed: 12n * USD }],
          largest: [],
        }),
      },
    });
    const query = { team: "nlp", from: "2026-11-01", to: "2026-11-02" };

    // Act
    const answers = await Promise.all([
      none.reconciliation({}),
      none.scorecard({}),
      some.reconciliation(query),
      some.scorecard(query),
      full.reconciliation({}),
    ]);

    // Assess
    expect(answers).toEqual([
      { status: "unavailable", note: expect.stringMatching(/^No reconciliation yet/) },
      { status: "unavailable", note: expect.stringMatching(/^No scorecard yet/) },
      { status: "empty", note: expect.stringMatching(/^No reconciliation yet for this range/) },
      { status: "failed", note: expect.stringContaining("could not be read") },
      expect.objectContaining({
        status: "ok",
        billed: "12",
        drift: "2",
        days: [expect.objectContaining({ estimated: "10" })],
      }),
    ]);
    expect(asked).toEqual([
      {
        from: new Date("2026-11-01T00:00:00Z"),
        to: new Date("2026-11-02T00:00:00Z"),
        filters: { team: "nlp" },
      },
    ]);
  });

  it("shares one reading of the budgets between requests while it is fresh", async () => {
    // Prepare
    let now = NOW;
    let reads = 0;
    const clock = { now: () => now };
    const evaluator = createEvaluateBudgets({
      warehouse,
      bus: createMemoryBus({ logger: silentLogger }),
      claims: createMemoryAlertClaims(),
      budgets: BUDGETS,
      clock,
      forecastProfileHours: 0,
    });
    const load = dashboard(
      {
        budgetStatus: () => {
          reads += 1;
          return evaluator.budgetStatus("rollup");
        },
      },
      clock,
    );

    // Act
    await Promise.all([load.budget({}), load.budget({ team: "nlp" })]);
    now = new Date(NOW.getTime() + 30_000);
    const fresh = await load.budget({});
    now = new Date(NOW.getTime() + 60_000);
    const renewed = await load.budget({});

    // Assess
    expect(reads).toBe(2);
    expect(fresh.as_of).toBe(NOW.toISOString());
    expect(renewed.as_of).toBe(now.toISOString());
  });
});
