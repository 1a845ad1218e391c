import type { Alert, Severity } from "#domain/alerts/alert.ts";
import { formatMoney, formatPercent } from "#domain/alerts/format-money.ts";
import { type Nanos, numberToNanos } from "#domain/money.ts";
import type { AnomalyRootCause, AwsAnomaly } from "./anomaly-notification.ts";
import type { AwsAnomaliesSettings } from "./aws-anomaly-settings.ts";

/** Cost Explorer reports anomalies in USD. */
const CURRENCY = "USD";
const MAX_ROOT_CAUSES = 5;

/** Severity from the total impact: below `warning` info, from `critical` critical. */
export function anomalySeverity(impact: Nanos, thresholds: AwsAnomaliesSettings["severity"]): Severity {
  if (impact >= numberToNanos(thresholds.critical)) return "critical";
  return impact >= numberToNanos(thresholds.warning) ? "warning" : "info";
}

/** The owning team: by monitor ARN, monitor name, linked account, account, dimension value; else the fallback. */
export function anomalyTeam(
  anomaly: AwsAnomaly,
  settings: Pick<AwsAnomaliesSettings, "teams" | "fallbackTeam">,
) {
  const candidates = [
    anomaly.monitorArn,
    anomaly.monitorName,
    ...anomaly.rootCauses.map((cause) => cause.linkedAccount),
    anomaly.accountId,
    anomaly.dimensionalValue,
  ];
  for (const candidate of candidates) {
    if (candidate === undefined) continue;
    const team = Object.hasOwn(settings.teams, candidate) ? settings.teams[candidate] : undefined;
    if (team !== undefined) return team;
  }
  return settings.fallbackTeam;
}

/** The seen-store key of an anomaly's highest impact so far. */
export function anomalyStateKey(anomaly: AwsAnomaly): string {
  return `aws-anomaly:${anomaly.anomalyId}`;
}

/** One Slack conversation per anomaly: updates edit its message, a higher severity posts anew. */
export function anomalyThreadKey(anomaly: AwsAnomaly): string {
  return `aws-anomaly:${anomaly.anomalyId}`;
}

/**
 * The anomaly id and severity, then the impact it reports: a re-notification with a bigger impact
 * is a new alert (threaded on the anomaly, so the notifier updates the message it posted), the
 * same delivery again is the same alert.
 */
export function anomalyIdempotencyKey(anomaly: AwsAnomaly, severity: Severity, impact: Nanos): string {
  return `aws-anomaly:${anomaly.anomalyId}:${severity}:${impact}`;
}

function describeCause(cause: AnomalyRootCause): string {
  const account =
    cause.linkedAccount === undefined
      ? undefined
      : `account ${cause.linkedAccount}${cause.linkedAccountName ? ` (${cause.linkedAccountName})` : ""}`;
  const parts = [cause.service, cause.region, account, cause.usageType && `usage type ${cause.usageType}`];
  const text = parts.filter((p): p is string => typeof p === "string" && p !== "").join(", ");
  const contribution = cause.impact?.contribution;
  const share = contribution === undefined ? "" : ` (${formatMoney(numberToNanos(contribution), CURRENCY)})`;
  return `• ${text || "unknown"}${share}`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The normalized alert for an anomaly notification. */
export function buildAnomalyAlert(
  anomaly: AwsAnomaly,
  settings: AwsAnomaliesSettings,
  createdAt: Date,
): Alert {
  const impact = numberToNanos(anomaly.impact.totalImpact);
  const severity = anomalySeverity(impact, settings.severity);
  const what = anomaly.dimensionalValue ?? anomaly.rootCauses[0]?.service ?? anomaly.monitorName ?? "AWS";
  const team = anomalyTeam(anomaly, settings);
  const {
    totalActualSpend: actual,
    totalExpectedSpend: expected,
    totalImpactPercentage: pct,
  } = anomaly.impact;
  const lines = [
    `Cost anomaly on ${what}: ${formatMoney(impact, CURRENCY)} above the expected spend` +
      (pct === undefined || pct === null ? "." : ` (+${formatPercent(pct)}).`),
  ];
  if (actual !== undefined && expected !== undefined) {
    lines.push(
      `Actual ${formatMoney(numberToNanos(actual), CURRENCY)} against ${formatMoney(numberToNanos(expected), CURRENCY)} expected.`,
    );
  }
  const end = anomaly.anomalyEndDate ?? undefined;
  lines.push(
    `Since ${anomaly.anomalyStartDate.slice(0, 10)}${end ? `, last seen ${end.slice(0, 10)}` : ""}.`,
  );
  const account =
    anomaly.accountId && `${anomaly.accountId}${anomaly.accountName ? ` (${anomaly.accountName})` : ""}`;
  lines.push(
    `Monitor: ${anomaly.monitorName ?? anomaly.monitorArn}${account ? `, account ${account}` : ""}.`,
  );
  if (anomaly.rootCauses.length > 0) {
    lines.push("Root causes:", ...anomaly.rootCauses.slice(0, MAX_ROOT_CAUSES).map(describeCause));
    const more = anomaly.rootCauses.length - MAX_ROOT_CAUSES;
    if (more > 0) lines.push(`…and ${more} more`);
  }
  return {
    idempotency_key: anomalyIdempotencyKey(anomaly, severity, impact),
    kind: "aws.anomaly",
    severity,
    title: clip(`AWS cost anomaly: +${formatMoney(impact, CURRENCY)} on ${what}`, 150),
    summary: clip(lines.join("\n"), 2000),
    action:
      "Open the anomaly in Cost Explorer, confirm whether the spend is expected, and give AWS feedback.",
    scope: { cloud: "aws", ...(team === undefined ? {} : { team }) },
    amounts: {
      ...(actual === undefined ? {} : { spend_nanos: numberToNanos(actual) }),
      currency: CURRENCY,
    },
    ...(end && end >= anomaly.anomalyStartDate ? { period: { start: anomaly.anomalyStartDate, end } } : {}),
    source: {
      system: "aws-cost-anomaly",
      id: anomaly.anomalyId,
      ...(anomaly.anomalyDetailsLink === undefined ? {} : { url: anomaly.anomalyDetailsLink }),
    },
    thread_key: anomalyThreadKey(anomaly),
    created_at: createdAt.toISOString(),
  };
}
