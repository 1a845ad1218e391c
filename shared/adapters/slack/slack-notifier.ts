import { setTimeout as delay } from "node:timers/promises";
import {
  LogLevel,
  type RetryOptions,
  type Logger as SlackLogger,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebClient,
} from "@slack/web-api";
import type { SlackMessage } from "#domain/alerts/slack-message.ts";
import type { Logger } from "#ports/logger.ts";
import { type Notifier, NotifierError, type PostedMessage } from "#ports/notifier.ts";
import { toNotifierError } from "./slack-errors.ts";

/**
 * Retries inside one call for network faults and 5xx only, about a second in all: a function's
 * invocation is short, and the bus redelivers what still fails. (The SDK's default policy retries for
 * about half an hour.)
 */
export const SHORT_RETRY_POLICY: RetryOptions = { retries: 2, factor: 2, minTimeout: 250, maxTimeout: 1000 };

export interface SlackNotifierOptions {
  /** A ready client (tests); otherwise one is built from token and apiUrl. */
  client?: WebClient;
  /** The bot token (SLACK_BOT_TOKEN); never logged. */
  token?: string;
  /** Another base URL for Slack's Web API (SLACK_API_URL), e.g. a local stand-in. */
  apiUrl?: string;
  logger: Logger;
  /** The longest total wait for Retry-After one call may spend; a longer ask fails as rate_limited. */
  maxRetryAfterSeconds: number;
  /** How many times one call is retried after a 429 that fits the budget. Default 1. */
  maxRateLimitRetries?: number;
  retryConfig?: RetryOptions;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Our logger under the SDK's Logger interface (the SDK redacts tokens from what it logs). */
export function slackLoggerOf(logger: Logger): SlackLogger {
  const line = (parts: unknown[]) =>
    parts.map((p) => (typeof p === "string" ? p : JSON.stringify(p))).join(" ");
  let level = LogLevel.INFO;
  return {
    debug: (...m: unknown[]) => logger.debug(line(m), { component: "slack" }),
    info: (...m: unknown[]) => logger.info(line(m), { component: "slack" }),
    warn: (...m: unknown[]) => logger.warn(line(m), { component: "slack" }),
    error: (...m: unknown[]) => logger.error(line(m), { component: "slack" }),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

/** The SDK joins the base URL and the method name as they are, so the base must end with "/". */
function withSlash(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}

export function createSlackClient(options: SlackNotifierOptions): WebClient {
  if (options.client) return options.client;
  if (!options.token) throw new NotifierError("auth", "createSlackNotifier: a bot token is required");
  return new WebClient(options.token, {
    ...(options.apiUrl ? { slackApiUrl: withSlash(options.apiUrl) } : {}),
    logger: slackLoggerOf(options.logger),
    rejectRateLimitedCalls: true,
    retryConfig: options.retryConfig ?? SHORT_RETRY_POLICY,
    timeout: options.timeoutMs ?? 10_000,
  });
}

/** Seconds Slack asked to wait, when the failure is a rate limit; undefined for every other failure. */
function rateLimitWait(error: unknown): number | undefined {
  if (error instanceof WebAPIRateLimitedError) return error.retryAfter;
  const limited = error instanceof WebAPIPlatformError && /^rate_?limited$/.test(error.data.error);
  return limited ? (error.data.response_metadata?.retryAfter ?? Number.POSITIVE_INFINITY) : undefined;
}

function rateLimitedError(error: unknown, wait: number, method: string, channel: string): NotifierError {
  const known = Number.isFinite(wait);
  const reason = error instanceof WebAPIPlatformError ? error.data.error : "ratelimited";
  const after = known ? ` (retry after ${wait} s)` : "";
  return new NotifierError("rate_limited", `Slack ${method} to ${channel}: rate limited${after}`, {
    cause: error,
    reason,
    ...(known ? { retryAfterSeconds: wait } : {}),
  });
}

function requiredTs(result: { ts?: string; channel?: string }, channel: string, method: string) {
  if (!result.ts)
    throw new NotifierError("unavailable", `Slack ${method} to ${channel} answered without a ts`);
  return { channel: result.channel ?? channel, ts: result.ts };
}

/**
 * The Notifier on Slack's Web API through the real WebClient. Rate limits are rejected by the client
 * and honoured here only while the wait fits `maxRetryAfterSeconds`; past it the call fails with a
 * transient `rate_limited` NotifierError so the bus redelivers later.
 */
export function createSlackNotifier(options: SlackNotifierOptions): Notifier {
  const client = createSlackClient(options);
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const maxRetries = options.maxRateLimitRetries ?? 1;

  async function call<T>(method: string, channel: string, send: () => Promise<T>): Promise<T> {
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        const wait = rateLimitWait(error);
        if (wait === undefined) throw toNotifierError(error, method, channel);
        if (attempt >= maxRetries || waited + wait > options.maxRetryAfterSeconds) {
          throw rateLimitedError(error, wait, method, channel);
        }
        options.logger.warn("slack rate limited; waiting as asked", {
          method,
          channel,
          retryAfterSeconds: wait,
        });
        await sleep(wait * 1000);
        waited += wait;
      }
    }
  }

  return {
    async post(channel: string, message: SlackMessage): Promise<PostedMessage> {
      const result = await call("chat.postMessage", channel, () =>
        client.chat.postMessage({ channel, ...message, unfurl_links: false, unfurl_media: false }),
      );
      return requiredTs(result, channel, "chat.postMessage");
    },
    async update(channel: string, ts: string, message: SlackMessage): Promise<PostedMessage> {
      const result = await call("chat.update", channel, () =>
        client.chat.update({ channel, ts, ...message }),
      );
      return requiredTs(result, channel, "chat.update");
    },
  };
}
