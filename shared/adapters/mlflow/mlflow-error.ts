/**
 * Codes of errors raised on this side of the wire; a server error keeps the server's `error_code`
 * (RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE, RESOURCE_ALREADY_EXISTS, ...) as its code.
 */
export const LOCAL_ERROR_CODES = {
  /** No answer within timeoutMs. */
  timeout: "TIMEOUT",
  /** The request did not reach the server (refused, reset, DNS). */
  unavailable: "UNAVAILABLE",
  /** The server answered with something that is not the documented body. */
  badResponse: "BAD_RESPONSE",
  /** The request was refused before sending (a key, value or currency MLflow would not take). */
  invalidArgument: "INVALID_ARGUMENT",
  /** The experiment exists but is deleted: its name is taken and its runs cannot be written. */
  experimentDeleted: "EXPERIMENT_DELETED",
} as const;

/** Server codes that say "try again later" (databricks/mlflow ErrorCode). */
const RETRYABLE_CODES = new Set([
  LOCAL_ERROR_CODES.timeout,
  LOCAL_ERROR_CODES.unavailable,
  "TEMPORARILY_UNAVAILABLE",
  "REQUEST_LIMIT_EXCEEDED",
  "INTERNAL_ERROR",
]);

export class MlflowError extends Error {
  override readonly name = "MlflowError";
  /** The server's error_code, or one of LOCAL_ERROR_CODES. */
  readonly code: string;
  /** The HTTP status of the answer; null when none came. */
  readonly status: number | null;

  constructor(code: string, message: string, options: ErrorOptions & { status?: number | null } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? null;
  }

  /** True when the same call may succeed later (timeouts, network, 429, 5xx). */
  get retryable(): boolean {
    return (
      RETRYABLE_CODES.has(this.code) || this.status === 429 || (this.status !== null && this.status >= 500)
    );
  }
}
