import type { AlertKind, Severity } from "#domain/alerts/alert.ts";
import type { Budget } from "#domain/budgets/budget-config.ts";
import { concernsSelection } from "#domain/dashboard/budget-burndown.ts";
import { DASHBOARD_DIMENSIONS, type DashboardFilters } from "#domain/dashboard/spend-series.ts";
import type { AlertDelivery } from "#ports/alert-log.ts";

/** One line of the dashboard's recent alerts. */
export interface AlertItem {
  delivered_at: string;
  kind: AlertKind;
  severity: Severity;
  /** What it is about: for a budget alert its budget and threshold, otherwise its idempotency key. */
  subject: string;
  /** The budget a budget alert is about; null for other kinds. */
  budget: string | null;
  channel: string;
  action: AlertDelivery["action"];
}

/** How many alerts the page lists. */
export const ALERTS_SHOWN = 15;

export const ALERTS_NOTE =
  "Budget alerts follow the filters through their budget's scope; other alerts are listed for every " +
  "selection, as the alert log does not keep their scope.";

/** `budget:<name>:<period start>:[forecast:]<threshold>` (evaluate-budget.ts's keys). */
const BUDGET_KEY = /^budget:([^:]+):\d{4}-\d{2}-\d{2}:(forecast:)?(\d+)$/;

function describe(delivery: AlertDelivery): { subject: string; budget: string | null } {
  const match = BUDGET_KEY.exec(delivery.idempotency_key);
  if (!match || !delivery.kind.startsWith("budget."))
    return { subject: delivery.idempotency_key, budget: null };
  const [, budget = "", forecast, threshold] = match;
  const what = forecast
    ? `forecast to reach ${threshold}%`
    : threshold === "100"
      ? "exceeded"
      : `reached ${threshold}%`;
  return { subject: `${budget} ${what}`, budget };
}

/** The recent deliveries that concern the selection, newest first, as the page lists them. */
export function alertItems(
  recent: readonly AlertDelivery[],
  budgets: readonly Budget[],
  filters: DashboardFilters,
): { items: AlertItem[]; note: string } {
  const filtered = DASHBOARD_DIMENSIONS.some((d) => filters[d] !== undefined);
  const byName = new Map(budgets.map((b) => [b.name, b]));
  const items: AlertItem[] = [];
  for (const delivery of recent) {
    if (items.length === ALERTS_SHOWN) break;
    const { subject, budget } = describe(delivery);
    if (filtered && budget !== null) {
      const known = byName.get(budget);
      if (known === undefined || !concernsSelection(known, filters)) continue;
    }
    items.push({
      delivered_at: delivery.delivered_at.toISOString(),
      kind: delivery.kind,
      severity: delivery.severity,
      subject,
      budget,
      channel: delivery.channel,
      action: delivery.action,
    });
  }
  return { items, note: ALERTS_NOTE };
}
