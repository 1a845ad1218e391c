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

/** What a `send` function throws so the publisher can tell a transient failure from a final one. */
export class SendError extends Error {
  override readonly name = "SendError";
  readonly code: SendErrorCode;
  /** The HTTP status, when the sender spoke HTTP. */
  readonly status: number | undefined;

  constructor(code: SendErrorCode, message: string, options?: ErrorOptions & { status?: number }) {
    super(message, options);
    this.code = code;
    this.status = options?.status;
  }

  get retryable(): boolean {
    return this.code === "unavailable";
  }
}

/**
 * `send_failed`: a batch was given up (attempts exhausted or a final rejection); `count` events lost.
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

  constructor(code: PublisherErrorCode, message: string, options?: ErrorOptions & { count?: number }) {
    super(message, options);
    this.code = code;
    this.count = options?.count ?? 1;
  }
}

/** Whether a failed send is worth another attempt: errors that say `retryable: false` are final. */
export function isRetryable(error: unknown): boolean {
  if (error !== null && typeof error === "object" && "retryable" in error) {
    return (error as { retryable: unknown }).retryable !== false;
  }
  return true;
}
