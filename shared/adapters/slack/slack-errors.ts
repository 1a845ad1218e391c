import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
} from "@slack/web-api";
import { NotifierError, type NotifierErrorCode } from "#ports/notifier.ts";

/** Slack's `error` strings by what the caller does about them (chat.postMessage and chat.update). */
const PLATFORM_CODES: Readonly<Record<string, NotifierErrorCode>> = {
  channel_not_found: "channel",
  not_in_channel: "channel",
  is_archived: "channel",
  no_permission: "channel",
  restricted_action_read_only_channel: "channel",
  restricted_action_thread_only_channel: "channel",
  message_not_found: "message",
  cant_update_message: "message",
  edit_window_closed: "message",
  invalid_auth: "auth",
  not_authed: "auth",
  account_inactive: "auth",
  token_revoked: "auth",
  token_expired: "auth",
  missing_scope: "auth",
  not_allowed_token_type: "auth",
  ekm_access_denied: "auth",
  restricted_action: "auth",
  ratelimited: "rate_limited",
  rate_limited: "rate_limited",
  fatal_error: "unavailable",
  internal_error: "unavailable",
  service_unavailable: "unavailable",
  request_timeout: "unavailable",
  team_added_to_org: "unavailable",
  org_login_required: "unavailable",
};

/** The NotifierError code of one of Slack's `error` strings; anything unknown is the message's fault. */
export function platformErrorCode(error: string): NotifierErrorCode {
  return PLATFORM_CODES[error] ?? "invalid";
}

/** Any failure of a WebClient call as a NotifierError (rate limits are handled before this). */
export function toNotifierError(error: unknown, method: string, channel: string): NotifierError {
  if (error instanceof NotifierError) return error;
  const where = `Slack ${method} to ${channel}`;
  if (error instanceof WebAPIPlatformError) {
    const reason = error.data.error;
    return new NotifierError(platformErrorCode(reason), `${where} failed: ${reason}`, {
      cause: error,
      reason,
    });
  }
  if (error instanceof WebAPIRateLimitedError) {
    return new NotifierError("rate_limited", `${where}: rate limited, retry after ${error.retryAfter} s`, {
      cause: error,
      reason: "ratelimited",
      retryAfterSeconds: error.retryAfter,
    });
  }
  if (error instanceof WebAPIHTTPError) {
    const transient = error.statusCode >= 500 || error.statusCode === 408;
    const code = transient ? "unavailable" : "invalid";
    return new NotifierError(code, `${where} failed: HTTP ${error.statusCode} ${error.statusMessage}`, {
      cause: error,
    });
  }
  if (error instanceof WebAPIRequestError) {
    return new NotifierError("unavailable", `${where} failed: ${error.original.message}`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new NotifierError("unavailable", `${where} failed: ${message}`, { cause: error });
}
