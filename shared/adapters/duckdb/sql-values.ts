import {
  DuckDBDateValue,
  DuckDBDecimalValue,
  type DuckDBPreparedStatement,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  type DuckDBValue,
} from "@duckdb/node-api";
import type { SqlParam, SqlRow, SqlValue } from "#ports/sql-runner.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";
import { dateToTimestamp } from "./row-encoding.ts";

/** Binds one named parameter with the type its JS value says (whole numbers as BIGINT). */
export function bindSqlParam(
  prepared: DuckDBPreparedStatement,
  index: number,
  value: SqlParam,
  where: string,
): void {
  if (value instanceof Date) prepared.bindTimestampTZ(index, dateToTimestamp(value, where));
  else if (typeof value === "number") {
    if (Number.isSafeInteger(value)) prepared.bindBigInt(index, BigInt(value));
    else if (Number.isFinite(value)) prepared.bindDouble(index, value);
    else throw new WarehouseError(`${where}: ${value} is not a finite number`, "invalid");
  } else if (typeof value === "string") prepared.bindVarchar(index, value);
  else if (typeof value === "boolean") prepared.bindBoolean(index, value);
  else throw new WarehouseError(`${where}: unsupported parameter type ${typeof value}`, "invalid");
}

/** One result value as SqlRunner promises it (see SqlValue). */
export function fromDuckDbValue(value: DuckDBValue, where: string): SqlValue {
  if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean")
    return value;
  if (typeof value === "bigint") {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new WarehouseError(
        `${where}: ${value} does not fit a JS number; cast it to a DECIMAL`,
        "invalid",
      );
    }
    return Number(value);
  }
  if (value instanceof DuckDBDecimalValue) return value.toString();
  if (value instanceof DuckDBTimestampTZValue || value instanceof DuckDBTimestampValue)
    return new Date(Number(value.micros / 1000n));
  if (value instanceof DuckDBDateValue) return value.toString();
  throw new WarehouseError(
    `${where}: a ${value.constructor.name} is not a plain value; cast it in the query`,
    "invalid",
  );
}

export function fromDuckDbRow(row: Record<string, DuckDBValue>, where: string): SqlRow {
  const out: SqlRow = {};
  for (const [column, value] of Object.entries(row))
    out[column] = fromDuckDbValue(value, `${where}.${column}`);
  return out;
}
