/**
 * The warehouse tables as Pulumi creates them: what infra/bigquery-ddl.ts reads from the CREATE TABLE
 * statements of sql/bigquery, which a function also runs against an empty dataset (IF NOT EXISTS), so
 * the two always agree.
 */

/** GoogleSQL column types the DDL may use, and the names the tables API reports back for them. */
const API_TYPE = {
  STRING: "STRING",
  BYTES: "BYTES",
  INT64: "INTEGER",
  FLOAT64: "FLOAT",
  NUMERIC: "NUMERIC",
  BIGNUMERIC: "BIGNUMERIC",
  BOOL: "BOOLEAN",
  TIMESTAMP: "TIMESTAMP",
  DATE: "DATE",
  DATETIME: "DATETIME",
  TIME: "TIME",
  JSON: "JSON",
  GEOGRAPHY: "GEOGRAPHY",
} as const;

export type SqlType = keyof typeof API_TYPE;

export function isSqlType(value: string): value is SqlType {
  return Object.hasOwn(API_TYPE, value);
}

export interface Column {
  name: string;
  type: SqlType;
  mode: "REQUIRED" | "NULLABLE" | "REPEATED";
}

export type PartitionUnit = "HOUR" | "DAY" | "MONTH" | "YEAR";

export interface TableSpec {
  tableId: string;
  /** The SQL file that declares it, for messages. */
  file: string;
  description?: string;
  columns: readonly Column[];
  partitioning?: { field: string; unit: PartitionUnit };
  clustering: readonly string[];
  requirePartitionFilter: boolean;
  /** partition_expiration_days: a number of days, or the {{placeholder}} the deployment fills in. */
  partitionExpiration?: { days: number } | { parameter: string };
}

export interface ApiField {
  name: string;
  type: string;
  mode: Column["mode"];
}

/**
 * Writing the names the tables API reports back (INTEGER, FLOAT, BOOLEAN) rather than the GoogleSQL
 * aliases keeps the provider's stored schema equal to what it reads, so no update shows a spurious diff.
 */
export function toApiFields(columns: readonly Column[]): ApiField[] {
  return columns.map((c) => ({ name: c.name, type: API_TYPE[c.type], mode: c.mode }));
}

/** The JSON schema string gcp.bigquery.Table takes. */
export function tableSchemaJson(spec: TableSpec): string {
  return JSON.stringify(toApiFields(spec.columns));
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function daysToMs(days: number): number {
  if (!Number.isSafeInteger(days) || days <= 0)
    throw new RangeError(`expiration days must be a positive integer, got ${days}`);
  return days * DAY_MS;
}
