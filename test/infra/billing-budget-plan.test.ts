import { describe, expect, it } from "vitest";
import { planBillingBudgets } from "../../infra/billing-budget-plan.ts";
import { parseBudgets } from "../../shared/domain/budgets/budget-config.ts";

const plan = (budgets: unknown[], hasProjects = false) =>
  planBillingBudgets(parseBudgets(budgets), { hasProjects });
const monthly = (scope: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  name: "b",
  scope,
  period: "monthly",
  amount: "1000",
  owner: "o",
  ...extra,
});

describe("Cloud Billing budgets from the configured budgets", () => {
  it("maps a one-label scope to a label filter, with the budget's thresholds of current spend", () => {
    const { planned, skipped } = plan([monthly({ team: "nlp-team" })]);
    expect(skipped).toEqual([]);
    expect(planned[0]).toMatchObject({
      displayName: "b",
      calendarPeriod: "MONTH",
      labels: { team: "nlp-team" },
      amount: { currencyCode: "USD", units: "1000", nanos: 0 },
      thresholdRules: [0.5, 0.8, 1, 1.25].map((p) => ({ thresholdPercent: p, spendBasis: "CURRENT_SPEND" })),
    });
  });

  it("adds forecast rules at the thresholds of 100% and more when the budget forecasts", () => {
    const [budget] = plan([
      monthly({ model: "llama" }, { forecast: true, thresholds: [90, 100, 150] }),
    ]).planned;
    expect(budget?.thresholdRules.filter((r) => r.spendBasis === "FORECASTED_SPEND")).toEqual([
      { thresholdPercent: 1, spendBasis: "FORECASTED_SPEND" },
      { thresholdPercent: 1.5, spendBasis: "FORECASTED_SPEND" },
    ]);
  });

  it("keeps the amount exact in units and nanos, and the period by quarter", () => {
    const [budget] = plan([
      monthly(
        { cost_center: "cc-42", cloud: "gcp" },
        { amount: "1234.000000001", period: "quarterly", currency: "EUR" },
      ),
    ]).planned;
    expect(budget).toMatchObject({
      calendarPeriod: "QUARTER",
      labels: { cost_center: "cc-42" },
      amount: { currencyCode: "EUR", units: "1234", nanos: 1 },
    });
  });

  it("counts the configured projects for a budget that names no label, and skips it without them", () => {
    expect(plan([monthly({})], true).planned[0]?.labels).toBeUndefined();
    expect(plan([monthly({ cloud: "gcp" })]).skipped[0]?.reason).toMatch(/finops:budgetProjects is empty/);
  });

  it("skips, with the reason, what a Cloud Billing filter cannot express", () => {
    const reasons = plan(
      [
        monthly({ team: "a" }, { name: "daily", period: "daily" }),
        monthly({ cloud: "aws" }, { name: "aws" }),
        monthly({ namespace: "ns" }, { name: "ns" }),
        monthly({ team: "a", business_unit: "b" }, { name: "two" }),
        monthly({ team: "Team A" }, { name: "upper" }),
        monthly({ team: "a" }, { name: "x".repeat(61) }),
      ],
      true,
    ).skipped.map((s) => `${s.name.slice(0, 5)}: ${s.reason}`);
    expect(reasons).toEqual([
      "daily: period daily: Cloud Billing budgets run by month or quarter",
      "aws: scope.cloud is aws: Cloud Billing counts Google Cloud spend only",
      "ns: scope.namespace: Cloud Billing budgets filter on resource labels, not Kubernetes namespaces",
      "two: scope names team and business_unit: a Cloud Billing budget filters on one label",
      'upper: scope.team "Team A" is not a Google Cloud label value (lower case, digits, _ and -)',
      "xxxxx: name is longer than the 60 characters of a Cloud Billing budget's display name",
    ]);
  });
});
