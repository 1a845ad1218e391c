import type { Alert, Severity } from "#domain/alerts/alert.ts";
import { formatMoney, formatPercent } from "#domain/alerts/format-money.ts";
import { numberToNanos } from "#domain/money.ts";
import type { BudgetNotification } from "./budget-notification.ts";
import type { GcpBudgetsSettings } from "./gcp-budget-settings.ts";

/** Which spend crossed the threshold: what was spent, or what the period is forecast to spend. */
export type BudgetThresholdKind = "actual" | "forecast";

export interface BudgetCrossing {
  kind: BudgetThresholdKind;
  /** 1.0-based fraction, as sent (0.5 = 50%). */
  threshold: number;
}

/** The thresholds a notification reports crossed: none for a routine status update. */
export function budgetCrossings(notification: BudgetNotification): BudgetCrossing[] {
  const { alertThresholdExceeded: actual, forecastThresholdExceeded: forecast } = notification.data;
  const crossings: BudgetCrossing[] = [];
  if (actual !== undefined) crossings.push({ kind: "actual", threshold: actual });
  if (forecast !== undefined) crossings.push({ kind: "forecast", threshold: forecast });
  return crossings;
}

/** The seen-store key holding the highest threshold of this kind seen for the budget's period. */
export function budgetStateKey(notification: BudgetNotification, kind: BudgetThresholdKind): string {
  return `gcp-budget:${notification.attributes.budgetId}:${notification.data.costIntervalStart}:${kind}`;
}

/** `gcp-budget:<budgetId>:<costIntervalStart>:<kind>:<threshold>`: one alert per threshold per period. */
export function budgetIdempotencyKey(notification: BudgetNotification, crossing: BudgetCrossing): string {
  return `${budgetStateKey(notification, crossing.kind)}:${crossing.threshold}`;
}

/** The threshold as an integer for the seen-store (nano-units of the fraction: exact for any decimal). */
export function thresholdValue(crossing: BudgetCrossing): bigint {
  return numberToNanos(crossing.threshold);
}

function teamByPattern(displayName: string, pattern: string): string | undefined {
  const match = new RegExp(pattern, "i").exec(displayName);
  if (!match) return undefined;
  const team = match.groups?.team ?? match[1];
  return team ? team.toLowerCase() : undefined;
}

/** The owning team: `teams` by budget id, then by display name; then the display-name pattern; then the fallback. */
export function budgetTeam(
  notification: BudgetNotification,
  settings: GcpBudgetsSettings,
): string | undefined {
  const { budgetId } = notification.attributes;
  const name = notification.data.budgetDisplayName;
  const { teams } = settings;
  if (Object.hasOwn(teams, budgetId)) return teams[budgetId];
  if (name !== "" && Object.hasOwn(teams, name)) return teams[name];
  return (
    (name === "" ? undefined : teamByPattern(name, settings.displayNamePattern)) ?? settings.fallbackTeam
  );
}

/** Actual: 📊 below 80%, ⚠️ from 80%, 🚨 from 100%. Forecast: a warning from 100%, info below. */
export function budgetSeverity(crossing: BudgetCrossing): Severity {
  if (crossing.kind === "forecast") return crossing.threshold >= 1 ? "warning" : "info";
  if (crossing.threshold >= 1) return "critical";
  return crossing.threshold >= 0.8 ? "warning" : "info";
}

function action(crossing: BudgetCrossing): string {
  if (crossing.kind === "forecast") {
    return "Spend is on track to pass this threshold before the period ends: review the trend and plan cuts now.";
  }
  if (crossing.threshold >= 1) return "Budget exceeded. Immediate action required.";
  if (crossing.threshold >= 0.8) return "Review spending now: the budget is close to its limit.";
  return "Keep an eye on spending: half of the budget is used.";
}

/** The Cloud Console page of the budget. */
export function budgetConsoleUrl(notification: BudgetNotification): string {
  const { billingAccountId, budgetId } = notification.attributes;
  return `https://console.cloud.google.com/billing/${encodeURIComponent(billingAccountId)}/budgets/${encodeURIComponent(budgetId)}/edit`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The normalized alert for one threshold crossing of a budget notification. */
export function buildBudgetAlert(
  notification: BudgetNotification,
  crossing: BudgetCrossing,
  settings: GcpBudgetsSettings,
  createdAt: Date,
): Alert {
  const { data, attributes } = notification;
  const currency = data.currencyCode;
  const spend = numberToNanos(data.costAmount);
  const limit = numberToNanos(data.budgetAmount);
  const name = data.budgetDisplayName || attributes.budgetId;
  const team = budgetTeam(notification, settings);
  const threshold = formatPercent(crossing.threshold * 100);
  const used = limit > 0n ? Number((spend * 10_000n) / limit) / 100 : undefined;
  const basis = crossing.kind === "actual" ? "actual spend" : "forecasted spend";
  const title =
    crossing.kind === "actual"
      ? `GCP budget ${name}: ${threshold} of ${formatMoney(limit, currency)} spent`
      : `GCP budget ${name}: forecast to reach ${threshold} of ${formatMoney(limit, currency)}`;
  const summary = [
    `Cloud Billing reports the ${threshold} threshold (${basis}) crossed for budget ${name}.`,
    `Spent ${formatMoney(spend, currency)} of ${formatMoney(limit, currency)}` +
      `${used === undefined ? "" : ` (${formatPercent(used)})`} in the period starting ${data.costIntervalStart}.`,
    `Billing account ${attributes.billingAccountId}, budget ${attributes.budgetId}.`,
  ].join("\n");
  return {
    idempotency_key: budgetIdempotencyKey(notification, crossing),
    kind: "gcp.budget",
    severity: budgetSeverity(crossing),
    title: clip(title, 150),
    summary: clip(summary, 2000),
    action: action(crossing),
    scope: { cloud: "gcp", budget: clip(name, 256), ...(team === undefined ? {} : { team }) },
    amounts: {
      spend_nanos: spend,
      limit_nanos: limit,
      ...(used === undefined ? {} : { percent: used }),
      currency,
    },
    source: { system: "gcp-billing", id: attributes.budgetId, url: budgetConsoleUrl(notification) },
    created_at: createdAt.toISOString(),
  };
}
