/**
 * The warehouse tables as Pulumi creates them. sql/bigquery/create_tables.sql creates the same tables
 * when a function starts against an empty dataset (CREATE TABLE IF NOT EXISTS), so the two must agree:
 * test/infra/bigquery-schemas.test.ts parses the DDL and compares column names, types and modes.
 */

/** Column types as GoogleSQL spells them in the DDL. */
export type SqlType = "STRING" | "INT64" | "FLOAT64" | "NUMERIC" | "BOOL" | "TIMESTAMP" | "JSON";

export interface Column {
  name: string;
  type: SqlType;
  required: boolean;
}

export interface TableSpec {
  tableId: string;
  description: string;
  columns: readonly Column[];
  /** DAY partitioning on this TIMESTAMP column. */
  partitionField: string;
  clustering: readonly string[];
  requirePartitionFilter: boolean;
  /** Which configured retention applies to the partitions; none keeps them. */
  expiration: "events" | "rejected" | "none";
}

const req = (name: string, type: SqlType): Column => ({ name, type, required: true });
const opt = (name: string, type: SqlType): Column => ({ name, type, required: false });

export const COST_EVENTS: TableSpec = {
  tableId: "cost_events",
  description:
    "Raw cost rows, one per event (or per hour of a spread cost). Streaming inserts are at least once: refresh_hourly dedupes on (event_source, event_id, part).",
  columns: [
    req("event_id", "STRING"),
    req("event_source", "STRING"),
    req("event_type", "STRING"),
    req("part", "INT64"),
    req("event_time", "TIMESTAMP"),
    req("ingested_at", "TIMESTAMP"),
    req("basis", "STRING"),
    opt("team", "STRING"),
    opt("model", "STRING"),
    opt("model_version", "STRING"),
    opt("business_unit", "STRING"),
    opt("cost_center", "STRING"),
    opt("namespace", "STRING"),
    opt("environment", "STRING"),
    opt("cloud", "STRING"),
    opt("region", "STRING"),
    opt("labels", "JSON"),
    opt("instance_type", "STRING"),
    opt("accelerator", "STRING"),
    opt("pricing_model", "STRING"),
    opt("provider", "STRING"),
    opt("gpu_count", "FLOAT64"),
    opt("gpu_seconds", "FLOAT64"),
    opt("input_tokens", "INT64"),
    opt("cached_input_tokens", "INT64"),
    opt("output_tokens", "INT64"),
    opt("cache_hit", "BOOL"),
    opt("request_fingerprint", "STRING"),
    opt("job_id", "STRING"),
    opt("job_phase", "STRING"),
    opt("epoch", "INT64"),
    opt("elapsed_seconds", "FLOAT64"),
    req("cost", "NUMERIC"),
    req("currency", "STRING"),
    opt("components", "JSON"),
    opt("price_source", "STRING"),
  ],
  partitionField: "event_time",
  clustering: ["model", "business_unit"],
  requirePartitionFilter: true,
  expiration: "events",
};

export const COST_HOURLY: TableSpec = {
  tableId: "cost_hourly",
  description: "Hourly rollup of cost_events, rebuilt by refresh_hourly; what reports and budgets read.",
  columns: [
    req("hour", "TIMESTAMP"),
    req("basis", "STRING"),
    req("event_type", "STRING"),
    opt("team", "STRING"),
    opt("model", "STRING"),
    opt("model_version", "STRING"),
    opt("business_unit", "STRING"),
    opt("cost_center", "STRING"),
    opt("namespace", "STRING"),
    opt("environment", "STRING"),
    opt("cloud", "STRING"),
    req("currency", "STRING"),
    req("cost", "NUMERIC"),
    req("rows", "INT64"),
    opt("gpu_seconds", "FLOAT64"),
    opt("input_tokens", "INT64"),
    opt("output_tokens", "INT64"),
    req("refreshed_at", "TIMESTAMP"),
  ],
  partitionField: "hour",
  clustering: ["team", "model"],
  requirePartitionFilter: true,
  expiration: "none",
};

export const REJECTED_EVENTS: TableSpec = {
  tableId: "rejected_events",
  description: "Input refused at ingest, with the field and the reason.",
  columns: [
    req("rejected_at", "TIMESTAMP"),
    opt("event_source", "STRING"),
    opt("event_id", "STRING"),
    opt("event_type", "STRING"),
    req("field", "STRING"),
    req("reason", "STRING"),
    opt("payload", "STRING"),
  ],
  partitionField: "rejected_at",
  clustering: [],
  requirePartitionFilter: false,
  expiration: "rejected",
};

export const TABLES: readonly TableSpec[] = [COST_EVENTS, COST_HOURLY, REJECTED_EVENTS];

/**
 * The names the tables API reports back (INTEGER, FLOAT, BOOLEAN). Writing those rather than the
 * GoogleSQL aliases keeps the provider's stored schema equal to what it reads, so no update shows
 * a spurious diff.
 */
const API_TYPE: Readonly<Record<SqlType, string>> = {
  STRING: "STRING",
  INT64: "INTEGER",
  FLOAT64: "FLOAT",
  NUMERIC: "NUMERIC",
  BOOL: "BOOLEAN",
  TIMESTAMP: "TIMESTAMP",
  JSON: "JSON",
};

export interface ApiField {
  name: string;
  type: string;
  mode: "REQUIRED" | "NULLABLE";
}

export function toApiFields(columns: readonly Column[]): ApiField[] {
  return columns.map((c) => ({
    name: c.name,
    type: API_TYPE[c.type],
    mode: c.required ? "REQUIRED" : "NULLABLE",
  }));
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
