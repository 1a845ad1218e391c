import type { Alert, AlertKind, Severity } from "#domain/alerts/alert.ts";
import type { Dimension } from "#domain/cost-row.ts";

/** The scope dimensions the log keeps of an alert: those the dashboard filters its recent alerts by. */
export const DELIVERY_SCOPE = ["team", "model", "business_unit"] as const satisfies readonly Dimension[];
export type DeliveryScope = Partial<Record<(typeof DELIVERY_SCOPE)[number], string>>;

/** The part of an alert's scope the log keeps. */
export function deliveryScope(scope: Alert["scope"]): DeliveryScope {
  const kept: DeliveryScope = {};
  for (const d of DELIVERY_SCOPE) if (scope[d] !== undefined) kept[d] = scope[d];
  return kept;
}

/**
 * One message the notifier delivered for an alert: where it is, so it is never posted twice, and what
 * it was about, for the dashboard's recent alerts.
 */
export interface AlertDelivery {
  idempotency_key: string;
  thread_key?: string | undefined;
  kind: AlertKind;
  severity: Severity;
  /** The alert's title; absent for a delivery logged before titles were kept. */
  title?: string | undefined;
  /** The alert's scope values of DELIVERY_SCOPE; empty for a delivery logged before scopes were kept. */
  scope: DeliveryScope;
  /** The channel and ts of the Slack message (for an update, the message updated). */
  channel: string;
  ts: string;
  action: "posted" | "updated";
  /** The channel routing chose, when the message went to the fallback channel instead. */
  routed_channel?: string | undefined;
  delivered_at: Date;
}

/** The notifier's memory of what it delivered, keyed by the alert's idempotency key. */
export interface AlertLog {
  /** Creates what the log needs (tables); idempotent. */
  init(): Promise<void>;
  /** Records a delivery; false when the key was already recorded (the first record stays). */
  record(delivery: AlertDelivery): Promise<boolean>;
  find(idempotencyKey: string): Promise<AlertDelivery | undefined>;
  /**
   * The message later alerts of a thread update: the thread's posted message of the highest severity,
   * the latest of those (by delivered_at, then ts).
   */
  findThread(threadKey: string): Promise<AlertDelivery | undefined>;
  /** Deliveries in [since, until), newest first (by delivered_at, then ts), at most `limit`. */
  recent(query: RecentDeliveriesQuery): Promise<AlertDelivery[]>;
  close(): Promise<void>;
}

export interface RecentDeliveriesQuery {
  since: Date;
  until: Date;
  /** 1 to MAX_RECENT_DELIVERIES. */
  limit: number;
}

export const MAX_RECENT_DELIVERIES = 1000;

/** `unavailable`: transient (I/O, a lock, the log is closed); `invalid`: a value the log cannot hold. */
export type AlertLogErrorCode = "unavailable" | "invalid";

export class AlertLogError extends Error {
  override readonly name = "AlertLogError";
  readonly code: AlertLogErrorCode;

  constructor(code: AlertLogErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }

  get retryable(): boolean {
    return this.code === "unavailable";
  }
}

/** Throws an `invalid` AlertLogError for a delivery no adapter can store; every adapter calls it first. */
export function assertDelivery(delivery: AlertDelivery): void {
  const time = delivery.delivered_at instanceof Date ? delivery.delivered_at.getTime() : Number.NaN;
  if (!Number.isFinite(time))
    throw new AlertLogError("invalid", "alert log record: delivered_at must be a valid date");
  for (const field of ["idempotency_key", "channel", "ts"] as const) {
    if (typeof delivery[field] !== "string" || delivery[field] === "") {
      throw new AlertLogError("invalid", `alert log record: ${field} is required`);
    }
  }
}

/** Throws an `invalid` AlertLogError for a recent-deliveries query no adapter can run; every adapter calls it first. */
export function assertRecentQuery({ since, until, limit }: RecentDeliveriesQuery): void {
  for (const [field, at] of [
    ["since", since],
    ["until", until],
  ] as const) {
    if (!(at instanceof Date) || !Number.isFinite(at.getTime())) {
      throw new AlertLogError("invalid", `alert log recent: ${field} must be a valid date`);
    }
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RECENT_DELIVERIES) {
    throw new AlertLogError(
      "invalid",
      `alert log recent: limit must be a whole number 1..${MAX_RECENT_DELIVERIES}`,
    );
  }
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Newest first: delivered_at and ts descending, then key ascending, as the SQL twins order (binary collation). */
export function compareNewestFirst(a: AlertDelivery, b: AlertDelivery): number {
  const time = b.delivered_at.getTime() - a.delivered_at.getTime();
  if (time !== 0) return time;
  return byCodeUnit(b.ts, a.ts) || byCodeUnit(a.idempotency_key, b.idempotency_key);
}

const RANK: Readonly<Record<Severity, number>> = { info: 0, warning: 1, critical: 2 };

/** The message a thread's later alerts update (see AlertLog.findThread), from the thread's deliveries. */
export function threadMessage(deliveries: Iterable<AlertDelivery>): AlertDelivery | undefined {
  let best: AlertDelivery | undefined;
  for (const d of deliveries) {
    if (d.action !== "posted") continue;
    if (best === undefined || compareThreadOrder(d, best) > 0) best = d;
  }
  return best;
}

function compareThreadOrder(a: AlertDelivery, b: AlertDelivery): number {
  const rank = RANK[a.severity] - RANK[b.severity];
  if (rank !== 0) return rank;
  const time = a.delivered_at.getTime() - b.delivered_at.getTime();
  if (time !== 0) return time;
  return a.ts.localeCompare(b.ts, "en", { numeric: true });
}
