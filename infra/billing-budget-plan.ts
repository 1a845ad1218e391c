import type { Budget } from "#domain/budgets/budget-config.ts";
import { DIMENSIONS, type Dimension } from "#domain/cost-row.ts";
import { NANOS_PER_UNIT } from "#domain/money.ts";

/**
 * Which configured budgets become Cloud Billing budgets, and how. A Cloud Billing budget counts the
 * Google Cloud bill: it can filter on one resource label, on projects and on services, by month or
 * quarter (in Pacific time). A budget maps when its scope says that: each attribution dimension but
 * namespace and cloud is read as a resource label of the same key (team=nlp-team), `cloud` may only be
 * gcp, and a budget without a label counts the projects of finops:budgetProjects. Everything else is
 * skipped with the reason, since a Cloud Billing budget over some other spend would alert on a number
 * that is not the budget's.
 */
export interface BillingBudgetPlan {
  budget: Budget;
  displayName: string;
  calendarPeriod: "MONTH" | "QUARTER";
  labels?: Readonly<Record<string, string>>;
  amount: { currencyCode: string; units: string; nanos: number };
  thresholdRules: readonly { thresholdPercent: number; spendBasis: "CURRENT_SPEND" | "FORECASTED_SPEND" }[];
}

export interface SkippedBudget {
  name: string;
  reason: string;
}

const CALENDAR_PERIOD: Partial<Record<Budget["period"], BillingBudgetPlan["calendarPeriod"]>> = {
  monthly: "MONTH",
  quarterly: "QUARTER",
};
const LABEL_DIMENSIONS = DIMENSIONS.filter((d) => d !== "namespace" && d !== "cloud");
/** Google Cloud label values: lower-case letters, digits, underscores and dashes, at most 63. */
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{1,63}$/u;
const DISPLAY_NAME_MAX = 60;

function skipReason(budget: Budget, labelDimensions: readonly Dimension[], hasProjects: boolean) {
  const { scope } = budget;
  if (CALENDAR_PERIOD[budget.period] === undefined) {
    return `period ${budget.period}: Cloud Billing budgets run by month or quarter`;
  }
  if (scope.cloud !== undefined && scope.cloud !== "gcp") {
    return `scope.cloud is ${scope.cloud}: Cloud Billing counts Google Cloud spend only`;
  }
  if (scope.namespace !== undefined) {
    return "scope.namespace: Cloud Billing budgets filter on resource labels, not Kubernetes namespaces";
  }
  if (labelDimensions.length > 1) {
    return `scope names ${labelDimensions.join(" and ")}: a Cloud Billing budget filters on one label`;
  }
  const [dimension] = labelDimensions;
  const value = dimension === undefined ? undefined : scope[dimension];
  if (dimension !== undefined && value !== undefined && !LABEL_VALUE.test(value)) {
    return `scope.${dimension} ${JSON.stringify(value)} is not a Google Cloud label value (lower case, digits, _ and -)`;
  }
  if (dimension === undefined && !hasProjects) {
    return "scope names no label and finops:budgetProjects is empty: it would count the whole billing account";
  }
  if (budget.name.length > DISPLAY_NAME_MAX) {
    return `name is longer than the ${DISPLAY_NAME_MAX} characters of a Cloud Billing budget's display name`;
  }
  return undefined;
}

/**
 * Current-spend rules at each of the budget's thresholds; with `forecast`, forecast rules at each
 * threshold of 100% or more, as the budget evaluator forecasts (shared/domain/budgets/README.md).
 */
function thresholdRules(budget: Budget): BillingBudgetPlan["thresholdRules"] {
  return [
    ...budget.thresholds.map((t) => ({ thresholdPercent: t / 100, spendBasis: "CURRENT_SPEND" as const })),
    ...(budget.forecast ? budget.thresholds.filter((t) => t >= 100) : []).map((t) => ({
      thresholdPercent: t / 100,
      spendBasis: "FORECASTED_SPEND" as const,
    })),
  ];
}

export function planBillingBudgets(
  budgets: readonly Budget[],
  options: { hasProjects: boolean },
): { planned: BillingBudgetPlan[]; skipped: SkippedBudget[] } {
  const planned: BillingBudgetPlan[] = [];
  const skipped: SkippedBudget[] = [];
  for (const budget of budgets) {
    const labelDimensions = LABEL_DIMENSIONS.filter((d) => budget.scope[d] !== undefined);
    const reason = skipReason(budget, labelDimensions, options.hasProjects);
    if (reason !== undefined) {
      skipped.push({ name: budget.name, reason });
      continue;
    }
    const [dimension] = labelDimensions;
    planned.push({
      budget,
      // The display name is how routeGcpBudget finds the budget's team and per-budget channel.
      displayName: budget.name,
      calendarPeriod: CALENDAR_PERIOD[budget.period] as BillingBudgetPlan["calendarPeriod"],
      ...(dimension === undefined ? {} : { labels: { [dimension]: budget.scope[dimension] as string } }),
      amount: {
        currencyCode: budget.currency,
        units: (budget.amount_nanos / NANOS_PER_UNIT).toString(),
        nanos: Number(budget.amount_nanos % NANOS_PER_UNIT),
      },
      thresholdRules: thresholdRules(budget),
    });
  }
  return { planned, skipped };
}
