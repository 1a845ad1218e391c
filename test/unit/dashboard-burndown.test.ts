import { describe, expect, it } from "vitest";
import { splitBudgetSpend } from "#domain/budgets/budget-basis.ts";
import { parseBudgets } from "#domain/budgets/budget-config.ts";
import { evaluateBudget } from "#domain/budgets/evaluate-budget.ts";
import {
  budgetsForSelection,
  burnDown,
  burnDownQuery,
  concernsSelection,
} from "#domain/dashboard/budget-burndown.ts";
import type { GroupedCost } from "#domain/dashboard/spend-series.ts";

const USD = 1_000_000_000n;
const NOW = new Date("2026-11-03T10:30:00Z");
const [nlp, research, all] = parseBudgets([
  { name: "nlp-monthly", scope: { team: "nlp" }, period: "monthly", amount: "1000" },
  {
    name: "research-monthly",
    scope: { business_unit: "research" },
    owner: "nlp",
    period: "monthly",
    amount: "100",
  },
  { name: "org-monthly", scope: {}, owner: "finance", period: "monthly", amount: "10000" },
]) as [
  ReturnType<typeof parseBudgets>[number],
  ReturnType<typeof parseBudgets>[number],
  ReturnType<typeof parseBudgets>[number],
];

const spend = (day: string, team: string, dollars: bigint, currency = "USD"): GroupedCost => ({
  group: { day, team },
  currency,
  cost_nanos: dollars * USD,
});

describe("which budgets concern a selection", () => {
  it("keeps a budget whose scope contradicts no filter", () => {
    expect(concernsSelection(nlp, {})).toBe(true);
    expect(concernsSelection(nlp, { team: "nlp", model: "llm" })).toBe(true);
    expect(concernsSelection(nlp, { team: "vision" })).toBe(false);
    expect(concernsSelection(all, { team: "vision" })).toBe(true);
  });

  it("puts first the budget that names the filtered values, then the most used", () => {
    const evaluations = [
      evaluateBudget(all, 9000n * USD, NOW),
      evaluateBudget(nlp, 100n * USD, NOW),
      evaluateBudget(research, 50n * USD, NOW),
    ];
    const names = (filters: Parameters<typeof budgetsForSelection>[1]) =>
      budgetsForSelection(evaluations, filters).map((e) => e.budget.name);
    expect(names({})).toEqual(["org-monthly", "research-monthly", "nlp-monthly"]);
    expect(names({ team: "nlp" })).toEqual(["nlp-monthly", "org-monthly", "research-monthly"]);
    expect(names({ team: "vision", business_unit: "research" })).toEqual(["research-monthly", "org-monthly"]);
  });
});

describe("burnDown", () => {
  it("reads the period so far by day and the scope's dimensions", () => {
    const query = burnDownQuery(evaluateBudget(nlp, 0n, NOW), NOW);
    expect(query).toEqual({
      by: ["day", "team"],
      from: new Date("2026-11-01T00:00:00Z"),
      to: new Date("2026-11-03T11:00:00Z"),
    });
  });

  it("accumulates the scope's spend in its currency day by day up to today, and ends on the evaluation's spend", () => {
    // Prepare
    const rows = [
      spend("2026-11-01", "nlp", 10n),
      spend("2026-11-01", "vision", 99n),
      spend("2026-11-02", "nlp", 5n, "EUR"),
      spend("2026-11-03", "nlp", 7n),
    ];
    const evaluation = evaluateBudget(nlp, 17n * USD, NOW);

    // Act
    const chart = burnDown(evaluation, rows, NOW);

    // Assess
    expect(chart.days).toHaveLength(30);
    expect(chart.today).toBe("2026-11-03");
    expect(chart.cumulative.slice(0, 4)).toEqual([10n * USD, 10n * USD, 17n * USD, null]);
    expect(chart.cumulative[2]).toBe(evaluation.spend_nanos);
    expect(chart.cumulative.filter((n) => n === null)).toHaveLength(27);
    expect(chart.thresholds).toEqual([
      { percent: 50, nanos: 500n * USD },
      { percent: 80, nanos: 800n * USD },
      { percent: 100, nanos: 1000n * USD },
      { percent: 125, nanos: 1250n * USD },
    ]);
  });
});

describe("burnDown with the spend's basis", () => {
  it("climbs by reconciled + estimate day by day, with the reconciled part beside it", () => {
    const basis = splitBudgetSpend({
      budget: nlp,
      hours: { from: new Date("2026-11-01T00:00:00Z"), to: new Date("2026-11-03T11:00:00Z") },
      spend: [
        { day: "2026-11-01", cloud: "gcp", nanos: 100n * USD },
        { day: "2026-11-02", cloud: "gcp", nanos: 100n * USD },
        { day: "2026-11-03", cloud: "gcp", nanos: 40n * USD },
      ],
      judged: [
        {
          day: "2026-11-01",
          keys: ["cloud", "namespace", "team"],
          key: { cloud: "gcp", namespace: "nlp", team: "nlp" },
          currency: "USD",
          estimated: 100n * USD,
          billed: 110n * USD,
        },
      ],
      factors: [],
      estimates: [],
    });
    const evaluation = evaluateBudget(nlp, basis.reconciled_nanos + basis.estimate_nanos, NOW, [], basis);
    const chart = burnDown(evaluation, [], NOW, { model: "llm" });
    expect(chart.cumulative.slice(0, 4)).toEqual([110n * USD, 210n * USD, 250n * USD, null]);
    expect(chart.cumulativeReconciled?.slice(0, 4)).toEqual([110n * USD, 110n * USD, 110n * USD, null]);
    // A model filter cannot narrow a team budget: the selection's part is drawn beside it.
    expect(burnDownQuery(evaluation, NOW, { model: "llm" }).by).toEqual(["day", "team", "model"]);
    expect(chart.cumulativeSelection?.slice(0, 3)).toEqual([0n, 0n, 0n]);
  });
});
