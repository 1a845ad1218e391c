import type { SlackMessage } from "#domain/alerts/slack-message.ts";

/** Where a message landed: the channel as the notifier names it (Slack's id) and the message's ts. */
export interface PostedMessage {
  channel: string;
  ts: string;
}

/** Sends rendered alert messages (Slack, or the console locally). */
export interface Notifier {
  post(channel: string, message: SlackMessage): Promise<PostedMessage>;
  /** Replaces a message posted before; `channel` is the one `post` returned. */
  update(channel: string, ts: string, message: SlackMessage): Promise<PostedMessage>;
}

/**
 * What a caller branches on:
 * - `channel`: the channel does not exist, is archived, or the bot is not in it: post elsewhere.
 * - `message`: the message to update is gone or can no longer be edited: post anew.
 * - `auth`: the token is missing, invalid, revoked or lacks a scope: permanent until an operator acts.
 * - `rate_limited`: Slack asked to wait longer than the call may; transient, the bus redelivers.
 * - `unavailable`: network, timeout or a 5xx; transient.
 * - `invalid`: Slack refused the message itself (too long, bad blocks); permanent for this message.
 */
export type NotifierErrorCode = "channel" | "message" | "auth" | "rate_limited" | "unavailable" | "invalid";

export class NotifierError extends Error {
  override readonly name = "NotifierError";
  readonly code: NotifierErrorCode;
  /** Slack's own error string ("channel_not_found"), when Slack gave one. */
  readonly reason: string | undefined;
  /** For `rate_limited`: the wait Slack asked for. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: NotifierErrorCode,
    message: string,
    options: ErrorOptions & { reason?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message, options);
    this.code = code;
    this.reason = options.reason;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** True when the same call may succeed later without anyone acting. */
  get retryable(): boolean {
    return this.code === "rate_limited" || this.code === "unavailable";
  }
}
