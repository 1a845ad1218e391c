import { type Alert, alertToJson } from "#domain/alerts/alert.ts";
import type { PubSubMessage } from "#domain/events/decode-body.ts";
import {
  type BudgetCrossing,
  budgetCrossings,
  budgetStateKey,
  buildBudgetAlert,
  thresholdValue,
} from "#domain/gcp-budget/budget-alert.ts";
import { parseBudgetNotification } from "#domain/gcp-budget/budget-notification.ts";
import {
  DEFAULT_GCP_BUDGETS_SETTINGS,
  type GcpBudgetsSettings,
} from "#domain/gcp-budget/gcp-budget-settings.ts";
import { type Bus, type BusMessage, TOPICS } from "#ports/bus.ts";
import { BUS_LIMITS, truncateUtf8 } from "#ports/bus-error.ts";
import type { Clock } from "#ports/clock.ts";
import { type Logger, silentLogger } from "#ports/logger.ts";
import type { SeenStore } from "#ports/seen-store.ts";

/**
 * Cloud Billing budget notifications → alerts. Google sends the budget's status many times a day;
 * an alert goes out only when the actual (alertThresholdExceeded) or forecast
 * (forecastThresholdExceeded) threshold rises for the budget's period, so repeats, replays and
 * late lower thresholds are silent.
 */
export interface RouteGcpBudgetDeps {
  bus: Bus;
  /** Highest threshold seen per (budgetId, costIntervalStart, kind). */
  seen: SeenStore;
  clock: Clock;
  settings?: GcpBudgetsSettings;
  /** Default TOPICS.alerts. */
  topic?: string;
  /** Where a notification that fails validation goes, with its reason; absent: logged and dropped. */
  deadLetterTopic?: string;
  logger?: Logger;
}

/** A delivered budget notification: the Pub/Sub message's data (decoded bytes) and attributes. */
export interface BudgetMessage {
  data: string | Buffer;
  attributes: Readonly<Record<string, string>> | null | undefined;
  messageId?: string;
}

export type BudgetRouteResult =
  | { outcome: "alerted"; alerts: Alert[] }
  /** A routine status update: no threshold crossed. */
  | { outcome: "status"; alerts: [] }
  /** Every reported threshold was already alerted for this period (a repeat, a replay, or a late lower one). */
  | { outcome: "unchanged"; alerts: [] }
  | { outcome: "rejected"; alerts: []; field: string; reason: string };

export interface RouteGcpBudget {
  /** Routes one notification. Throws only on transient failures (seen-store, bus), so Pub/Sub redelivers. */
  route(message: BudgetMessage): Promise<BudgetRouteResult>;
}

/** The Runtime property the routeGcpBudget function reads (see the wiring in compose). */
export interface RouteGcpBudgetRuntime {
  routeGcpBudget?: RouteGcpBudget;
}

/** The data and attributes of a Pub/Sub message (a messagePublished CloudEvent's `data.message`). */
export function budgetMessageOf(message: PubSubMessage | undefined): BudgetMessage {
  const data = Buffer.from(typeof message?.data === "string" ? message.data : "", "base64");
  const messageId = message?.messageId ?? message?.message_id;
  return { data, attributes: message?.attributes, ...(messageId === undefined ? {} : { messageId }) };
}

export function alertMessage(alert: Alert): BusMessage {
  return {
    data: Buffer.from(alertToJson(alert)),
    attributes: { kind: alert.kind, severity: alert.severity, idempotency_key: alert.idempotency_key },
  };
}

interface Claimed {
  key: string;
  value: bigint;
  previous: bigint | undefined;
  crossing: BudgetCrossing;
}

export function createRouteGcpBudget(deps: RouteGcpBudgetDeps): RouteGcpBudget {
  const settings = deps.settings ?? DEFAULT_GCP_BUDGETS_SETTINGS;
  const topic = deps.topic ?? TOPICS.alerts;
  const logger = deps.logger ?? silentLogger;

  async function reject(message: BudgetMessage, field: string, reason: string): Promise<BudgetRouteResult> {
    logger.warn("gcp budget notification rejected", { field, reason, messageId: message.messageId });
    if (deps.deadLetterTopic) {
      await deps.bus.publish(deps.deadLetterTopic, [
        {
          data: Buffer.isBuffer(message.data) ? message.data : Buffer.from(message.data),
          attributes: {
            ...(message.attributes ?? {}),
            rejected_field: truncateUtf8(field, BUS_LIMITS.maxAttributeValueBytes),
            rejected_reason: truncateUtf8(reason, BUS_LIMITS.maxAttributeValueBytes),
          },
        },
      ]);
    }
    return { outcome: "rejected", alerts: [], field, reason };
  }

  async function releaseAll(claimed: readonly Claimed[]): Promise<void> {
    for (const c of claimed.toReversed()) {
      try {
        await deps.seen.release(c.key, c.value, c.previous);
      } catch (error) {
        logger.error("gcp budget: could not release a threshold claim", { key: c.key, error: String(error) });
      }
    }
  }

  return {
    async route(message) {
      const parsed = parseBudgetNotification(message.attributes, message.data);
      if (!parsed.ok) return reject(message, parsed.field, parsed.reason);
      const notification = parsed.notification;
      const crossings = budgetCrossings(notification);
      if (crossings.length === 0) return { outcome: "status", alerts: [] };
      const claimed: Claimed[] = [];
      try {
        for (const crossing of crossings) {
          const key = budgetStateKey(notification, crossing.kind);
          const value = thresholdValue(crossing);
          const previous = await deps.seen.claim(key, value);
          if (previous === undefined || previous < value) claimed.push({ key, value, previous, crossing });
        }
        if (claimed.length === 0) return { outcome: "unchanged", alerts: [] };
        const now = deps.clock.now();
        const alerts = claimed.map((c) => buildBudgetAlert(notification, c.crossing, settings, now));
        await deps.bus.publish(topic, alerts.map(alertMessage));
        logger.info("gcp budget alert routed", {
          budgetId: notification.attributes.budgetId,
          keys: alerts.map((a) => a.idempotency_key),
        });
        return { outcome: "alerted", alerts };
      } catch (error) {
        // Nothing was alerted: put the thresholds back so the redelivery alerts.
        await releaseAll(claimed);
        throw error;
      }
    },
  };
}
