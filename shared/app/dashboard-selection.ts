import type { Budget } from "#domain/budgets/budget-config.ts";
import { DASHBOARD_DIMENSIONS, type DashboardFilters } from "#domain/dashboard/spend-series.ts";
import type { TimeRange } from "#ports/warehouse.ts";
import { queryText, ReportQueryError, reportWindow } from "./cost-report.ts";

const MAX_VALUE_LENGTH = 256;
const PARAMS = ["team", "model", "business_unit", "from", "to", "budget"] as const;

/** What the page asks about: filters, a half-open UTC range, and the budget it picked, if any. */
export interface Selection {
  filters: DashboardFilters;
  range: TimeRange;
  budget?: string;
}

/**
 * The selection in a parsed query string (name → text; default range the 30 days to the end of the
 * current hour). Errors are ReportQueryErrors naming the parameter: one given twice, an impossible
 * date, an end off the whole hour, a range backwards or longer than MAX_RANGE_DAYS, a value too long,
 * a budget not configured.
 */
export function parseSelection(
  query: Readonly<Record<string, unknown>>,
  now: Date,
  budgets: readonly Budget[],
): Selection {
  const params: Partial<Record<(typeof PARAMS)[number], string>> = {};
  for (const name of PARAMS) {
    const value = queryText(query, name);
    if (value === undefined) continue;
    const trimmed = value.trim();
    if (trimmed.length > MAX_VALUE_LENGTH)
      throw new ReportQueryError(name, `at most ${MAX_VALUE_LENGTH} characters`);
    if (trimmed !== "") params[name] = trimmed;
  }
  const filters: DashboardFilters = {};
  for (const d of DASHBOARD_DIMENSIONS) {
    const value = params[d];
    if (value !== undefined) filters[d] = value;
  }
  // The one range rule every surface shares (shared/domain/time-range.ts).
  const range = reportWindow(now, params.from, params.to);
  const { budget } = params;
  if (budget !== undefined && !budgets.some((b) => b.name === budget)) {
    throw new ReportQueryError("budget", `no budget named ${JSON.stringify(budget)}`);
  }
  return { filters, range, ...(budget === undefined ? {} : { budget }) };
}
