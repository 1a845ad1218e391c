import { isBillingDay } from "#domain/billing/billed-line.ts";
import {
  ESTIMATE_MATCH_KEYS,
  type EstimateMatchKey,
} from "#domain/reconciliation/reconciliation-settings.ts";
import type { ReconciliationLine } from "#domain/reports/reconciliation-table.ts";
import type { ReconciliationStore } from "#ports/reconciliation-store.ts";

export interface ReconciliationViewQuery {
  /** First day, inclusive ("YYYY-MM-DD", UTC). */
  from: string;
  /** Last day, exclusive. */
  to: string;
  /** The dimension to show the days by: team (default) or namespace (or cloud). */
  by?: EstimateMatchKey;
}

/** Estimated, reconciled and billed cost of one day and one value of the dimension. */
export type ReconciliationViewRow = ReconciliationLine;

export class ReconciliationViewError extends Error {
  override readonly name = "ReconciliationViewError";
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

export type ReconciliationView = (query: ReconciliationViewQuery) => Promise<ReconciliationViewRow[]>;

/**
 * Estimated vs reconciled vs billed per day and team (or namespace), from the stored reconciliation
 * (what `reconcileDaily` wrote), for reports and the dashboard. Ordered by day, then value (null last).
 */
export function createReconciliationView({ store }: { store: ReconciliationStore }): ReconciliationView {
  return async function reconciliationView(query) {
    const by = query.by ?? "team";
    if (!ESTIMATE_MATCH_KEYS.includes(by))
      throw new ReconciliationViewError("by", `one of ${ESTIMATE_MATCH_KEYS.join(", ")}`);
    for (const field of ["from", "to"] as const) {
      if (!isBillingDay(query[field])) throw new ReconciliationViewError(field, "not a day (YYYY-MM-DD)");
    }
    if (query.from >= query.to) throw new ReconciliationViewError("to", "must be after from");
    const groups = new Map<string, ReconciliationViewRow>();
    for (const row of await store.reconciliationRows({ start: query.from, end: query.to })) {
      if (!row.keys.includes(by)) {
        throw new ReconciliationViewError(
          "by",
          `${row.day} was reconciled on ${row.keys.join(", ")}, which does not include ${by}`,
        );
      }
      const value = row.key[by] ?? null;
      const id = JSON.stringify([row.day, value, row.currency]);
      const group = groups.get(id) ?? {
        day: row.day,
        value,
        currency: row.currency,
        estimated: 0n,
        reconciled: 0n,
        billed: 0n,
        drift: 0n,
      };
      group.estimated += row.estimated;
      group.reconciled += row.reconciled;
      group.billed += row.billed;
      group.drift += row.drift;
      groups.set(id, group);
    }
    // Null (no value) after every name; "\u0000" joins so that the order is the tuple's.
    const sortKey = (r: ReconciliationViewRow) => [r.day, r.value ?? "\uffff", r.currency].join("\u0000");
    return [...groups.values()].sort((a, b) =>
      sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0,
    );
  };
}
