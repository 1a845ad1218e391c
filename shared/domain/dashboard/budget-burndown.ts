import { type Budget, scopeDimensions } from "../budgets/budget-config.ts";
import { HOUR_MS } from "../budgets/budget-period.ts";
import { spendIn } from "../budgets/budget-spend.ts";
import type { BudgetEvaluation } from "../budgets/evaluate-budget.ts";
import { divRound, type Nanos } from "../money.ts";
import {
  DASHBOARD_DIMENSIONS,
  type DashboardFilters,
  type GroupedCost,
  groupValue,
  utcDays,
} from "./spend-series.ts";

/** A budget concerns the selection when its scope contradicts none of the filters. */
export function concernsSelection(budget: Budget, filters: DashboardFilters): boolean {
  return DASHBOARD_DIMENSIONS.every(
    (d) => filters[d] === undefined || budget.scope[d] === undefined || budget.scope[d] === filters[d],
  );
}

/**
 * The budgets that concern the selection, the one to show first at the head: those whose scope
 * names more of the filtered values, then the most used, then by name.
 */
export function budgetsForSelection(
  evaluations: readonly BudgetEvaluation[],
  filters: DashboardFilters,
): BudgetEvaluation[] {
  const named = (e: BudgetEvaluation) =>
    DASHBOARD_DIMENSIONS.filter((d) => filters[d] !== undefined && e.budget.scope[d] === filters[d]).length;
  return evaluations
    .filter((e) => concernsSelection(e.budget, filters))
    .sort(
      (a, b) => named(b) - named(a) || b.percent - a.percent || a.budget.name.localeCompare(b.budget.name),
    );
}

export interface BurnDown {
  /** Every UTC day the budget's current period touches. */
  days: string[];
  /** Spend since the period began, at the end of each day up to today; null for the days ahead. */
  cumulative: (Nanos | null)[];
  /** Each threshold as an amount: a horizontal line. */
  thresholds: { percent: number; nanos: Nanos }[];
  /** The day the spend is at now (the last with a cumulative value). */
  today: string;
}

/** What a burn-down must read: the budget's period so far, by day and the dimensions of its scope. */
export function burnDownQuery(evaluation: BudgetEvaluation, now: Date) {
  const { period, budget } = evaluation;
  const currentHourEnd = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS + HOUR_MS;
  return {
    by: ["day" as const, ...scopeDimensions(budget.scope)],
    from: period.hoursFrom,
    to: new Date(Math.min(currentHourEnd, period.hoursTo.getTime())),
  };
}

/**
 * The period's spend day by day, from rows read with burnDownQuery: each day's spend counted as the
 * budget counts it (its scope, its currency), so the last value is the evaluation's spend.
 */
export function burnDown(evaluation: BudgetEvaluation, rows: readonly GroupedCost[], now: Date): BurnDown {
  const { budget, period } = evaluation;
  const days = utcDays(period.hoursFrom, period.hoursTo);
  const today = new Date(burnDownQuery(evaluation, now).to.getTime() - 1).toISOString().slice(0, 10);
  const byDay = new Map<string, GroupedCost[]>();
  for (const row of rows) {
    const day = groupValue(row, "day");
    const list = byDay.get(day);
    if (list) list.push(row);
    else byDay.set(day, [row]);
  }
  let running = 0n;
  const cumulative = days.map((day) => {
    if (day > today) return null;
    running += spendIn(budget, byDay.get(day) ?? []);
    return running;
  });
  return {
    days,
    cumulative,
    thresholds: budget.thresholds.map((percent) => ({
      percent,
      nanos: divRound(budget.amount_nanos * BigInt(percent), 100n),
    })),
    today,
  };
}
