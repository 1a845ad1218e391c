import type { Budget } from "#domain/budgets/budget-config.ts";
import type { BudgetStatus } from "#domain/budgets/budget-status.ts";
import { percentOf } from "#domain/budgets/evaluate-budget.ts";
import {
  currenciesBySpend,
  DASHBOARD_DIMENSIONS,
  type DailySeries,
  type DashboardFilters,
  dailySeries,
  matchesFilters,
  rankedTotals,
  utcDays,
} from "#domain/dashboard/spend-series.ts";
import { nanosToDecimal } from "#domain/money.ts";
import type { AlertLog } from "#ports/alert-log.ts";
import type { Clock } from "#ports/clock.ts";
import type { Logger } from "#ports/logger.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { type AlertItem, alertItems } from "./dashboard-alerts.ts";
import { type BudgetPanel, createBudgetPanel } from "./dashboard-budget.ts";
import { type PanelJson, type PanelSources, panel } from "./dashboard-panels.ts";
import { parseSelection } from "./dashboard-selection.ts";

const TOP_MODELS = 10;
/** Alert log entries read per request; the page lists the newest of them that concern the selection. */
const ALERTS_READ = 500;

export interface DashboardDeps {
  warehouse: Warehouse;
  /** The budgets as configured (or the demo's): the ones budgetStatus evaluates. */
  budgets: readonly Budget[];
  /** Every budget's standing now: evaluateBudgets' budgetStatus. */
  budgetStatus: () => Promise<BudgetStatus[]>;
  /** How long one reading of the standing serves (default a minute). */
  budgetFreshMs?: number;
  alertLog: Pick<AlertLog, "recent">;
  clock: Clock;
  logger?: Logger;
  /** The reconciliation and scorecard panels, where those use cases are composed. */
  panels?: PanelSources;
}

function seriesJson(series: readonly DailySeries[]) {
  return series.map((s) => ({
    name: s.name,
    total: nanosToDecimal(s.total),
    daily: s.daily.map(nanosToDecimal),
    ...(s.others === undefined ? {} : { others: s.others }),
  }));
}

/** The spend part of the page: what one report and the alert log answer, quickly. */
export interface DashboardOverview {
  generated_at: string;
  range: { from: string; to: string };
  filters: DashboardFilters;
  /** The values each filter can take in the range (whatever the other filters). */
  options: Record<(typeof DASHBOARD_DIMENSIONS)[number], string[]>;
  currency: string;
  /** Currencies of spend in the selection that the charts (in `currency`) leave out. */
  other_currencies: string[];
  total: string;
  days: string[];
  spend_by_team: ReturnType<typeof seriesJson>;
  spend_by_model: ReturnType<typeof seriesJson>;
  top_models: { model: string; cost: string; share_percent: number }[];
  alerts: { items: AlertItem[] };
}

/** Each takes the page's query string (parsed: name → text); errors are ReportQueryErrors naming the parameter. */
export interface DashboardData {
  /** Spend by team and model over time, top models, recent alerts. */
  overview(query: Readonly<Record<string, unknown>>): Promise<DashboardOverview>;
  /** The burn-down of the budget that concerns the selection. */
  budget(query: Readonly<Record<string, unknown>>): Promise<BudgetPanel>;
  reconciliation(query: Readonly<Record<string, unknown>>): Promise<PanelJson>;
  scorecard(query: Readonly<Record<string, unknown>>): Promise<PanelJson>;
}

/**
 * What the dashboard page shows for a selection (team, model, business unit, range), money as exact
 * decimal strings. The overview reads one report (by day, team, model and business unit) and the
 * alert log; the budget, reconciliation and scorecard panels are asked for apart, so the slower
 * ones never hold the charts back.
 */
export function createDashboardData(deps: DashboardDeps): DashboardData {
  const { warehouse, clock, budgets } = deps;
  const selectionOf = (query: Readonly<Record<string, unknown>>) =>
    parseSelection(query, clock.now(), budgets);
  const budgetPanel = createBudgetPanel({
    warehouse,
    budgetStatus: deps.budgetStatus,
    clock,
    ...(deps.budgetFreshMs === undefined ? {} : { freshMs: deps.budgetFreshMs }),
  });
  const logger = deps.logger;
  return {
    async overview(query) {
      const now = clock.now();
      const { filters, range } = selectionOf(query);
      const [rows, recent] = await Promise.all([
        warehouse.report({ by: ["day", ...DASHBOARD_DIMENSIONS], ...range, reads: "live" }),
        deps.alertLog.recent({ since: range.from, until: range.to, limit: ALERTS_READ }),
      ]);
      const selected = rows.filter((row) => matchesFilters(row, filters));
      const [currency = "USD", ...otherCurrencies] = currenciesBySpend(selected);
      const charted = selected.filter((row) => row.currency === currency);
      const total = charted.reduce((sum, row) => sum + row.cost_nanos, 0n);
      const days = utcDays(range.from, range.to);
      return {
        generated_at: now.toISOString(),
        range: { from: range.from.toISOString(), to: range.to.toISOString() },
        filters,
        options: Object.fromEntries(
          DASHBOARD_DIMENSIONS.map((d) => [
            d,
            rankedTotals(rows, d)
              .map((r) => r.name)
              .sort(),
          ]),
        ) as DashboardOverview["options"],
        currency,
        other_currencies: otherCurrencies.sort(),
        total: nanosToDecimal(total),
        days,
        spend_by_team: seriesJson(dailySeries(charted, "team", days)),
        spend_by_model: seriesJson(dailySeries(charted, "model", days)),
        top_models: rankedTotals(charted, "model")
          .slice(0, TOP_MODELS)
          .map((m) => ({
            model: m.name,
            cost: nanosToDecimal(m.total),
            share_percent: total > 0n ? percentOf(m.total, total) : 0,
          })),
        alerts: { items: alertItems(recent, budgets, filters, rows) },
      };
    },
    async budget(query) {
      return budgetPanel(selectionOf(query));
    },
    async reconciliation(query) {
      const { filters, range } = selectionOf(query);
      return panel("reconciliation", deps.panels?.reconciliation, { ...range, filters }, logger);
    },
    async scorecard(query) {
      const { filters, range } = selectionOf(query);
      return panel("scorecard", deps.panels?.scorecard, { ...range, filters }, logger);
    },
  };
}
