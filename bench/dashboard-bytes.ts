import { join } from "node:path";
import { sqlRoot } from "#adapters/sql/load-sql.ts";
import { type CostRow, DIMENSIONS } from "#domain/cost-row.ts";
import { readTableSpecs } from "../infra/bigquery-ddl.ts";
import type { SqlType } from "../infra/bigquery-schemas.ts";
import { demoCostRows } from "../test/support/demo-warehouse.ts";

const HOUR_MS = 3_600_000;
const MB = 1_000_000;
const TIB = 2 ** 40;
/** The seed's scale: inference requests a second, one cost row each. */
export const SEED_REQUESTS_PER_SECOND = 2_000;
/** BigQuery on-demand analysis, as the README's cost worksheet prices it. */
export const USD_PER_TIB = 6.25;
/** BigQuery bills every query at least this much for each table it reads. */
const MIN_BILLED_PER_TABLE = 10 * MB;
const LOADS_PER_DAY = 100;
const TRAINING = "ai.cost.training.v1";

/** cost_events columns the hour's computation (hourly_rows.sql, its raw_rows) reads. */
const TAIL_COLUMNS = [
  "event_source",
  "event_id",
  "part",
  "ingested_at",
  "event_type",
  "event_time",
  "basis",
  ...DIMENSIONS,
  "currency",
  "cost",
  "gpu_seconds",
  "input_tokens",
  "output_tokens",
  "job_id",
  "elapsed_seconds",
  "accelerator",
  "instance_type",
];
/** What training_job_ends reads of a training row. */
const JOB_END_COLUMNS = ["event_source", "job_id", "event_type", "event_time"] as const;
/** cost_hourly columns the one view (one_view.sql) reads. */
const ROLLUP_COLUMNS = ["hour", "basis", "event_type", ...DIMENSIONS, "currency", "cost", "rows"];

/** BigQuery's logical size of a value (what on-demand bills): a STRING 2 bytes plus its UTF-8, NULL nothing. */
function logicalBytes(type: SqlType, value: unknown): number {
  if (value === null || value === undefined) return 0;
  switch (type) {
    case "STRING":
      return 2 + Buffer.byteLength(String(value), "utf8");
    case "NUMERIC":
      return 16;
    case "BOOL":
      return 1;
    default:
      return 8;
  }
}

function columnTypes(table: string): Map<string, SqlType> {
  const spec = readTableSpecs(join(sqlRoot(), "bigquery")).find((s) => s.tableId === table);
  if (spec === undefined) throw new Error(`sql/bigquery declares no ${table}`);
  return new Map(spec.columns.map((c) => [c.name, c.type]));
}

/** The mean logical bytes of `columns` over rows, each row's values given by `value`. */
function meanBytes<T>(
  rows: readonly T[],
  types: Map<string, SqlType>,
  columns: readonly string[],
  value: (row: T, column: string) => unknown,
): number {
  let total = 0;
  for (const row of rows) {
    for (const column of columns) {
      const type = types.get(column);
      if (type === undefined) throw new Error(`no column ${column}`);
      total += logicalBytes(type, value(row, column));
    }
  }
  return rows.length === 0 ? 0 : total / rows.length;
}

const eventValue = (row: CostRow, column: string): unknown =>
  column === "cost" ? row.cost_nanos : (row as unknown as Record<string, unknown>)[column];

export interface QueryBytes {
  what: string;
  /** How the figure is made, in words and numbers. */
  arithmetic: string;
  bytes: number;
}

export interface DashboardBytesResult {
  inferenceRowsPerHour: number;
  otherRowsPerHour: number;
  trainingRowsPerHour: number;
  rollupRowsPerHour: number;
  rollupRowBytes: number;
  queries: QueryBytes[];
  bytesPerLoad: number;
  usdPerMonth: number;
  /** The same load with cost_events partitioned by day (the layout before): the tail reads whole days. */
  dayPartitioned: { bytesPerLoad: number; usdPerMonth: number };
}

const billed = (bytes: number) => Math.max(bytes, MIN_BILLED_PER_TABLE);
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
const count = (n: number) => Math.round(n).toLocaleString("en-US");

/**
 * What one dashboard load reads on BigQuery at the seed's scale, computed from the layout: the
 * columns each query reads, their logical sizes measured over a day of the demo org's rows, and the
 * partitions each query's constant filters leave. A load is the overview (`/data`: one live report
 * over 30 days) and the budget panel (`/data/budget`: the budgets' spend to date and the burn-down,
 * live, over a monthly period, half gone on average; the forecast profile, a week of the rollup).
 * Each live report first reads the low water, the ingest marks since it and the ends of the tail's
 * training jobs. The tail is the hours not refreshed yet: the refresh runs hourly at :02 and settles
 * marks older than five minutes, so the previous hour stays in the tail beside the current one, half
 * gone on average.
 */
export function measureDashboardBytes(): DashboardBytesResult {
  const from = new Date(Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 24 * HOUR_MS);
  const rows = demoCostRows({ from, hours: 24, seed: 7, requestsPerHour: 2_000 });
  const events = columnTypes("cost_events");
  const hourly = columnTypes("cost_hourly");

  const inference = rows.filter((r) => r.event_type === "ai.cost.inference.v1");
  const training = rows.filter((r) => r.event_type === TRAINING);
  const inferenceRowsPerHour = SEED_REQUESTS_PER_SECOND * 3_600;
  // Allocation, training and fixed-cost rows grow with pods, jobs and contracts, not requests: the
  // demo org's own count per hour stands.
  const otherRowsPerHour = (rows.length - inference.length) / 24;
  const trainingRowsPerHour = training.length / 24;
  const inferenceBytes = meanBytes(inference, events, TAIL_COLUMNS, eventValue);
  const otherBytes = meanBytes(
    rows.filter((r) => r.event_type !== "ai.cost.inference.v1"),
    events,
    TAIL_COLUMNS,
    eventValue,
  );
  const trainingBytes = meanBytes(training, events, TAIL_COLUMNS, eventValue);
  const jobEndBytes = meanBytes(training, events, JOB_END_COLUMNS, eventValue);

  // The rollup: one row per hour and group (hour, basis, event type, dimensions, currency, family).
  const rollupRows = new Map<string, Record<string, unknown>>();
  for (const r of rows) {
    const hour = new Date(Math.floor(r.event_time.getTime() / HOUR_MS) * HOUR_MS);
    const group = { ...r, hour, family: r.accelerator ?? r.instance_type, rows: 1 };
    const key = [
      hour.getTime(),
      ...ROLLUP_COLUMNS.slice(1, -2).map((c) => Reflect.get(group, c)),
      group.family,
    ];
    rollupRows.set(key.join("\u0000"), group);
  }
  const rollupRowsPerHour = rollupRows.size / 24;
  const rollupRowBytes = meanBytes([...rollupRows.values()], hourly, ROLLUP_COLUMNS, (row, column) =>
    column === "cost" ? 0n : row[column],
  );

  // The tail: the previous hour whole, the current one half on average.
  const tailHours = 1.5;
  const tailBytes = tailHours * (inferenceRowsPerHour * inferenceBytes + otherRowsPerHour * otherBytes);
  const lookbackBytes = 7 * 24 * trainingRowsPerHour * trainingBytes;
  const jobEnds = 2 * tailHours * trainingRowsPerHour * jobEndBytes;
  const rollup = (days: number) => days * 24 * rollupRowsPerHour * rollupRowBytes;
  const liveReport = (what: string, days: number): QueryBytes[] => [
    {
      what: `${what}: cost_hourly`,
      arithmetic: `${days} days × 24 × ${rollupRowsPerHour.toFixed(0)} rollup rows × ${rollupRowBytes.toFixed(0)} B = ${mb(rollup(days))}, billed at least 10 MB`,
      bytes: billed(rollup(days)),
    },
    {
      what: `${what}: cost_events, the tail`,
      arithmetic: `${tailHours} h × (${count(inferenceRowsPerHour)} requests × ${inferenceBytes.toFixed(0)} B + ${count(otherRowsPerHour)} other rows × ${otherBytes.toFixed(0)} B) + the training rows of the 7-day lookback, ${count(7 * 24 * trainingRowsPerHour)} × ${trainingBytes.toFixed(0)} B = ${mb(tailBytes + lookbackBytes)}`,
      bytes: billed(tailBytes + lookbackBytes),
    },
    {
      what: `${what}: the tail's hours`,
      arithmetic: `refresh_runs (low water) and ingest_marks since it, a few KB each, and training_job_ends on cost_events (${mb(jobEnds)}): 3 tables × 10 MB minimum`,
      bytes: 2 * MIN_BILLED_PER_TABLE + billed(jobEnds),
    },
  ];
  const queries = [
    ...liveReport("overview, 30 days", 30),
    ...liveReport("budget spend to date, 15 days", 15),
    ...liveReport("budget burn-down, 15 days", 15),
    {
      what: "forecast profile, rollup only (a week by hour)",
      arithmetic: `7 days × 24 × ${rollupRowsPerHour.toFixed(0)} × ${rollupRowBytes.toFixed(0)} B = ${mb(rollup(7))}, billed at least 10 MB, and cost_events' empty range 10 MB`,
      bytes: billed(rollup(7)) + MIN_BILLED_PER_TABLE,
    },
  ];
  const bytesPerLoad = queries.reduce((sum, q) => sum + q.bytes, 0);
  const perMonth = (bytes: number) => ((bytes * LOADS_PER_DAY * 30) / TIB) * USD_PER_TIB;
  // By day, the tail's hours read their whole days: the day so far (12 h on average), and the day
  // before as well in the hour after midnight; the lookback and the rest are the same.
  const dayTailBytes =
    (12 + 1 / 24) * (inferenceRowsPerHour * inferenceBytes + otherRowsPerHour * otherBytes);
  const dayBytesPerLoad =
    bytesPerLoad + 3 * (billed(dayTailBytes + lookbackBytes) - billed(tailBytes + lookbackBytes));
  return {
    inferenceRowsPerHour,
    otherRowsPerHour,
    trainingRowsPerHour,
    rollupRowsPerHour,
    rollupRowBytes,
    queries,
    bytesPerLoad,
    usdPerMonth: perMonth(bytesPerLoad),
    dayPartitioned: { bytesPerLoad: dayBytesPerLoad, usdPerMonth: perMonth(dayBytesPerLoad) },
  };
}

/** The section as `npm run bench` prints it. */
export function dashboardBytesLines(r: DashboardBytesResult): string[] {
  const gb = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;
  return [
    `  at ${SEED_REQUESTS_PER_SECOND.toLocaleString("en-US")} requests/s: ${count(r.inferenceRowsPerHour)} inference rows an hour, ${count(r.otherRowsPerHour)} others (the demo org's allocations, training, fixed costs); ${count(r.rollupRowsPerHour)} rollup rows an hour`,
    ...r.queries.map((q) => `  ${q.what}: ${q.arithmetic} → ${gb(q.bytes)}`),
    `  one dashboard load (overview and budget panel): ${gb(r.bytesPerLoad)}; at ${LOADS_PER_DAY} loads a day and $${USD_PER_TIB}/TiB: $${r.usdPerMonth.toFixed(2)} a month`,
    `  the same with cost_events partitioned by day (the tail reads the day so far): ${gb(r.dayPartitioned.bytesPerLoad)} a load, $${r.dayPartitioned.usdPerMonth.toFixed(2)} a month`,
  ];
}
