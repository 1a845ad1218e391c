import { anomalyStateKey, buildAnomalyAlert } from "#domain/aws-anomaly/anomaly-alert.ts";
import { parseAnomaly } from "#domain/aws-anomaly/anomaly-notification.ts";
import type { AwsAnomaliesSettings } from "#domain/aws-anomaly/aws-anomaly-settings.ts";
import { numberToNanos } from "#domain/money.ts";
import { parseSnsMessage, type SnsMessage, topicArnParts } from "#domain/sns/sns-message.ts";
import {
  assertSnsSignature,
  createSnsCertificateCache,
  isSnsUrl,
  type SnsCertificateCache,
  SnsVerificationError,
} from "#domain/sns/sns-signature.ts";
import { type Bus, TOPICS } from "#ports/bus.ts";
import { BusError } from "#ports/bus-error.ts";
import type { Clock } from "#ports/clock.ts";
import { type Logger, silentLogger } from "#ports/logger.ts";
import { type SeenStore, SeenStoreError } from "#ports/seen-store.ts";
import { alertMessage } from "./route-gcp-budget.ts";

/**
 * AWS Cost Anomaly Detection through SNS HTTP/S deliveries → alerts. Every message must come from
 * a configured topic, be fresh, carry a valid SNS signature and not have been processed before;
 * anything else is refused with a 4xx and no alert. A signing certificate that cannot be fetched
 * fails closed with a 503, so SNS retries.
 */
export interface RouteAwsAnomalyDeps {
  bus: Bus;
  /** Processed MessageIds and each anomaly's highest impact so far. */
  seen: SeenStore;
  clock: Clock;
  settings: AwsAnomaliesSettings;
  /** For the signing certificates and SubscribeURL; default the global fetch. */
  fetch?: typeof globalThis.fetch;
  /** Default: a cache over `fetch` trusting certificates for settings.certificateTtlSeconds. */
  certificates?: SnsCertificateCache;
  /** Default TOPICS.alerts. */
  topic?: string;
  /** Per outgoing request (certificate, SubscribeURL). Default 5 s. */
  timeoutMs?: number;
  logger?: Logger;
}

/** An HTTP delivery as the function received it. */
export interface SnsDelivery {
  body: string | Buffer;
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

export type SnsOutcome =
  | "alerted"
  | "unchanged"
  | "confirmed"
  | "unsubscribed"
  | "ignored"
  | "malformed"
  | "unsigned"
  | "forged"
  | "bad_cert_url"
  | "bad_subscribe_url"
  | "other_topic"
  | "stale"
  | "replayed"
  | "unavailable";

export interface SnsAnswer {
  status: number;
  headers: Record<string, string>;
  body: { outcome: SnsOutcome; detail?: string; idempotency_key?: string };
}

export interface RouteAwsAnomaly {
  /** Answers one delivery. Throws only on a bug; transient failures answer 503. */
  handle(delivery: SnsDelivery): Promise<SnsAnswer>;
}

/** The Runtime property the routeAwsAnomaly function reads (absent when `awsAnomalies` is not configured). */
export interface RouteAwsAnomalyRuntime {
  routeAwsAnomaly?: RouteAwsAnomaly;
}

export type RouteAwsAnomalyErrorCode = "unavailable";

/** `unavailable`: the SubscribeURL could not be reached or refused the confirmation; SNS should retry. */
export class RouteAwsAnomalyError extends Error {
  override readonly name = "RouteAwsAnomalyError";
  readonly code: RouteAwsAnomalyErrorCode;

  constructor(code: RouteAwsAnomalyErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** A Timestamp this far ahead of the clock is refused too (clock skew allowance). */
const MAX_SKEW_MS = 5 * 60 * 1000;

function answer(
  status: number,
  outcome: SnsOutcome,
  detail?: string,
  extra: { idempotency_key?: string } = {},
): SnsAnswer {
  const headers: Record<string, string> = status === 503 ? { "Retry-After": "30" } : {};
  return { status, headers, body: { outcome, ...(detail === undefined ? {} : { detail }), ...extra } };
}

function header(headers: SnsDelivery["headers"], name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return typeof value === "string" ? value : value?.[0];
}

function isTransient(error: unknown): boolean {
  return (
    (error instanceof SeenStoreError && error.code === "unavailable") ||
    (error instanceof BusError && error.code === "unavailable") ||
    error instanceof RouteAwsAnomalyError
  );
}

/** The SubscribeURL may only lead to the SNS endpoint of the topic's own region. */
export function isSubscribeUrlFor(url: string, topicArn: string): boolean {
  const parts = topicArnParts(topicArn);
  if (!parts || !isSnsUrl(url)) return false;
  const host = new URL(url).hostname;
  const suffix = parts.partition === "aws-cn" ? ".amazonaws.com.cn" : ".amazonaws.com";
  return host === `sns.${parts.region}${suffix}`;
}

export function createRouteAwsAnomaly(deps: RouteAwsAnomalyDeps): RouteAwsAnomaly {
  const { settings, seen } = deps;
  const logger = deps.logger ?? silentLogger;
  const topic = deps.topic ?? TOPICS.alerts;
  const doFetch = deps.fetch ?? globalThis.fetch;
  const timeoutMs = deps.timeoutMs ?? 5000;
  const certificates =
    deps.certificates ??
    createSnsCertificateCache({
      fetch: doFetch,
      ttlMs: settings.certificateTtlSeconds * 1000,
      timeoutMs,
      now: () => deps.clock.now(),
    });
  const topics = new Set(settings.topicArns);

  /** Whatever fails the checks before the signature: undefined when the message may be verified. */
  function precheck(message: SnsMessage, delivery: SnsDelivery, now: Date): SnsAnswer | undefined {
    const type = header(delivery.headers, "x-amz-sns-message-type");
    if (type !== undefined && type !== message.Type) {
      return answer(400, "malformed", `x-amz-sns-message-type ${type} does not match Type ${message.Type}`);
    }
    const arn = header(delivery.headers, "x-amz-sns-topic-arn");
    if (arn !== undefined && arn !== message.TopicArn) {
      return answer(400, "malformed", "x-amz-sns-topic-arn does not match TopicArn");
    }
    if (!topics.has(message.TopicArn)) {
      return answer(403, "other_topic", `TopicArn ${message.TopicArn} is not a configured topic`);
    }
    const sent = Date.parse(message.Timestamp);
    const age = now.getTime() - sent;
    if (age > settings.maxAgeSeconds * 1000 || age < -MAX_SKEW_MS) {
      return answer(403, "stale", `Timestamp ${message.Timestamp} is outside the accepted window`);
    }
    return undefined;
  }

  async function verify(message: SnsMessage, now: Date): Promise<SnsAnswer | undefined> {
    try {
      await assertSnsSignature(message, certificates, now);
      return undefined;
    } catch (error) {
      if (!(error instanceof SnsVerificationError)) throw error;
      logger.warn("sns message refused", {
        code: error.code,
        reason: error.message,
        messageId: message.MessageId,
      });
      if (error.code === "cert_unavailable") return answer(503, "unavailable", error.message);
      return answer(403, error.code === "bad_cert_url" ? "bad_cert_url" : "forged", error.message);
    }
  }

  async function confirm(message: SnsMessage): Promise<SnsAnswer> {
    const url = message.SubscribeURL ?? "";
    if (!isSubscribeUrlFor(url, message.TopicArn)) {
      return answer(403, "bad_subscribe_url", "SubscribeURL is not the SNS endpoint of the topic's region");
    }
    let response: Response;
    try {
      response = await doFetch(url, { redirect: "error", signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new RouteAwsAnomalyError(
        "unavailable",
        `SubscribeURL could not be reached: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    if (!response.ok) {
      throw new RouteAwsAnomalyError("unavailable", `SubscribeURL answered HTTP ${response.status}`);
    }
    logger.info("sns subscription confirmed", { topicArn: message.TopicArn });
    return answer(200, "confirmed");
  }

  async function notify(message: SnsMessage, now: Date): Promise<SnsAnswer> {
    const parsed = parseAnomaly(message.Message);
    if (!parsed.ok) {
      logger.warn("sns notification is not a cost anomaly", {
        reason: parsed.reason,
        messageId: message.MessageId,
      });
      return answer(422, "ignored", parsed.reason);
    }
    const anomaly = parsed.anomaly;
    const key = anomalyStateKey(anomaly);
    const impact = numberToNanos(anomaly.impact.totalImpact);
    const previous = await seen.claim(key, impact);
    if (previous !== undefined && previous >= impact) {
      return answer(200, "unchanged", `anomaly ${anomaly.anomalyId} has not grown`);
    }
    const alert = buildAnomalyAlert(anomaly, settings, now);
    try {
      await deps.bus.publish(topic, [alertMessage(alert)]);
    } catch (error) {
      await seen.release(key, impact, previous).catch((releaseError: unknown) => {
        logger.error("aws anomaly: could not release the impact claim", { key, error: String(releaseError) });
      });
      throw error;
    }
    logger.info("aws anomaly alert routed", { anomalyId: anomaly.anomalyId, key: alert.idempotency_key });
    return answer(200, "alerted", undefined, { idempotency_key: alert.idempotency_key });
  }

  async function act(message: SnsMessage, now: Date): Promise<SnsAnswer> {
    if (message.Type === "SubscriptionConfirmation") return confirm(message);
    if (message.Type === "UnsubscribeConfirmation") {
      logger.warn("sns subscription removed", { topicArn: message.TopicArn });
      return answer(200, "unsubscribed");
    }
    return notify(message, now);
  }

  return {
    async handle(delivery) {
      const parsed = parseSnsMessage(delivery.body);
      if (!parsed.ok) {
        const unsigned = ["Signature", "SignatureVersion", "SigningCertURL"].includes(parsed.field);
        return answer(400, unsigned ? "unsigned" : "malformed", parsed.reason);
      }
      const message = parsed.message;
      const now = deps.clock.now();
      const refused = precheck(message, delivery, now) ?? (await verify(message, now));
      if (refused) return refused;
      const messageKey = `sns-message:${message.MessageId}`;
      const sent = BigInt(Date.parse(message.Timestamp));
      let claimed = false;
      try {
        const previous = await seen.claim(messageKey, sent);
        if (previous !== undefined) {
          return answer(409, "replayed", `MessageId ${message.MessageId} was already processed`);
        }
        claimed = true;
        return await act(message, now);
      } catch (error) {
        // Not processed: a retry of this MessageId must not be taken for a replay.
        if (claimed) await seen.release(messageKey, sent, undefined).catch(() => undefined);
        if (!isTransient(error)) throw error;
        logger.warn("sns delivery failed, SNS will retry", {
          messageId: message.MessageId,
          error: String(error),
        });
        return answer(503, "unavailable", (error as Error).message);
      }
    },
  };
}
