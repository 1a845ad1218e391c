import { type Alert, parseAlert } from "#domain/alerts/alert.ts";
import { type AlertRouting, explainRoute, type Route, type RouteRule } from "#domain/alerts/alert-routing.ts";
import { effectiveSeverity, SEVERITY_RANK } from "#domain/alerts/alert-severity.ts";
import { renderAlertMessage } from "#domain/alerts/slack-message.ts";
import { truncatePayload } from "#domain/events/decode-body.ts";
import { type AlertDelivery, type AlertLog, deliveryScope } from "#ports/alert-log.ts";
import type { Clock } from "#ports/clock.ts";
import type { Logger } from "#ports/logger.ts";
import { type Notifier, NotifierError, type PostedMessage } from "#ports/notifier.ts";

export interface NotifyAlertOptions {
  notifier: Notifier;
  alertLog: AlertLog;
  routing: AlertRouting;
  logger: Logger;
  clock: Clock;
}

interface Delivered extends PostedMessage {
  idempotency_key: string;
  /** False when the message went out but the alert log could not record it (logged as an error). */
  recorded: boolean;
}

/** What notify did with an alert. */
export type NotifyOutcome =
  | { status: "duplicate"; idempotency_key: string; channel: string; ts: string }
  | (Delivered & {
      status: "posted";
      rule: RouteRule;
      /** Set when the routed channel refused the message and the fallback channel took it. */
      fallback?: { from: string; reason: string };
    })
  | (Delivered & { status: "updated"; thread_key: string });

export type NotifyMessageOutcome = NotifyOutcome | { status: "rejected"; field: string; reason: string };

export interface NotifyAlert {
  /** Delivers one alert at most once per idempotency key. Throws NotifierError/AlertLogError to be retried. */
  notify(alert: Alert): Promise<NotifyOutcome>;
  /** The alerts topic's message body: a poison alert is logged and returned as rejected, never thrown. */
  notifyMessage(body: string | Buffer): Promise<NotifyMessageOutcome>;
}

const isNotifierError = (error: unknown, ...codes: NotifierError["code"][]): error is NotifierError =>
  error instanceof NotifierError && codes.includes(error.code);

/**
 * The notifier's use case: route, render, post or update, and remember. A key recorded before is not
 * posted again; an alert whose thread has a message updates it unless its severity rose; a channel
 * Slack refuses sends the alert to the fallback channel with a note, and the outcome reports it.
 */
export function createNotifyAlert(options: NotifyAlertOptions): NotifyAlert {
  const { notifier, alertLog, routing, logger, clock } = options;
  const locks = new Map<string, Promise<unknown>>();

  /** Runs one alert of a key or thread at a time in this process, so duplicates cannot race. */
  function exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const run = (locks.get(key) ?? Promise.resolve()).then(work);
    const settled = run.catch(() => undefined);
    locks.set(key, settled);
    void settled.then(() => locks.get(key) === settled && locks.delete(key));
    return run;
  }

  async function remember(
    alert: Alert,
    posted: PostedMessage,
    extra: Partial<AlertDelivery>,
  ): Promise<boolean> {
    const delivery: AlertDelivery = {
      idempotency_key: alert.idempotency_key,
      thread_key: alert.thread_key,
      kind: alert.kind,
      severity: effectiveSeverity(alert),
      title: alert.title,
      scope: deliveryScope(alert.scope),
      channel: posted.channel,
      ts: posted.ts,
      action: "posted",
      delivered_at: clock.now(),
      ...extra,
    };
    try {
      const first = await alertLog.record(delivery);
      if (!first)
        logger.warn("alert was recorded by another delivery meanwhile", { key: alert.idempotency_key });
      return true;
    } catch (error) {
      // Throwing now would make the bus redeliver an alert Slack already shows: post once, log loudly.
      logger.error("alert delivered but not recorded; a later redelivery could post it again", {
        key: alert.idempotency_key,
        channel: posted.channel,
        ts: posted.ts,
        error: String(error),
      });
      return false;
    }
  }

  async function postToFallback(alert: Alert, route: Route, refused: NotifierError): Promise<NotifyOutcome> {
    const fallback = routing.fallbackChannel;
    const reason = refused.reason ?? refused.message;
    logger.warn("alert channel refused the message; posting to the fallback channel", {
      key: alert.idempotency_key,
      channel: route.channel,
      reason,
      fallback,
    });
    const note = `Meant for ${route.channel}, which Slack refused (${reason}): invite the app there or fix the routing.`;
    const posted = await notifier.post(fallback, renderAlertMessage(alert, { note }));
    const recorded = await remember(alert, posted, { routed_channel: route.channel });
    const outcome = { ...posted, idempotency_key: alert.idempotency_key, recorded, rule: route.rule };
    return { status: "posted", ...outcome, fallback: { from: route.channel, reason } };
  }

  async function postNew(alert: Alert): Promise<NotifyOutcome> {
    const route = explainRoute(alert, routing);
    let posted: PostedMessage;
    try {
      posted = await notifier.post(route.channel, renderAlertMessage(alert));
    } catch (error) {
      if (!isNotifierError(error, "channel") || route.channel === routing.fallbackChannel) throw error;
      return postToFallback(alert, route, error);
    }
    const recorded = await remember(alert, posted, {});
    return {
      status: "posted",
      ...posted,
      idempotency_key: alert.idempotency_key,
      recorded,
      rule: route.rule,
    };
  }

  /** Updates the thread's message; undefined when that message is gone or its channel refuses. */
  async function updateThread(alert: Alert, thread: AlertDelivery, threadKey: string) {
    const note = thread.routed_channel === undefined ? undefined : `Meant for ${thread.routed_channel}.`;
    const message = renderAlertMessage(alert, note === undefined ? {} : { note });
    let posted: PostedMessage;
    try {
      posted = await notifier.update(thread.channel, thread.ts, message);
    } catch (error) {
      if (!isNotifierError(error, "message", "channel")) throw error;
      logger.warn("thread message cannot be updated; posting anew", {
        key: alert.idempotency_key,
        reason: error.reason,
      });
      return undefined;
    }
    const recorded = await remember(alert, posted, {
      action: "updated",
      routed_channel: thread.routed_channel,
    });
    return {
      status: "updated" as const,
      ...posted,
      idempotency_key: alert.idempotency_key,
      recorded,
      thread_key: threadKey,
    };
  }

  async function deliver(alert: Alert): Promise<NotifyOutcome> {
    const done = await alertLog.find(alert.idempotency_key);
    if (done) {
      logger.info("alert already delivered; not posting it again", {
        key: alert.idempotency_key,
        ts: done.ts,
      });
      return {
        status: "duplicate",
        idempotency_key: done.idempotency_key,
        channel: done.channel,
        ts: done.ts,
      };
    }
    const threadKey = alert.thread_key;
    const thread = threadKey === undefined ? undefined : await alertLog.findThread(threadKey);
    const rose =
      thread !== undefined && SEVERITY_RANK[effectiveSeverity(alert)] > SEVERITY_RANK[thread.severity];
    if (thread !== undefined && threadKey !== undefined && !rose) {
      const updated = await updateThread(alert, thread, threadKey);
      if (updated) return updated;
    }
    return postNew(alert);
  }

  async function notify(alert: Alert): Promise<NotifyOutcome> {
    try {
      const outcome = await exclusive(alert.thread_key ?? alert.idempotency_key, () => deliver(alert));
      logger.info("alert notified", { ...outcome });
      return outcome;
    } catch (error) {
      const retryable = (error as { retryable?: unknown }).retryable === true;
      logger[retryable ? "warn" : "error"]("alert not delivered; the bus will redeliver it", {
        key: alert.idempotency_key,
        code: (error as { code?: unknown }).code,
        retryable,
        error: String(error),
      });
      throw error;
    }
  }

  async function notifyMessage(body: string | Buffer): Promise<NotifyMessageOutcome> {
    const text = typeof body === "string" ? body : body.toString("utf8");
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      return reject("body", `body: not JSON (${(error as Error).message})`, text);
    }
    const parsed = parseAlert(raw);
    return parsed.ok ? notify(parsed.alert) : reject(parsed.field, parsed.reason, text);
  }

  function reject(field: string, reason: string, text: string): NotifyMessageOutcome {
    logger.error("poison alert acknowledged and dropped", {
      field,
      reason,
      payload: truncatePayload(text, 2048),
    });
    return { status: "rejected", field, reason };
  }

  return { notify, notifyMessage };
}
