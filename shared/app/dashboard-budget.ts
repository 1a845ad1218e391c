import type { BudgetStatus } from "#domain/budgets/budget-status.ts";
import type { BudgetEvaluation } from "#domain/budgets/evaluate-budget.ts";
import { budgetsForSelection, burnDown, burnDownQuery } from "#domain/dashboard/budget-burndown.ts";
import { nanosToDecimal } from "#domain/money.ts";
import type { Clock } from "#ports/clock.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import type { Selection } from "./dashboard-selection.ts";
import { createRefreshingValue } from "./refreshing-value.ts";

function budgetJson(evaluation: BudgetEvaluation) {
  const { budget, period, forecast } = evaluation;
  return {
    name: budget.name,
    owner: budget.owner,
    scope: budget.scope,
    currency: budget.currency,
    amount: nanosToDecimal(budget.amount_nanos),
    period: {
      kind: period.kind,
      label: period.label,
      start: period.start.toISOString(),
      end: period.end.toISOString(),
    },
    spend: nanosToDecimal(evaluation.spend_nanos),
    percent: evaluation.percent,
    forecast: { amount: nanosToDecimal(forecast.nanos), percent: forecast.percent, method: forecast.method },
  };
}

export type BudgetJson = ReturnType<typeof budgetJson>;

export interface BudgetPanel {
  /** When the budgets' standing was read (one reading serves the requests of a minute). */
  as_of: string;
  /** The budgets that concern the selection, the one charted first. */
  list: BudgetJson[];
  /** The chosen budget's current period, day by day; null when no budget concerns the selection. */
  burn_down:
    | (BudgetJson & {
        days: string[];
        cumulative: (string | null)[];
        thresholds: { percent: number; amount: string }[];
        today: string;
      })
    | null;
}

export interface BudgetPanelDeps {
  warehouse: Warehouse;
  /**
   * Every budget's standing now (evaluateBudgets' budgetStatus: the spend and forecast the alerts use).
   * Costly (the forecast reads a week of hours), so one reading serves the requests of `freshMs`.
   */
  budgetStatus: () => Promise<BudgetStatus[]>;
  clock: Clock;
  freshMs?: number;
}

/** The burn-down of the budget the selection picked, or of the one that concerns it most. */
export function createBudgetPanel({ warehouse, budgetStatus, clock, freshMs = 60_000 }: BudgetPanelDeps) {
  const standing = createRefreshingValue(budgetStatus, { clock, freshMs });
  return async (selection: Selection): Promise<BudgetPanel> => {
    const { value: statuses, at } = await standing();
    const concerned = budgetsForSelection(
      statuses.map((s) => s.evaluation),
      selection.filters,
    );
    const shown = concerned.find((e) => e.budget.name === selection.budget) ?? concerned[0];
    let burn: BudgetPanel["burn_down"] = null;
    if (shown) {
      // As of the standing's reading, so the chart ends on the spend the budget shows.
      const chart = burnDown(shown, await warehouse.report(burnDownQuery(shown, at)), at);
      burn = {
        ...budgetJson(shown),
        days: chart.days,
        cumulative: chart.cumulative.map((n) => (n === null ? null : nanosToDecimal(n))),
        thresholds: chart.thresholds.map((t) => ({ percent: t.percent, amount: nanosToDecimal(t.nanos) })),
        today: chart.today,
      };
    }
    return { as_of: at.toISOString(), list: concerned.map(budgetJson), burn_down: burn };
  };
}
