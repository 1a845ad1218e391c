import type { Alert, Severity } from "#domain/alerts/alert.ts";

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, warning: 1, critical: 2 };

/** The seed's thresholds: 📊 below 80% (the 50% alert), ⚠️ from 80%, 🚨 from 100%. */
export function severityForPercent(percent: number): Severity {
  if (percent >= 100) return "critical";
  return percent >= 80 ? "warning" : "info";
}

export function higherSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[b] > SEVERITY_RANK[a] ? b : a;
}

/** Exact percent of the limit from nanos when the producer gave no `percent` (two decimals, truncated). */
export function percentUsed(alert: Alert): number | undefined {
  const amounts = alert.amounts;
  if (amounts?.percent !== undefined) return amounts.percent;
  if (amounts?.spend_nanos === undefined || !amounts.limit_nanos) return undefined;
  return Number((amounts.spend_nanos * 10_000n) / amounts.limit_nanos) / 100;
}

/**
 * The severity a message shows and routes by: the alert's own, raised to what its percent of a limit
 * says (a producer that marks a 100% budget alert "warning" still gets 🚨). Alerts without a limit
 * (anomalies, drift) keep their own severity.
 */
export function effectiveSeverity(alert: Alert): Severity {
  const percent = percentUsed(alert);
  if (percent === undefined || alert.amounts?.limit_nanos === undefined) return alert.severity;
  return higherSeverity(alert.severity, severityForPercent(percent));
}
