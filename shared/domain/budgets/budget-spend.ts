import { DIMENSIONS, type Dimension } from "#domain/cost-row.ts";
import type { Nanos } from "#domain/money.ts";
import { type Budget, scopeDimensions } from "./budget-config.ts";

/** A row of the cost report: spend per group of dimensions and currency. */
export interface SpendRow {
  group: Partial<Record<Dimension, string | null>>;
  currency: string;
  cost_nanos: Nanos;
}

/** Union of the dimensions the budgets' scopes filter on, in DIMENSIONS order. */
export function unionDimensions(budgets: readonly Budget[]): Dimension[] {
  const used = new Set(budgets.flatMap((b) => scopeDimensions(b.scope)));
  return DIMENSIONS.filter((d) => used.has(d));
}

/** Spend of `budget` in report rows grouped by a superset of its scope's dimensions. */
export function spendIn(budget: Budget, rows: readonly SpendRow[]): Nanos {
  const dims = scopeDimensions(budget.scope);
  let total = 0n;
  for (const row of rows) {
    if (row.currency !== budget.currency) continue;
    if (dims.every((d) => row.group[d] === budget.scope[d])) total += row.cost_nanos;
  }
  return total;
}

export function otherCurrencies(budget: Budget, rows: readonly SpendRow[]): string[] {
  const dims = scopeDimensions(budget.scope);
  const found = new Set<string>();
  for (const row of rows) {
    if (row.currency !== budget.currency && dims.every((d) => row.group[d] === budget.scope[d])) {
      found.add(row.currency);
    }
  }
  return [...found].sort();
}
