import { scopeDimensions } from "#domain/budgets/budget-config.ts";
import { spendIn } from "#domain/budgets/budget-spend.ts";
import type { BudgetStatus } from "#domain/budgets/budget-status.ts";
import type { BudgetEvaluation } from "#domain/budgets/evaluate-budget.ts";
import { budgetsForSelection, burnDown, burnDownQuery } from "#domain/dashboard/budget-burndown.ts";
import {
  notNarrowedNote,
  type ScopeStanding,
  scopeKindWords,
  scopeStanding,
  scopeWords,
} from "#domain/dashboard/selection-scope.ts";
import { DASHBOARD_DIMENSIONS, type DashboardFilters } from "#domain/dashboard/spend-series.ts";
import { type Nanos, nanosToDecimal } from "#domain/money.ts";
import type { Clock } from "#ports/clock.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import type { Selection } from "./dashboard-selection.ts";
import { createRefreshingValue } from "./refreshing-value.ts";

/** How a budget stands to the selection, as the page shows it. */
export interface BudgetSelectionJson {
  /** True when the budget's scope names every filtered value: its spend is the selection's. */
  narrowed: boolean;
  /** The filtered dimensions its scope leaves open. */
  not_narrowed_by: string[];
  /** "team budget: not narrowed by model"; null when narrowed. */
  note: string | null;
  /** Of the budget's spend this period (as the rollup has it), the selection's part; null when narrowed. */
  spend: string | null;
  /**
   * True when all of its spend this period is the selection's although the filters cannot narrow its
   * scope (a team wholly in the filtered business unit): it is then shown as the selection's.
   */
  whole: boolean;
}

function budgetJson(evaluation: BudgetEvaluation, selection: BudgetSelectionJson | null) {
  const { budget, period, forecast, basis } = evaluation;
  return {
    name: budget.name,
    owner: budget.owner,
    scope: budget.scope,
    /** "team applied-nlp", "all spend". */
    scope_text: scopeWords(budget.scope),
    /** "team budget". */
    kind_text: scopeKindWords(budget.scope),
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
    /** The spend split (budget-basis.ts); null when nothing can be told of the bill. */
    basis:
      basis === undefined
        ? null
        : {
            reconciled: nanosToDecimal(basis.reconciled_nanos),
            estimate: nanosToDecimal(basis.estimate_nanos),
            rollup: nanosToDecimal(basis.rollup_nanos),
            reconciled_days: basis.reconciled_days.length,
            reconciled_to: basis.reconciled_days.at(-1) ?? null,
            billed_scope: basis.billed_scope,
            calibrated: basis.calibrated,
          },
    /** How it stands to the filters; null when nothing is filtered. */
    selection,
  };
}

export type BudgetJson = ReturnType<typeof budgetJson>;

const decimals = (values: (Nanos | null)[] | null) =>
  values === null ? null : values.map((n) => (n === null ? null : nanosToDecimal(n)));

export interface BudgetPanel {
  /** When the budgets' standing was read (one reading serves the requests of a minute). */
  as_of: string;
  /**
   * The budgets that concern the selection, the one charted first: those whose scope the filters
   * narrow (the selection's), then those whose scope they cannot narrow but that hold some of the
   * selection's spend this period (shown as such, never as the selection's).
   */
  list: BudgetJson[];
  /** The chosen budget's current period, day by day; null when no budget concerns the selection. */
  burn_down:
    | (BudgetJson & {
        days: string[];
        cumulative: (string | null)[];
        cumulative_reconciled: (string | null)[] | null;
        cumulative_selection: (string | null)[] | null;
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

/**
 * The selection's part of each budget its filters cannot narrow, in the budget's period so far (as
 * the rollup has it): one report per distinct period range, by the scopes' and filters' dimensions.
 */
async function selectionSpend(
  warehouse: Warehouse,
  wider: readonly BudgetEvaluation[],
  filters: DashboardFilters,
  at: Date,
): Promise<Map<BudgetEvaluation, { part: Nanos; whole: Nanos }>> {
  const ranges = new Map<string, { from: Date; to: Date; evaluations: BudgetEvaluation[] }>();
  for (const evaluation of wider) {
    const { from, to } = burnDownQuery(evaluation, at);
    const key = `${from.getTime()}/${to.getTime()}`;
    const range = ranges.get(key) ?? { from, to, evaluations: [] };
    range.evaluations.push(evaluation);
    ranges.set(key, range);
  }
  const out = new Map<BudgetEvaluation, { part: Nanos; whole: Nanos }>();
  const filtered = DASHBOARD_DIMENSIONS.filter((d) => filters[d] !== undefined);
  for (const range of ranges.values()) {
    const dims = new Set([...range.evaluations.flatMap((e) => scopeDimensions(e.budget.scope)), ...filtered]);
    const rows = await warehouse.report({ by: [...dims], from: range.from, to: range.to, reads: "live" });
    const selected = rows.filter((row) => filtered.every((d) => row.group[d] === filters[d]));
    for (const evaluation of range.evaluations) {
      out.set(evaluation, {
        part: spendIn(evaluation.budget, selected),
        whole: spendIn(evaluation.budget, rows),
      });
    }
  }
  return out;
}

function selectionJson(
  evaluation: BudgetEvaluation,
  standing: ScopeStanding,
  spend: { part: Nanos; whole: Nanos } | undefined,
): BudgetSelectionJson | null {
  if (standing.kind === "selection")
    return { narrowed: true, not_narrowed_by: [], note: null, spend: null, whole: true };
  if (standing.kind !== "wider") return null;
  const part = spend?.part ?? 0n;
  return {
    narrowed: false,
    not_narrowed_by: standing.notNarrowedBy,
    note: notNarrowedNote(evaluation.budget.scope, standing.notNarrowedBy),
    spend: nanosToDecimal(part),
    whole: part !== 0n && part === spend?.whole,
  };
}

/** The burn-down of the budget the selection picked, or of the one that concerns it most. */
export function createBudgetPanel({ warehouse, budgetStatus, clock, freshMs = 60_000 }: BudgetPanelDeps) {
  const standing = createRefreshingValue(budgetStatus, { clock, freshMs });
  return async (selection: Selection): Promise<BudgetPanel> => {
    const { value: statuses, at } = await standing();
    const { filters } = selection;
    const filteredAny = DASHBOARD_DIMENSIONS.some((d) => filters[d] !== undefined);
    const candidates = budgetsForSelection(
      statuses.map((s) => s.evaluation),
      filters,
    );
    const standings = new Map(candidates.map((e) => [e, scopeStanding(e.budget.scope, filters)]));
    const wider = candidates.filter((e) => standings.get(e)?.kind === "wider");
    const partOf = wider.length === 0 ? new Map() : await selectionSpend(warehouse, wider, filters, at);
    // A budget the filters cannot narrow concerns the selection only if it holds some of its spend;
    // those that are the selection's (narrowed, or wholly in it) come first.
    const part = (e: BudgetEvaluation) => partOf.get(e)?.part ?? 0n;
    const theSelections = (e: BudgetEvaluation) =>
      standings.get(e)?.kind !== "wider" || (part(e) !== 0n && part(e) === partOf.get(e)?.whole);
    const concerned = candidates
      .filter((e) => standings.get(e)?.kind !== "wider" || part(e) !== 0n)
      .sort((a, b) => Number(theSelections(b)) - Number(theSelections(a)));
    const json = (e: BudgetEvaluation) =>
      budgetJson(
        e,
        filteredAny ? selectionJson(e, standings.get(e) ?? { kind: "other" }, partOf.get(e)) : null,
      );
    const shown = concerned.find((e) => e.budget.name === selection.budget) ?? concerned[0];
    let burn: BudgetPanel["burn_down"] = null;
    if (shown) {
      // As of the standing's reading, so the chart ends on the spend the budget shows.
      const rows = await warehouse.report({ ...burnDownQuery(shown, at, filters), reads: "live" });
      const chart = burnDown(shown, rows, at, filters);
      burn = {
        ...json(shown),
        days: chart.days,
        cumulative: decimals(chart.cumulative) ?? [],
        cumulative_reconciled: decimals(chart.cumulativeReconciled),
        cumulative_selection: decimals(chart.cumulativeSelection),
        thresholds: chart.thresholds.map((t) => ({ percent: t.percent, amount: nanosToDecimal(t.nanos) })),
        today: chart.today,
      };
    }
    return { as_of: at.toISOString(), list: concerned.map(json), burn_down: burn };
  };
}
