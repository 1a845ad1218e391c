import { BigQueryDate, BigQueryTimestamp } from "@google-cloud/bigquery";
import { NANO_DIGITS } from "#domain/money.ts";
import type { SqlParam, SqlRow, SqlValue } from "#ports/sql-runner.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";

/** The query parameter type BigQuery needs for a value (it cannot infer one for every value). */
export function bigQueryParamType(value: SqlParam, where: string): string {
  if (value instanceof Date) return "TIMESTAMP";
  if (typeof value === "number") {
    if (Number.isSafeInteger(value)) return "INT64";
    if (Number.isFinite(value)) return "FLOAT64";
    throw new WarehouseError(`${where}: ${value} is not a finite number`, "invalid");
  }
  if (typeof value === "string") return "STRING";
  if (typeof value === "boolean") return "BOOL";
  throw new WarehouseError(`${where}: unsupported parameter type ${typeof value}`, "invalid");
}

/** Anything with Big.js's `toFixed(dp)`: the client's NUMERIC values. */
function isDecimalLike(value: unknown): value is { toFixed(dp: number): string } {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { toFixed?: unknown }).toFixed === "function"
  );
}

/** One result value as SqlRunner promises it (see SqlValue); NUMERIC keeps its nine decimals exactly. */
export function fromBigQueryValue(value: unknown, where: string): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (value instanceof Date) return value;
  if (value instanceof BigQueryTimestamp) return new Date(value.value);
  if (value instanceof BigQueryDate) return value.value;
  if (isDecimalLike(value)) return value.toFixed(NANO_DIGITS);
  if (typeof value === "object" && !Array.isArray(value)) return JSON.stringify(value);
  throw new WarehouseError(
    `${where}: a ${typeof value} is not a plain value; cast it in the query`,
    "invalid",
  );
}

export function fromBigQueryRow(row: Record<string, unknown>, where: string): SqlRow {
  const out: SqlRow = {};
  for (const [column, value] of Object.entries(row))
    out[column] = fromBigQueryValue(value, `${where}.${column}`);
  return out;
}
