/**
 * Errors of the workload SDK. None of them is ever thrown into a request: the publisher and the
 * recorders hand them to an `onError` callback. Only the factories throw (`SdkConfigError`), at
 * start-up, when their options cannot produce valid events.
 */

/** `invalid_option`: an option is missing or out of range; `field` names it. */
export class SdkConfigError extends Error {
  override readonly name = "SdkConfigError";
  readonly code = "invalid_option";
  readonly field: string;

  constructor(field: string, message: string, options?: ErrorOptions) {
    super(`${field}: ${message}`, options);
    this.field = field;
  }
}

/**
 * `unavailable`: transient (network, timeout, 5xx, 429, bus unavailable); the publisher retries.
 * `rejected`: the receiver refused the batch as made (4xx, invalid message); retrying will not help.
 */
export type SendErrorCode = "unavailable" | "rejected";

/**
 * One event of a batch that the receiver refused for what is wrong with the event itself (an entry
 * of the ingest answer's `rejected`): resending it cannot help.
 */
export interface RejectedEvent {
  /** Position of the event in its batch. */
  index: number;
  /** Dotted path of the offending field ("data.gpu_seconds"); "" for the whole event. */
  field: string;
  reason: string;
  id?: string;
  source?: string;
}

export interface SendErrorOptions extends ErrorOptions {
  status?: number;
  /** How long the receiver asked to wait before trying again (an HTTP `Retry-After`). */
  retryAfterMs?: number;
  /** With a final refusal: the events the receiver named as bad (the others were refused with them). */
  rejected?: readonly RejectedEvent[];
}

/** What a `send` function throws so the publisher can tell a transient failure from a final one. */
export class SendError extends Error {
  override readonly name = "SendError";
  readonly code: SendErrorCode;
  /** The HTTP status, when the sender spoke HTTP. */
  readonly status: number | undefined;
  /** The receiver's `Retry-After`, in milliseconds, when it gave one. */
  readonly retryAfterMs: number | undefined;
  /** The events a final refusal named, one by one (an HTTP 400 ingest answer's `rejected`). */
  readonly rejected: readonly RejectedEvent[] | undefined;

  constructor(code: SendErrorCode, message: string, options?: SendErrorOptions) {
    super(message, options);
    this.code = code;
    this.status = options?.status;
    this.retryAfterMs = options?.retryAfterMs;
    this.rejected = options?.rejected;
  }

  get retryable(): boolean {
    return this.code === "unavailable";
  }
}

/**
 * `send_failed`: a batch was given up (attempts exhausted or a final rejection); `count` events lost.
 * `rejected`: the receiver refused `count` events of a batch for what is wrong with them (a 207 or
 *   400 ingest answer); `rejected` lists them. They are not resent: the same event would be refused.
 * `overflow`: the buffer was full and events were dropped (reported once per overflow episode).
 * `too_large`: one event is larger than a whole batch may be; dropped.
 * `unserializable`: an event could not be turned into JSON (a bigint, a cycle); dropped.
 * `closed`: events published after `close()`; dropped (reported once).
 * `abandoned`: `close()` reached its deadline with events still unsent; dropped.
 * `internal`: a recorder, tracker or the publisher itself failed unexpectedly (a bug); the event is
 *   lost, the request is unaffected.
 */
export type PublisherErrorCode =
  | "send_failed"
  | "rejected"
  | "overflow"
  | "too_large"
  | "unserializable"
  | "closed"
  | "abandoned"
  | "internal";

export class PublisherError extends Error {
  override readonly name = "PublisherError";
  readonly code: PublisherErrorCode;
  /** How many events the error concerns. */
  readonly count: number;
  /** With `rejected`: each refused event, its reason, and its id and source when known. */
  readonly rejected: readonly RejectedEvent[] | undefined;

  constructor(
    code: PublisherErrorCode,
    message: string,
    options?: ErrorOptions & { count?: number; rejected?: readonly RejectedEvent[] },
  ) {
    super(message, options);
    this.code = code;
    this.count = options?.count ?? 1;
    this.rejected = options?.rejected;
  }
}

/** Whether a failed send is worth another attempt: errors that say `retryable: false` are final. */
export function isRetryable(error: unknown): boolean {
  if (error !== null && typeof error === "object" && "retryable" in error) {
    return (error as { retryable: unknown }).retryable !== false;
  }
  return true;
}
