import { type Dialect, loadNamedSql } from "#adapters/sql/load-sql.ts";
import type { AlertKind, Severity } from "#domain/alerts/alert.ts";
import {
  type AlertDelivery,
  assertDelivery,
  assertRecentQuery,
  DELIVERY_SCOPE,
  type DeliveryScope,
  type RecentDeliveriesQuery,
} from "#ports/alert-log.ts";

export type AlertLogQuery = "create" | "record" | "find" | "find_thread" | "recent";

/** One named query of sql/<dialect>/alert_log.sql. */
export function alertLogQuery(
  dialect: Dialect,
  name: AlertLogQuery,
  identifiers: Record<string, string> = {},
) {
  return loadNamedSql(dialect, "alert_log", name, identifiers);
}

/** The bound values of the record query, the same in both dialects. */
export function recordParams(d: AlertDelivery) {
  assertDelivery(d);
  return {
    idempotency_key: d.idempotency_key,
    thread_key: d.thread_key ?? null,
    kind: d.kind,
    severity: d.severity,
    channel: d.channel,
    ts: d.ts,
    action: d.action,
    routed_channel: d.routed_channel ?? null,
    delivered_at_ms: BigInt(d.delivered_at.getTime()),
    title: d.title ?? null,
    team: d.scope.team ?? null,
    model: d.scope.model ?? null,
    business_unit: d.scope.business_unit ?? null,
  };
}

/** The bound values of the recent query, the same in both dialects. */
export function recentParams(query: RecentDeliveriesQuery) {
  assertRecentQuery(query);
  return {
    since_ms: BigInt(query.since.getTime()),
    until_ms: BigInt(query.until.getTime()),
    limit: BigInt(query.limit),
  };
}

/** A row of the find queries back as a delivery. */
export function deliveryOfRow(row: Record<string, unknown>): AlertDelivery {
  const text = (name: string) => {
    const value = row[name];
    return value === null || value === undefined ? undefined : String(value);
  };
  const scope: DeliveryScope = {};
  for (const d of DELIVERY_SCOPE) {
    const value = text(d);
    if (value !== undefined) scope[d] = value;
  }
  return {
    idempotency_key: String(row.idempotency_key),
    thread_key: text("thread_key"),
    kind: String(row.kind) as AlertKind,
    severity: String(row.severity) as Severity,
    channel: String(row.channel),
    ts: String(row.ts),
    action: row.action === "updated" ? "updated" : "posted",
    routed_channel: text("routed_channel"),
    delivered_at: new Date(Number(row.delivered_at_ms)),
    title: text("title"),
    scope,
  };
}
