import type { GroupKey } from "../cost-row.ts";
import type { Nanos } from "../money.ts";

/** What the dashboard filters and charts by. */
export const DASHBOARD_DIMENSIONS = ["team", "model", "business_unit"] as const;
export type DashboardDimension = (typeof DASHBOARD_DIMENSIONS)[number];
export type DashboardFilters = Partial<Record<DashboardDimension, string>>;

/** A report row (cost per group and currency), grouped by day and some dimensions. */
export interface GroupedCost {
  group: Partial<Record<GroupKey, string | null>>;
  currency: string;
  cost_nanos: Nanos;
}

/** One line of a stacked chart: a value's daily cost over the range, or the values ranked below the shown ones. */
export interface DailySeries {
  name: string;
  total: Nanos;
  daily: Nanos[];
  /** How many values it stands for when it gathers the values not shown on their own; else absent. */
  others?: number;
}

const DAY_MS = 86_400_000;

/** The label of a missing group value (the report says null; the charts need a name). */
export const NONE = "(none)";

export function groupValue(row: GroupedCost, key: GroupKey): string {
  return row.group[key] ?? NONE;
}

export function matchesFilters(row: GroupedCost, filters: DashboardFilters): boolean {
  return DASHBOARD_DIMENSIONS.every((d) => filters[d] === undefined || groupValue(row, d) === filters[d]);
}

/** Every UTC day ("YYYY-MM-DD") that [from, to) touches, in order. */
export function utcDays(from: Date, to: Date): string[] {
  const days: string[] = [];
  for (let t = Math.floor(from.getTime() / DAY_MS) * DAY_MS; t < to.getTime(); t += DAY_MS) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/** Total cost per value of `key`, highest first (ties by name). */
export function rankedTotals(rows: readonly GroupedCost[], key: GroupKey): { name: string; total: Nanos }[] {
  const totals = new Map<string, Nanos>();
  for (const row of rows)
    totals.set(groupValue(row, key), (totals.get(groupValue(row, key)) ?? 0n) + row.cost_nanos);
  return [...totals]
    .map(([name, total]) => ({ name, total }))
    .sort((a, b) => (a.total === b.total ? a.name.localeCompare(b.name) : a.total > b.total ? -1 : 1));
}

/** The currencies of `rows`, most spend first (ties by code): the charts draw the first. */
export function currenciesBySpend(rows: readonly GroupedCost[]): string[] {
  const totals = new Map<string, Nanos>();
  for (const row of rows) totals.set(row.currency, (totals.get(row.currency) ?? 0n) + row.cost_nanos);
  return [...totals]
    .sort(([a, x], [b, y]) => (x === y ? a.localeCompare(b) : x > y ? -1 : 1))
    .map(([code]) => code);
}

/**
 * Daily cost per value of `dimension` over `days` (rows grouped by day): the `maxSeries` − 1 values
 * of highest cost each on its own line, the rest together on one, so a stack stays readable and
 * still adds up to the whole.
 */
export function dailySeries(
  rows: readonly GroupedCost[],
  dimension: DashboardDimension,
  days: readonly string[],
  maxSeries = 8,
): DailySeries[] {
  const ranked = rankedTotals(rows, dimension);
  const shown = ranked.length <= maxSeries ? ranked : ranked.slice(0, maxSeries - 1);
  const rest = ranked.slice(shown.length);
  const index = new Map(days.map((day, i) => [day, i]));
  const lineOf = new Map<string, DailySeries>();
  const series: DailySeries[] = shown.map(({ name, total }) => {
    const line = { name, total, daily: days.map(() => 0n) };
    lineOf.set(name, line);
    return line;
  });
  if (rest.length > 0) {
    const others: DailySeries = {
      name: `${rest.length} others`,
      total: rest.reduce((sum, r) => sum + r.total, 0n),
      daily: days.map(() => 0n),
      others: rest.length,
    };
    for (const r of rest) lineOf.set(r.name, others);
    series.push(others);
  }
  for (const row of rows) {
    const line = lineOf.get(groupValue(row, dimension)) as DailySeries;
    const at = index.get(groupValue(row, "day"));
    if (at === undefined)
      throw new RangeError(`a row of day ${groupValue(row, "day")} is outside the days charted`);
    line.daily[at] = (line.daily[at] ?? 0n) + row.cost_nanos;
  }
  return series;
}
