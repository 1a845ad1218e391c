import { randomUUID } from "node:crypto";
import { type BigQuery, BigQueryTimestamp, type Query } from "@google-cloud/bigquery";
import type { WriterClient } from "#adapters/bigquery-storage-write/storage-write-client.ts";
import type { AppendRetryPolicy } from "#adapters/bigquery-storage-write/storage-write-writer.ts";
import { clipRanges, liveTailSql } from "#adapters/sql/live-tail.ts";
import { loadNamedSql, loadSql } from "#adapters/sql/load-sql.ts";
import { createViewStatements } from "#adapters/sql/report-views.ts";
import { type CostRow, GROUP_KEYS, type GroupKey, type RejectedRow } from "#domain/cost-row.ts";
import { MAX_FUTURE_MS } from "#domain/events/parse.ts";
import type { TrainingJobRow, TrainingOutcome } from "#domain/training/job-summary.ts";
import { hourRuns, mergeRanges } from "#ports/hour-ranges.ts";
import { parseQueryName, type SqlParam, type SqlRunner } from "#ports/sql-runner.ts";
import type {
  ConflictRow,
  InsertResult,
  ReportQuery,
  ReportRow,
  TimeRange,
  TrainingJobsQuery,
  Warehouse,
} from "#ports/warehouse.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";
import { createBigQueryClient } from "./bigquery-client.ts";
import { toWarehouseError } from "./bigquery-errors.ts";
import {
  costRowLabel,
  dedupeBatch,
  encodeCostRow,
  encodeRejectedRow,
  INSERT_LIMITS,
  type InsertLimits,
  numericToNanos,
  type PendingRow,
  wholeHours,
} from "./bigquery-rows.ts";
import { createRowWriter, type RowWriter, type WriteApi } from "./row-writer.ts";
import { bigQueryParamType, fromBigQueryRow } from "./sql-values.ts";

export interface BigQueryWarehouseOptions {
  /** Injected client; by default one from createBigQueryClient (short retries, fit for a function). */
  client?: BigQuery;
  /** Project that holds the dataset; the client's project when absent. */
  projectId?: string;
  dataset: string;
  /** Location jobs run in; must match the dataset's. The client's when absent. */
  location?: string;
  /** Days raw cost_events partitions are kept (applies when init() creates the table). */
  partitionExpirationDays?: number;
  /** Days rejected_events partitions are kept. */
  rejectedExpirationDays?: number;
  /**
   * How far before a refreshed range training rows are read, so the first event of a job inside the
   * range is charged against its predecessor rather than in full. It must exceed the longest gap
   * between two events of one job.
   */
  trainingLookbackHours?: number;
  /** Refuses any query that would bill more bytes than this: a runaway guard for our own spend. */
  maximumBytesBilled?: bigint;
  /** Rows and bytes a write request may carry; BigQuery's own advice by default. */
  insertLimits?: InsertLimits;
  /**
   * How rows are streamed: the Storage Write API's default stream (the default: no per-row minimum,
   * half insertAll's price a byte) or tabledata.insertAll.
   */
  writeApi?: WriteApi;
  /** Injected Storage Write API client (a local server in tests); by default one on Google's endpoint. */
  writerClient?: WriterClient;
  /** How often an append refused for a passing reason is sent again; APPEND_RETRY_POLICY by default. */
  appendRetry?: Partial<AppendRetryPolicy>;
}

export const BIGQUERY_WAREHOUSE_DEFAULTS = Object.freeze({
  partitionExpirationDays: 400,
  rejectedExpirationDays: 30,
  trainingLookbackHours: 7 * 24,
});

const TABLES = {
  events: "cost_events",
  hourly: "cost_hourly",
  rejected: "rejected_events",
  marks: "ingest_marks",
  conflicts: "conflicting_events",
} as const;
/**
 * How long before a refresh an ingest mark must have been stamped to be read: longer than any insert
 * call may take (the ingest function's timeout is 60 s), so every mark stamped before it is visible.
 */
export const MARK_SETTLE_MS = 5 * 60 * 1000;
const DATASET_ID = /^[A-Za-z0-9_]{1,1024}$/;
const PROJECT_ID = /^[a-z][a-z0-9.:-]{4,62}$/;
/** What @google-cloud/common puts in place of a project it has not resolved yet. */
const UNRESOLVED_PROJECT = "{{projectId}}";
const HOUR_MS = 3_600_000;

type Row = Record<string, unknown>;

function invalidOption(message: string): never {
  throw new WarehouseError(`createBigQueryWarehouse: ${message}`, "invalid");
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0)
    invalidOption(`${name} must be a positive integer, got ${value}`);
  return value;
}

function toDate(value: unknown, column: string): Date {
  const text = value instanceof BigQueryTimestamp ? value.value : value;
  const date = typeof text === "string" ? new Date(text) : text instanceof Date ? text : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw new WarehouseError(`BigQuery returned a ${column} that is not a timestamp`, "invalid");
  }
  return date;
}

function toDimensionValue(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/**
 * The Warehouse on BigQuery. Raw rows are streamed in batches through the Storage Write API's
 * default stream (or tabledata.insertAll, see `writeApi`); reports and rollups run the named queries
 * in sql/bigquery with bound, typed parameters (TIMESTAMP values as Dates, money as NUMERIC decimal
 * strings). NUMERIC results come back to bigint nanos exactly.
 */
export function createBigQueryWarehouse(options: BigQueryWarehouseOptions): Warehouse {
  if (!DATASET_ID.test(options.dataset))
    invalidOption(`dataset ${JSON.stringify(options.dataset)} is not a dataset id`);
  const client =
    options.client ?? createBigQueryClient({ projectId: options.projectId, location: options.location });
  const projectId =
    options.projectId ?? (client.projectId === UNRESOLVED_PROJECT ? undefined : client.projectId);
  if (projectId !== undefined && !PROJECT_ID.test(projectId)) {
    invalidOption(`projectId ${JSON.stringify(projectId)} is not a project id`);
  }
  const location = options.location ?? client.location;
  const partitionExpirationDays = positiveInteger(
    "partitionExpirationDays",
    options.partitionExpirationDays ?? BIGQUERY_WAREHOUSE_DEFAULTS.partitionExpirationDays,
  );
  const rejectedExpirationDays = positiveInteger(
    "rejectedExpirationDays",
    options.rejectedExpirationDays ?? BIGQUERY_WAREHOUSE_DEFAULTS.rejectedExpirationDays,
  );
  const trainingLookbackMs =
    positiveInteger(
      "trainingLookbackHours",
      options.trainingLookbackHours ?? BIGQUERY_WAREHOUSE_DEFAULTS.trainingLookbackHours,
    ) * HOUR_MS;
  const insertLimits = options.insertLimits ?? INSERT_LIMITS;
  /** `project.dataset` (or the dataset alone, resolved in the job's project), for `{{dataset}}`. */
  const datasetPath = projectId === undefined ? options.dataset : `${projectId}.${options.dataset}`;
  const dataset = client.dataset(options.dataset, projectId === undefined ? {} : { projectId });
  let writer: Promise<RowWriter> | undefined;

  async function insert(table: string, rows: readonly PendingRow[]): Promise<void> {
    writer ??= createRowWriter({
      writeApi: options.writeApi ?? "storage-write",
      dataset,
      datasetId: options.dataset,
      projectId,
      limits: insertLimits,
      writerClient: options.writerClient,
      appendRetry: options.appendRetry,
    });
    await (await writer).write(table, rows);
  }

  /** Runs sql/bigquery/<name>.sql, or one `-- query:` section of it (labelled `<name>#<section>`). */
  function query(
    name: string,
    identifiers: Record<string, string>,
    params: Record<string, SqlParam>,
    section?: string,
  ): Promise<Row[]> {
    const all = { dataset: datasetPath, ...identifiers };
    return section === undefined
      ? run(name, loadSql("bigquery", name, all), params)
      : run(`${name}#${section}`, loadNamedSql("bigquery", name, section, all), params);
  }

  async function run(name: string, sql: string, params: Readonly<Record<string, SqlParam>>): Promise<Row[]> {
    // Job labels attribute our own BigQuery spend to this app and query.
    const request: Query = {
      query: sql,
      labels: { app: "finops", query: name.replace(/[^a-z0-9_-]/g, "_") },
    };
    if (Object.keys(params).length > 0) {
      request.params = { ...params };
      request.types = Object.fromEntries(
        Object.entries(params).map(([key, value]) => [key, bigQueryParamType(value, `${name}: @${key}`)]),
      );
    }
    if (location !== undefined) request.location = location;
    if (options.maximumBytesBilled !== undefined)
      request.maximumBytesBilled = String(options.maximumBytesBilled);
    try {
      const [rows] = await client.query(request);
      return rows as Row[];
    } catch (cause) {
      throw toWarehouseError(cause, `query ${name}`);
    }
  }

  const sql: SqlRunner = {
    dialect: "bigquery",
    async query(name, params = {}) {
      const { file, section } = parseQueryName(name);
      const identifiers = { dataset: datasetPath };
      const text =
        section === undefined
          ? loadSql("bigquery", file, identifiers)
          : loadNamedSql("bigquery", file, section, identifiers);
      const rows = await run(name, text, params);
      return rows.map((row) => fromBigQueryRow(row, name));
    },
  };

  /** The ingest marks of a batch's new rows: one per event hour, streamed after the rows themselves. */
  async function mark(rows: readonly CostRow[]): Promise<void> {
    const batchId = randomUUID();
    const markedAt = new Date();
    const hours = new Set(rows.map((row) => Math.floor(row.event_time.getTime() / HOUR_MS) * HOUR_MS));
    await insert(
      TABLES.marks,
      [...hours].map((hour) => ({
        label: `mark ${new Date(hour).toISOString()}`,
        row: {
          insertId: `${batchId}:${hour}`,
          json: { batch_id: batchId, hour: new Date(hour).toISOString(), marked_at: markedAt.toISOString() },
        },
      })),
    );
  }

  /** The hour after the latest event of every training job with rows in `range`, or the range's end. */
  async function trainingEnd(range: TimeRange, until: Date): Promise<Date> {
    const [row] = await query("training_job_ends", {}, { from: range.from, to: range.to, until });
    if (row === undefined || row.to_hour === null || row.to_hour === undefined) return range.to;
    return new Date(Math.max(toDate(row.to_hour, "to_hour").getTime(), range.to.getTime()));
  }

  /** Up to where every ingest mark has been rebuilt; before any refresh, the oldest a mark can be. */
  async function readLowWater(now: Date): Promise<Date> {
    const [state] = await query("ingest_marks", {}, {}, "low_water");
    return state?.low_water === null || state?.low_water === undefined
      ? new Date(now.getTime() - partitionExpirationDays * 24 * HOUR_MS)
      : toDate(state.low_water, "low_water");
  }

  /**
   * What a refresh of these marked hours rebuilds: the hours in runs, each extended to the later hours
   * of the training jobs it touches (their rows' charges depend on it), read up to `until`.
   */
  async function rebuildRanges(marked: readonly Row[], until: Date): Promise<TimeRange[]> {
    const ranges: TimeRange[] = [];
    for (const run of hourRuns(marked.map((row) => toDate(row.hour, "hour")))) {
      ranges.push({ from: run.from, to: await trainingEnd(run, until) });
    }
    return mergeRanges(ranges);
  }

  /**
   * The hours a live report over `range` reads from the raw rows: every mark since the low water, the
   * settle margin's too, rebuilt as the refreshes to come will. Read before the report itself: a
   * refresh that ends in between moves hours into the rollup that the report still reads raw (each
   * hour from one side only), and a batch marked in between shows in the next report.
   */
  async function tailRanges(range: TimeRange): Promise<TimeRange[]> {
    const lowWater = await readLowWater(new Date());
    const marked = await query("ingest_marks", {}, { low_water: lowWater }, "tail_hours");
    return clipRanges(await rebuildRanges(marked, range.to), range);
  }

  return {
    sql,

    async init() {
      await query(
        "create_tables",
        {
          partition_expiration_days: String(partitionExpirationDays),
          rejected_expiration_days: String(rejectedExpirationDays),
        },
        {},
      );
      // The report views, in one script: a fresh dataset has them before infra/ deploys them.
      const views = createViewStatements("bigquery", (name) => `\`${datasetPath}\`.${name}`, {
        dataset: datasetPath,
      });
      if (views.length > 0) await run("create_views", views.join(";\n"), {});
    },

    /**
     * Streams the batch. `duplicates` and `duplicateRows` name repeats inside this batch only (the
     * first copy is sent, later copies are the duplicates): BigQuery cannot say cheaply whether a row
     * is already stored, so `inserted` counts rows accepted, and a re-sent event counts as accepted.
     * Repeats across batches (a redelivery, a resent append) may be stored again, and count once:
     * refresh_hourly and every reader of cost_events keep the first ingested copy of each key.
     */
    async insertEvents(rows: readonly CostRow[]): Promise<InsertResult> {
      const { unique, duplicateRows } = dedupeBatch(rows);
      const pending = unique.map(({ row, index }) => ({
        label: costRowLabel(row, index),
        row: encodeCostRow(row, index),
      }));
      if (pending.length > 0) {
        await insert(TABLES.events, pending);
        // After the rows, so a mark never names rows that are not there; before the batch is
        // acknowledged, so acknowledged rows always have one (a failure here fails the batch, and
        // its redelivery writes rows and mark again).
        await mark(unique.map(({ row }) => row));
      }
      return {
        inserted: pending.length,
        duplicates: duplicateRows.size,
        duplicateRows,
        conflictRows: new Map(),
      };
    },

    async knownRejections(keys: readonly string[]) {
      if (keys.length === 0) return new Set<string>();
      const rows = await query("rejections", {}, { keys: JSON.stringify(keys) });
      return new Set(rows.map((row) => String(row.rejection_key)));
    },

    async insertConflicts(rows: readonly ConflictRow[]) {
      const pending = rows.map((row, index) => ({
        label: `conflicts[${index}]`,
        row: {
          insertId: `${row.event_source}:${row.event_id}:${row.received_hash}`,
          json: {
            received_at: row.received_at.toISOString(),
            event_source: row.event_source,
            event_id: row.event_id,
            event_type: row.event_type,
            stored_hash: row.stored_hash,
            received_hash: row.received_hash,
            payload: row.payload,
          },
        },
      }));
      if (pending.length > 0) await insert(TABLES.conflicts, pending);
    },

    async insertRejected(rows: readonly RejectedRow[]) {
      const pending = rows.map((row, index) => ({
        label: `rows[${index}]`,
        row: encodeRejectedRow(row, index),
      }));
      if (pending.length > 0) await insert(TABLES.rejected, pending);
    },

    async refreshHourly(range: TimeRange) {
      const hours = wholeHours(range);
      if (hours.from >= hours.to) return;
      await query(
        "refresh_hourly",
        {},
        {
          from: hours.from,
          to: hours.to,
          lookback_from: new Date(hours.from.getTime() - trainingLookbackMs),
        },
      );
    },

    async refreshPending(now: Date): Promise<TimeRange[]> {
      const lowWater = await readLowWater(now);
      const snapshot = new Date(now.getTime() - MARK_SETTLE_MS);
      if (snapshot <= lowWater) return [];
      const marked = await query("ingest_marks", {}, { low_water: lowWater, snapshot }, "hours");
      const until = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS + HOUR_MS + MAX_FUTURE_MS);
      const merged = await rebuildRanges(marked, until);
      for (const range of merged) {
        await query(
          "refresh_hourly",
          {},
          {
            from: range.from,
            to: range.to,
            lookback_from: new Date(range.from.getTime() - trainingLookbackMs),
          },
        );
      }
      // Only once every range is rebuilt: a failure before this leaves the marks to the next run.
      await query("ingest_marks", {}, { snapshot }, "advance");
      return merged;
    },

    async checkWritable() {
      // Nothing local to fill up: BigQuery's own faults surface on the insert, classified there.
    },

    async report(request: ReportQuery): Promise<ReportRow[]> {
      const by = [...new Set(request.by)];
      for (const dimension of by) {
        if (!(GROUP_KEYS as readonly string[]).includes(dimension)) {
          throw new WarehouseError(`report: ${JSON.stringify(dimension)} is not a dimension`, "invalid");
        }
      }
      const tail = request.reads === "live" ? await tailRanges(request) : [];
      const { identifiers, params } = liveTailSql("bigquery", tail, trainingLookbackMs, request.from);
      const rows = await query(
        "report",
        { dimensions: by.map((d) => `${d}, `).join(""), ...identifiers },
        { from: request.from, to: request.to, ...params },
      );
      return rows.map((row) => {
        const group: Partial<Record<GroupKey, string | null>> = {};
        for (const dimension of by) group[dimension] = toDimensionValue(row[dimension]);
        return {
          group,
          currency: String(row.currency),
          cost_nanos: numericToNanos(row.total_cost, "total_cost"),
          rows: Number(row.row_count),
        };
      });
    },

    async trainingJobs(q: TrainingJobsQuery): Promise<TrainingJobRow[]> {
      const rows = await query(
        "training_jobs",
        {},
        { from: q.from, to: q.to, now: q.now, silence_seconds: q.silenceSeconds },
      );
      return rows.map((row) => ({
        event_source: String(row.event_source),
        job_id: String(row.job_id),
        team: String(row.team),
        model: String(row.model),
        business_unit: String(row.business_unit),
        instance_type: toDimensionValue(row.instance_type),
        currency: String(row.currency),
        started_at: toDate(row.started_at, "started_at"),
        last_seen_at: toDate(row.last_seen_at, "last_seen_at"),
        duration_seconds: Number(row.duration_seconds),
        gpu_count: row.gpu_count === null || row.gpu_count === undefined ? null : Number(row.gpu_count),
        epochs: row.epochs === null || row.epochs === undefined ? null : Number(row.epochs),
        cost_nanos: numericToNanos(row.cost, "cost"),
        outcome: String(row.outcome) as TrainingOutcome,
      }));
    },

    async close() {
      await (await writer)?.close();
    },
  };
}
