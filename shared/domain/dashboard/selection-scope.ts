import type { Dimension } from "../cost-row.ts";
import {
  DASHBOARD_DIMENSIONS,
  type DashboardDimension,
  type DashboardFilters,
  type GroupedCost,
} from "./spend-series.ts";

/**
 * How a scope (a budget's, or an alert's) stands to the dashboard's filters, the way the charts apply
 * them: a filter keeps the cost whose dimension has the filtered value. A scope that names another
 * value for a filtered dimension is not the selection's at all; one that names the filtered value
 * for every filtered dimension is the selection's (or inside it); one that leaves a filtered
 * dimension open cannot be narrowed by that filter: its figures (a budget's spend, an alert's) are
 * the whole scope's, of which the selection is a part.
 */
export type ScopeStanding =
  | { kind: "other" }
  | { kind: "selection" }
  | { kind: "wider"; notNarrowedBy: DashboardDimension[] };

export type Scope = Partial<Record<Dimension, string>>;

export function scopeStanding(scope: Scope, filters: DashboardFilters): ScopeStanding {
  const filtered = DASHBOARD_DIMENSIONS.filter((d) => filters[d] !== undefined);
  if (filtered.some((d) => scope[d] !== undefined && scope[d] !== filters[d])) return { kind: "other" };
  const notNarrowedBy = filtered.filter((d) => scope[d] === undefined);
  return notNarrowedBy.length === 0 ? { kind: "selection" } : { kind: "wider", notNarrowedBy };
}

/** Spend of the selection inside the scope: rows matching both the scope's dashboard dimensions and the filters. */
export function selectionSpendIn(
  scope: Scope,
  filters: DashboardFilters,
  rows: readonly GroupedCost[],
  currency?: string,
): bigint {
  let total = 0n;
  for (const row of rows) {
    if (currency !== undefined && row.currency !== currency) continue;
    const inScope = (Object.keys(scope) as Dimension[]).every(
      (d) => !(d in row.group) || row.group[d] === scope[d],
    );
    const inSelection = DASHBOARD_DIMENSIONS.every(
      (d) => filters[d] === undefined || row.group[d] === filters[d],
    );
    if (inScope && inSelection) total += row.cost_nanos;
  }
  return total;
}

const WORDS: Readonly<Record<string, string>> = {
  team: "team",
  model: "model",
  model_version: "model version",
  business_unit: "business unit",
  cost_center: "cost center",
  namespace: "namespace",
  environment: "environment",
  cloud: "cloud",
  budget: "budget",
};

/** A dimension's name in words: "business unit". */
export function dimensionWords(dimension: string): string {
  return WORDS[dimension] ?? dimension.replaceAll("_", " ");
}

/** "a", "a and b", "a, b and c". */
export function listWords(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** "team nlp-team and business unit research"; "all spend" for an empty scope. */
export function scopeWords(scope: Readonly<Record<string, string | undefined>>): string {
  const parts = Object.entries(scope)
    .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[0] !== "budget")
    .map(([d, v]) => `${dimensionWords(d)} ${v}`);
  return parts.length === 0 ? "all spend" : listWords(parts);
}

/** "team budget", "team and environment budget", "organization-wide budget" (or "... alert"). */
export function scopeKindWords(scope: Scope, noun = "budget"): string {
  const dims = (Object.keys(scope) as Dimension[]).filter((d) => scope[d] !== undefined);
  return dims.length === 0 ? `organization-wide ${noun}` : `${listWords(dims.map(dimensionWords))} ${noun}`;
}

/** "team budget: not narrowed by model and business unit". */
export function notNarrowedNote(
  scope: Scope,
  notNarrowedBy: readonly DashboardDimension[],
  noun = "budget",
): string {
  return `${scopeKindWords(scope, noun)}: not narrowed by ${listWords(notNarrowedBy.map(dimensionWords))}`;
}
