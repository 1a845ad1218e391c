import { refusedRowsError } from "#adapters/bigquery/bigquery-errors.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";

/**
 * gRPC status codes (google.rpc.Code) after which the same append cannot succeed, as the REST
 * mapping in bigquery-errors.ts treats 400 and 409: INVALID_ARGUMENT, ALREADY_EXISTS,
 * FAILED_PRECONDITION, OUT_OF_RANGE, UNIMPLEMENTED. Every other code passes (UNAVAILABLE, ABORTED,
 * INTERNAL, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED...), PERMISSION_DENIED and UNAUTHENTICATED
 * included as IAM changes heal them, and NOT_FOUND as a missing table is the deployment's to fix.
 */
const PERMANENT_CODES = new Set([3, 6, 9, 11, 12]);

interface StatusLike {
  code?: number | null;
  message?: string | null;
}

/** One AppendRowsResponse.row_errors entry as the client decodes it (int64 as a string, enums by name). */
export interface RowErrorLike {
  index?: number | string | { toString(): string } | null;
  code?: string | number | null;
  message?: string | null;
}

function statusCode(error: unknown): number | undefined {
  const code = (error as StatusLike | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/**
 * What a failed append threw, as a WarehouseError: a gRPC status on the connection (UNAVAILABLE
 * when it dropped), or an Error without a code (no connection at all), which passes.
 */
export function toStorageWriteError(error: unknown, action: string): WarehouseError {
  if (error instanceof WarehouseError) return error;
  const code = statusCode(error);
  const detail = error instanceof Error ? error.message : String((error as StatusLike)?.message ?? error);
  const status = code === undefined ? "" : ` (gRPC status ${code})`;
  return new WarehouseError(
    `BigQuery Storage Write ${action} failed${status}: ${detail}`,
    code !== undefined && PERMANENT_CODES.has(code) ? "invalid" : "unavailable",
    { cause: error },
  );
}

/**
 * An AppendRowsResponse that carries an error: none of the request's rows were stored. Row errors
 * name the rows (by `labels`, the request's rows in order) and the field in BigQuery's message:
 * the request is `invalid`. Without them the status code decides.
 */
export function appendResponseError(
  error: StatusLike,
  rowErrors: readonly RowErrorLike[],
  labels: readonly string[],
  table: string,
): WarehouseError {
  if (rowErrors.length === 0) return toStorageWriteError(error, `append to ${table}`);
  const refusals = rowErrors.map((rowError) => {
    const index = Number(String(rowError.index ?? ""));
    const label = labels[index] ?? `row ${rowError.index}`;
    return `${label}: ${rowError.code ?? "FIELDS_ERROR"}: ${rowError.message ?? "refused"}`;
  });
  return refusedRowsError(table, refusals, error);
}
