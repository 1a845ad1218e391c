import { WarehouseError } from "#ports/warehouse-error.ts";

/**
 * Maps what the BigQuery client throws to WarehouseError, so the edge can decide: `unavailable`
 * (throw, let Pub/Sub redeliver) or `invalid` (the same request fails again: dead-letter it).
 */

/** Reasons BigQuery gives for faults that pass (docs: "Troubleshoot errors", error table). */
const TRANSIENT_REASONS = new Set([
  "backendError",
  "internalError",
  "rateLimitExceeded",
  "quotaExceeded",
  "jobRateLimitExceeded",
  "tableUnavailable",
  "timeout",
  "stopped",
]);

/** Status codes after which the same request cannot succeed. 401/403 are left transient: IAM changes heal them. */
const PERMANENT_STATUS = new Set([400, 404, 405, 409, 411, 413, 414, 416]);

interface ApiErrorLike {
  code: number;
  message: string;
  errors?: { reason?: string; message?: string }[];
}

function isApiError(error: unknown): error is ApiErrorLike {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "number";
}

export function classifyBigQueryError(error: unknown): "unavailable" | "invalid" {
  if (!isApiError(error)) return "unavailable"; // network: refused, reset, DNS, timeout
  const reasons = (error.errors ?? []).map((e) => e.reason ?? "");
  if (reasons.some((r) => TRANSIENT_REASONS.has(r))) return "unavailable";
  return PERMANENT_STATUS.has(error.code) ? "invalid" : "unavailable";
}

/**
 * `writing`: the request stores rows. There a 404 (no such table or dataset) is the deployment's
 * fault, not the rows', so they wait (redelivered, or 503) until `pulumi up` or init creates it.
 */
export function toWarehouseError(error: unknown, action: string, writing = false): WarehouseError {
  if (error instanceof WarehouseError) return error;
  const missing = writing && isApiError(error) && error.code === 404;
  const code = missing ? "unavailable" : classifyBigQueryError(error);
  const status = isApiError(error) ? ` (HTTP ${error.code})` : "";
  const detail = error instanceof Error ? error.message : String(error);
  return new WarehouseError(`BigQuery ${action} failed${status}: ${detail}`, code, { cause: error });
}

/** One entry of tabledata.insertAll's `insertErrors`. */
interface InsertError {
  index: number;
  errors?: { reason?: string; location?: string; message?: string }[];
}

interface PartialFailureLike {
  name: "PartialFailureError";
  response?: { insertErrors?: InsertError[] };
}

export function isPartialFailure(error: unknown): error is PartialFailureLike {
  return error instanceof Error && error.name === "PartialFailureError";
}

/**
 * A PartialFailureError means BigQuery refused rows of the request. With `skipInvalidRows` off, one
 * invalid row stops the whole request (the others come back as reason "stopped"), so nothing of it
 * was stored. Invalid rows make the error `invalid` and are named with the field BigQuery points at;
 * a request refused only for transient reasons is `unavailable`.
 */
export function partialFailureToWarehouseError(
  error: PartialFailureLike,
  labels: readonly string[],
  table: string,
): WarehouseError {
  const insertErrors = error.response?.insertErrors ?? [];
  const invalid: string[] = [];
  let transient = 0;
  for (const entry of insertErrors) {
    const label = labels[entry.index] ?? `row ${entry.index}`;
    for (const e of entry.errors ?? []) {
      if (e.reason === "stopped") continue;
      if (e.reason !== undefined && TRANSIENT_REASONS.has(e.reason)) {
        transient += 1;
        continue;
      }
      const field = e.location ? `.${e.location}` : "";
      invalid.push(`${label}${field}: ${e.reason ?? "invalid"}: ${e.message ?? "refused"}`);
    }
  }
  if (invalid.length > 0) return refusedRowsError(table, invalid, error);
  return new WarehouseError(
    `BigQuery could not store ${insertErrors.length} row(s) of ${table} for now (${transient} transient error(s))`,
    "unavailable",
    { cause: error },
  );
}

/** Rows BigQuery refused for what they hold, each "<row label>[.field]: <why>": the first five named. */
export function refusedRowsError(table: string, refusals: readonly string[], cause: unknown): WarehouseError {
  const more = refusals.length > 5 ? ` (and ${refusals.length - 5} more)` : "";
  return new WarehouseError(
    `BigQuery refused rows for ${table}: ${refusals.slice(0, 5).join("; ")}${more}`,
    "invalid",
    { cause },
  );
}
