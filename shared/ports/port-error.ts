/**
 * What an edge branches on when a port fails:
 * - `unavailable`: transient (network, timeout, quota, a lock, a server failing); the same call may
 *   succeed later, so a function throws and the bus redelivers, or an HTTP edge answers 503.
 * - `invalid`: permanent for this input; retrying the same call fails the same way.
 */
export type PortErrorCode = "unavailable" | "invalid";

/** The base of every port's error: a code to branch on, the cause kept. */
export abstract class PortError extends Error {
  readonly code: PortErrorCode;

  constructor(code: PortErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }

  /** True when the same call may succeed later. */
  get retryable(): boolean {
    return this.code === "unavailable";
  }
}

/** Whether a failure is worth retrying later: a port said it is unavailable. */
export function isRetryableError(error: unknown): boolean {
  return error instanceof PortError && error.retryable;
}

/**
 * The error of a port over a system the functions read from (Kubecost or OpenCost, Prometheus,
 * MLflow, a cloud's billing API). Its `invalid` is that system's doing (it refused the call, or
 * answered something that is not what it documents), not the caller's: an HTTP edge answers 502
 * with the message, which names the call and what came back.
 */
export abstract class SourceError extends PortError {}
