import { describe, expect, it } from "vitest";
import { type JudgedRow, type LearnedFactor, splitBudgetSpend } from "#domain/budgets/budget-basis.ts";
import { type Budget, parseBudgets } from "#domain/budgets/budget-config.ts";
import { basisText, evaluateBudget } from "#domain/budgets/evaluate-budget.ts";
import type { FamilyEstimate } from "#domain/reconciliation/bill-grain.ts";

const USD = 1_000_000_000n;
const KEYS = ["cloud", "namespace", "team"] as const;
// The period read so far: 1 to 3 December, the 3rd up to 10:00 (the current hour's end).
const HOURS = { from: new Date("2026-12-01T00:00:00Z"), to: new Date("2026-12-03T10:00:00Z") };

function budget(scope: Record<string, string>, amount = "1000"): Budget {
  const [parsed] = parseBudgets([{ name: "b", scope, period: "monthly", amount, owner: "nlp" }]);
  if (!parsed) throw new Error("no budget");
  return parsed;
}

const row = (day: string, key: JudgedRow["key"], billed: bigint, estimated = 0n): JudgedRow => ({
  day,
  keys: [...KEYS],
  key,
  currency: "USD",
  estimated,
  billed,
});

const factor = (learnedForDay: string, family: string, num: bigint, den: bigint): LearnedFactor => ({
  learnedForDay,
  cloud: "gcp",
  family,
  factor: { num, den },
});

const mix = (
  day: string,
  team: string,
  family: string | null,
  nanos: bigint,
): FamilyEstimate & { currency: string } => ({
  day,
  cloud: "gcp",
  namespace: team,
  team,
  family,
  currency: "USD",
  nanos,
});

/** The team's spend: $100 a day on gcp, $10 a day without a cloud (its share of a licence), $5 on aws. */
const SPEND = ["2026-12-01", "2026-12-02", "2026-12-03"].flatMap((day) => [
  { day, cloud: "gcp", nanos: 100n * USD },
  { day, cloud: null, nanos: 10n * USD },
  { day, cloud: "aws", nanos: 5n * USD },
]);

describe("a budget's spend, split into reconciled and estimate", () => {
  it("is all estimate, the rollup's to the nano, when nothing is reconciled and no factor is learned", () => {
    const basis = splitBudgetSpend({
      budget: budget({ team: "nlp" }),
      hours: HOURS,
      spend: SPEND,
      judged: [],
      factors: [],
      estimates: [],
    });
    expect([basis.reconciled_nanos, basis.estimate_nanos, basis.rollup_nanos]).toEqual([
      0n,
      345n * USD,
      345n * USD,
    ]);
    expect([basis.reconciled_days, basis.calibrated]).toEqual([[], false]);
  });

  it("replaces what reconciliation compared of a team by its bill on judged days; the rest stays an estimate", () => {
    const judged = [
      // 1 December: gcp billed, aws not; 2 December too. Other teams' and untagged lines do not count.
      row("2026-12-01", { cloud: "gcp", namespace: "nlp", team: "nlp" }, 104n * USD, 100n * USD),
      row("2026-12-01", { cloud: "gcp", namespace: "search", team: "search" }, 50n * USD, 48n * USD),
      row("2026-12-01", { cloud: "gcp", namespace: null, team: null }, 3n * USD),
      row("2026-12-02", { cloud: "gcp", namespace: "nlp", team: "nlp" }, 98n * USD, 100n * USD),
      // The current day is judged too (a bill of its hours so far), but it is not whole: estimate.
      row("2026-12-03", { cloud: "gcp", namespace: "nlp", team: "nlp" }, 40n * USD),
    ];
    const basis = splitBudgetSpend({
      budget: budget({ team: "nlp" }),
      hours: HOURS,
      spend: SPEND,
      judged,
      factors: [],
      estimates: [],
    });
    expect(basis.days.map((d) => [d.day, d.reconciled, d.reconciled_nanos, d.estimate_nanos])).toEqual([
      ["2026-12-01", true, 104n * USD, 15n * USD],
      ["2026-12-02", true, 98n * USD, 15n * USD],
      ["2026-12-03", false, 0n, 115n * USD],
    ]);
    expect([basis.reconciled_nanos, basis.estimate_nanos, basis.rollup_nanos]).toEqual([
      202n * USD,
      145n * USD,
      345n * USD,
    ]);
    expect([basis.reconciled_days, basis.billed_scope, basis.calibrated]).toEqual([
      ["2026-12-01", "2026-12-02"],
      true,
      false,
    ]);
  });

  it("gives an all-spend budget the whole bill, untagged lines included", () => {
    const basis = splitBudgetSpend({
      budget: budget({}),
      hours: { from: HOURS.from, to: new Date("2026-12-02T00:00:00Z") },
      spend: SPEND.filter((s) => s.day === "2026-12-01"),
      judged: [
        row("2026-12-01", { cloud: "gcp", namespace: "nlp", team: "nlp" }, 104n * USD, 100n * USD),
        row("2026-12-01", { cloud: "gcp", namespace: null, team: null }, 3n * USD),
      ],
      factors: [],
      estimates: [],
    });
    expect([basis.reconciled_nanos, basis.estimate_nanos]).toEqual([107n * USD, 15n * USD]);
  });

  it("calibrates estimates by the factors of the day, weighed by the scope's family mix", () => {
    // Factors learned for 2 December (from the days before it): A100 ×1.1, L4 ×1.0. The team ran
    // three parts A100 to one part L4: its gcp estimate scales by (3 × 1.1 + 1) / 4 = 1.075.
    const factors = [factor("2026-12-02", "a100", 11n, 10n), factor("2026-12-02", "l4", 1n, 1n)];
    const estimates = ["2026-12-01", "2026-12-02", "2026-12-03"].flatMap((day) => [
      mix(day, "nlp", "a100", 75n * USD),
      mix(day, "nlp", "l4", 25n * USD),
      mix(day, "search", "l4", 500n * USD),
    ]);
    const basis = splitBudgetSpend({
      budget: budget({ team: "nlp" }),
      hours: HOURS,
      spend: SPEND,
      judged: [],
      factors,
      estimates,
    });
    // 1 December has no factor learned for it or before it: as estimated.
    expect(basis.days.map((d) => [d.day, d.estimate_nanos])).toEqual([
      ["2026-12-01", 115n * USD],
      ["2026-12-02", 107_500_000_000n + 15n * USD],
      ["2026-12-03", 107_500_000_000n + 15n * USD],
    ]);
    expect(basis.calibrated).toBe(true);
  });

  it("reconciles a model budget, which no bill line names, as its calibrated estimate", () => {
    const factors = [factor("2026-12-01", "a100", 6n, 5n)];
    const basis = splitBudgetSpend({
      budget: budget({ model: "chat" }),
      hours: { from: HOURS.from, to: new Date("2026-12-02T00:00:00Z") },
      spend: [
        { day: "2026-12-01", cloud: "gcp", nanos: 50n * USD },
        { day: "2026-12-01", cloud: null, nanos: 1n * USD },
      ],
      judged: [row("2026-12-01", { cloud: "gcp", namespace: "nlp", team: "nlp" }, 999n * USD)],
      factors,
      estimates: [mix("2026-12-01", "nlp", "a100", 10n * USD)],
    });
    expect([basis.reconciled_nanos, basis.estimate_nanos, basis.billed_scope]).toEqual([
      60n * USD,
      1n * USD,
      false,
    ]);
  });

  it("is said in the budget alert: what is reconciled, to which day, and what is still an estimate", () => {
    const basis = splitBudgetSpend({
      budget: budget({ team: "nlp" }),
      hours: HOURS,
      spend: SPEND,
      judged: [row("2026-12-01", { cloud: "gcp", namespace: "nlp", team: "nlp" }, 104n * USD, 100n * USD)],
      factors: [],
      estimates: [],
    });
    const spend = basis.reconciled_nanos + basis.estimate_nanos;
    const e = evaluateBudget(budget({ team: "nlp" }, "500"), spend, HOURS.to, [], basis);
    expect(basisText(e)).toBe(
      " Of it, $104.00 is reconciled against the bill (1 day, to 2026-12-01) and $245.00 is still an estimate.",
    );
    expect(e.alerts.map((a) => a.summary)).toEqual([
      expect.stringContaining(
        "spend is $349.00 of $500.00 (69.8%) in the monthly period from 2026-12-01 (UTC), past the 50% " +
          "threshold. Of it, $104.00 is reconciled against the bill (1 day, to 2026-12-01) and $245.00 is " +
          "still an estimate. Scope: team=nlp.",
      ),
    ]);
  });
});
