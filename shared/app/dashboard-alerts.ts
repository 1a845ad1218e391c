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
  /**
   * What it is about: the alert's title; for an alert logged before titles were kept, a budget
   * alert's budget and threshold, otherwise its idempotency key.
   */
  subject: string;
  /** The budget a budget alert is about; null for other kinds. */
  budget: string | null;
  channel: string;
  action: AlertDelivery["action"];
}

/** How many alerts the page lists. */
export const ALERTS_SHOWN = 15;

/** `budget:<name>:<period start>:[forecast:]<threshold>` (evaluate-budget.ts's keys). */
const BUDGET_KEY = /^budget:([^:]+):\d{4}-\d{2}-\d{2}:(forecast:)?(\d+)$/;

function describe(delivery: AlertDelivery): { subject: string; budget: string | null } {
  const match = BUDGET_KEY.exec(delivery.idempotency_key);
  if (!match || !delivery.kind.startsWith("budget."))
    return { subject: delivery.title ?? delivery.idempotency_key, budget: null };
  const [, budget = "", forecast, threshold] = match;
  const what = forecast
    ? `forecast to reach ${threshold}%`
    : threshold === "100"
      ? "exceeded"
      : `reached ${threshold}%`;
  return { subject: delivery.title ?? `${budget} ${what}`, budget };
}

/**
 * The recent deliveries that concern the selection, newest first, as the page lists them. A budget
 * alert of a configured budget concerns it through the budget's scope (as the budget panel picks
 * budgets); any other alert, and one of a budget no longer configured, through the scope it was
 * logged with, so one that names no value for a filtered dimension does not.
 */
export function alertItems(
  recent: readonly AlertDelivery[],
  budgets: readonly Budget[],
  filters: DashboardFilters,
): AlertItem[] {
  const filtered = DASHBOARD_DIMENSIONS.some((d) => filters[d] !== undefined);
  const byName = new Map(budgets.map((b) => [b.name, b]));
  const concerns = (delivery: AlertDelivery, budget: string | null) => {
    if (!filtered) return true;
    const known = budget === null ? undefined : byName.get(budget);
    if (known !== undefined) return concernsSelection(known, filters);
    return DASHBOARD_DIMENSIONS.every((d) => filters[d] === undefined || delivery.scope[d] === filters[d]);
  };
  const items: AlertItem[] = [];
  for (const delivery of recent) {
    if (items.length === ALERTS_SHOWN) break;
    const { subject, budget } = describe(delivery);
    if (!concerns(delivery, budget)) continue;
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
  return items;
}
