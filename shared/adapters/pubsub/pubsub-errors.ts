import { BusError, type BusErrorCode } from "#ports/bus-error.ts";

/** gRPC status codes, as the Pub/Sub client reports them in an error's numeric `code`. */
export const GRPC_STATUS = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/**
 * The codes a later try of the same call may get past: the ones the Pub/Sub client itself retries
 * a publish on. Every other gRPC code (NOT_FOUND: no such topic or subscription; PERMISSION_DENIED;
 * INVALID_ARGUMENT; ...) fails the same way each time.
 */
const TRANSIENT: ReadonlySet<number> = new Set([
  GRPC_STATUS.CANCELLED,
  GRPC_STATUS.UNKNOWN,
  GRPC_STATUS.DEADLINE_EXCEEDED,
  GRPC_STATUS.RESOURCE_EXHAUSTED,
  GRPC_STATUS.ABORTED,
  GRPC_STATUS.INTERNAL,
  GRPC_STATUS.UNAVAILABLE,
]);

/** The gRPC status code an error carries (the client's errors and its PublishError do), if any. */
export function grpcCode(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  const code = error.code;
  return typeof code === "number" && Number.isInteger(code) && code >= 0 && code <= 16 ? code : undefined;
}

/**
 * The one classification of a Pub/Sub failure: `unavailable` (retryable: a BusError with it makes
 * `isRetryableError` true, so a handler throws and the message is redelivered) for the transient
 * gRPC codes and for failures that carry no gRPC code at all (a socket error, a credentials fetch
 * that timed out); `invalid` (permanent) for every other gRPC code.
 */
export function classifyPubSubError(error: unknown): BusErrorCode {
  if (error instanceof BusError) return error.code;
  const code = grpcCode(error);
  return code === undefined || TRANSIENT.has(code) ? "unavailable" : "invalid";
}

/** The longest reason quoted from a client error (gax appends every earlier attempt's error to its message). */
const MAX_REASON_CHARS = 500;

/** A Pub/Sub failure as the Bus port reports it: a BusError classified by `classifyPubSubError`, the cause kept. */
export function toBusError(what: string, error: unknown): BusError {
  if (error instanceof BusError) return error;
  const full = error instanceof Error ? error.message : String(error);
  const reason = full.length > MAX_REASON_CHARS ? `${full.slice(0, MAX_REASON_CHARS)}…` : full;
  return new BusError(classifyPubSubError(error), `${what}: ${reason}`, { cause: error });
}
