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
  /**
   * Spend since the period began, at the end of each day up to today, as the budget counts it
   * (reconciled + estimate where the basis is known, else the rollup's); null for the days ahead.
   */
  cumulative: (Nanos | null)[];
  /** Of it, the part reconciled against a bill; null for the days ahead, or throughout when the basis is unknown. */
  cumulativeReconciled: (Nanos | null)[] | null;
  /**
   * Of the budget's spend (as the rollup has it), the part of the selection, when the filters leave
   * one of their dimensions open in the budget's scope (a team budget under a model filter); else null.
   */
  cumulativeSelection: (Nanos | null)[] | null;
  /** Each threshold as an amount: a horizontal line. */
  thresholds: { percent: number; nanos: Nanos }[];
  /** The day the spend is at now (the last with a cumulative value). */
  today: string;
}

/**
 * What a burn-down must read: the budget's period so far, by day and the dimensions of its scope, and
 * the filtered dimensions its scope leaves open (to tell the selection's part).
 */
export function burnDownQuery(evaluation: BudgetEvaluation, now: Date, filters: DashboardFilters = {}) {
  const { period, budget } = evaluation;
  const currentHourEnd = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS + HOUR_MS;
  const dims = scopeDimensions(budget.scope);
  const open = DASHBOARD_DIMENSIONS.filter((d) => filters[d] !== undefined && !dims.includes(d));
  return {
    by: ["day" as const, ...dims, ...open],
    from: period.hoursFrom,
    to: new Date(Math.min(currentHourEnd, period.hoursTo.getTime())),
  };
}

/**
 * The period's spend day by day, from rows read with burnDownQuery: each day's spend counted as the
 * budget counts it (its scope, its currency, reconciled + estimate where its basis says), so the last
 * value is the evaluation's spend; the reconciled part, and the selection's part when the filters
 * cannot narrow the budget.
 */
export function burnDown(
  evaluation: BudgetEvaluation,
  rows: readonly GroupedCost[],
  now: Date,
  filters: DashboardFilters = {},
): BurnDown {
  const { budget, period, basis } = evaluation;
  const days = utcDays(period.hoursFrom, period.hoursTo);
  const today = new Date(burnDownQuery(evaluation, now).to.getTime() - 1).toISOString().slice(0, 10);
  const byDay = new Map<string, GroupedCost[]>();
  for (const row of rows) {
    const day = groupValue(row, "day");
    const list = byDay.get(day);
    if (list) list.push(row);
    else byDay.set(day, [row]);
  }
  const basisDays = new Map((basis?.days ?? []).map((d) => [d.day, d]));
  const running = (perDay: (day: string) => Nanos) => {
    let sum = 0n;
    return days.map((day) => {
      if (day > today) return null;
      sum += perDay(day);
      return sum;
    });
  };
  const dims = scopeDimensions(budget.scope);
  const open = DASHBOARD_DIMENSIONS.some((d) => filters[d] !== undefined && !dims.includes(d));
  const inSelection = (row: GroupedCost) =>
    DASHBOARD_DIMENSIONS.every((d) => filters[d] === undefined || row.group[d] === filters[d]);
  return {
    days,
    cumulative: running((day) => {
      const known = basisDays.get(day);
      return known ? known.reconciled_nanos + known.estimate_nanos : spendIn(budget, byDay.get(day) ?? []);
    }),
    cumulativeReconciled: basis ? running((day) => basisDays.get(day)?.reconciled_nanos ?? 0n) : null,
    cumulativeSelection: open
      ? running((day) => spendIn(budget, (byDay.get(day) ?? []).filter(inSelection)))
      : null,
    thresholds: budget.thresholds.map((percent) => ({
      percent,
      nanos: divRound(budget.amount_nanos * BigInt(percent), 100n),
    })),
    today,
  };
}
