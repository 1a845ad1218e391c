import { statfsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import {
  DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBPreparedStatement,
  type DuckDBType,
  type DuckDBValue,
  StatementType,
} from "@duckdb/node-api";
import { clipRanges, liveTailSql } from "#adapters/sql/live-tail.ts";
import { loadNamedSql, loadSql } from "#adapters/sql/load-sql.ts";
import { createViewStatements } from "#adapters/sql/report-views.ts";
import { type CostRow, GROUP_KEYS, type GroupKey, type RejectedRow } from "#domain/cost-row.ts";
import { MAX_FUTURE_MS } from "#domain/events/parse.ts";
import { hourRuns, mergeRanges } from "#ports/hour-ranges.ts";
import { parseQueryName, type SqlRunner } from "#ports/sql-runner.ts";
import type { InsertResult, ReportQuery, ReportRow, TimeRange, Warehouse } from "#ports/warehouse.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";
import {
  dateToTimestamp,
  decodeCostRow,
  decodeRejectedRow,
  decodeTrainingJob,
  moneyToNanos,
  STAGED_DIMS_COLUMNS,
  STAGED_EVENTS_COLUMNS,
  type StagedBatch,
  type StagedColumn,
  stageCostRows,
  timestampToDate,
} from "./row-encoding.ts";
import { bindSqlParam, fromDuckDbRow } from "./sql-values.ts";

const HOUR_MS = 3_600_000;
/** Free space below which the warehouse reports it cannot write: room for a large batch's log. */
const MIN_FREE_BYTES = 16 * 1024 * 1024;
const DAY_MS = 24 * HOUR_MS;
/** The DuckDB vector size: one data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

export interface DuckDbWarehouseOptions {
  /** A database file (created if missing) or ":memory:". */
  path: string;
  /** An open instance to use instead of opening `path`; the caller keeps ownership and closes it. */
  instance?: DuckDBInstance;
  /** An open connection to use (its instance is the caller's); the caller keeps ownership. */
  connection?: DuckDBConnection;
  /**
   * How far before a refresh range training rows are read, so the first training event inside the
   * range is charged against its predecessor. Default 7 days.
   */
  trainingLookbackMs?: number;
}

/** The Warehouse port, plus reads of what is stored (for checks, tools and the contract suite). */
export interface DuckDbWarehouse extends Warehouse {
  /** Raw rows with event_time in [from, to), ordered by (event_source, event_id, part). */
  readEvents(range: TimeRange): Promise<CostRow[]>;
  /** Rejected rows with rejected_at in [from, to), oldest first. */
  readRejected(range: TimeRange): Promise<RejectedRow[]>;
}

/**
 * Settings of an instance the warehouse opens itself (one passed in keeps its owner's). DuckDB
 * checkpoints (compacts the write-ahead log into the file) whenever the log passes the threshold; at
 * the default 16 MB a stream of 10,000-row batches checkpoints every few batches, each rewriting the
 * table's open row group, which cost more than the inserts themselves (about 20 µs of CPU per row in
 * all, against 11 µs at 64 MB, measured on 200,000 rows). The log stays durable either way; a larger
 * threshold only means a longer log to replay after a crash.
 */
const OWN_INSTANCE_CONFIG = { checkpoint_threshold: "64MB" };

/**
 * DuckDB's error classes that say the input or the query is wrong, so the same call fails the same
 * way again. Everything else (I/O, a full disk, a lock, out of memory, a failed commit, an
 * invalidated database, anything unrecognised) is about the warehouse, not the data: retryable.
 */
const PERMANENT =
  /^(Conversion|Constraint|Invalid Input|Out of Range|Binder|Parser|Catalog|Not implemented) Error/i;

/** DuckDB reports its error class as the message prefix ("IO Error: ..."). */
export function toWarehouseError(error: unknown, action: string): WarehouseError {
  if (error instanceof WarehouseError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code =
    PERMANENT.test(message) && !/no space left|disk|lock on file/i.test(message) ? "invalid" : "unavailable";
  return new WarehouseError(`DuckDB ${action} failed: ${message}`, code, { cause: error });
}

function hourFloor(date: Date): number {
  return Math.floor(date.getTime() / HOUR_MS) * HOUR_MS;
}

function hourCeil(date: Date): number {
  return Math.ceil(date.getTime() / HOUR_MS) * HOUR_MS;
}

function assertRange(range: TimeRange, what: string): void {
  const from = range.from instanceof Date ? range.from.getTime() : Number.NaN;
  const to = range.to instanceof Date ? range.to.getTime() : Number.NaN;
  if (!Number.isFinite(from) || !Number.isFinite(to)) {
    throw new WarehouseError(`${what}: from and to must be valid dates`, "invalid");
  }
  if (from > to) throw new WarehouseError(`${what}: from is after to`, "invalid");
}

/** `team, model, ` for report.sql's {{dimensions}}: allow-listed names only, each followed by ", ". */
export function dimensionList(by: readonly GroupKey[]): string {
  const seen = new Set<string>();
  for (const dimension of by) {
    if (!(GROUP_KEYS as readonly string[]).includes(dimension)) {
      throw new WarehouseError(`report: ${JSON.stringify(dimension)} is not a dimension`, "invalid");
    }
    if (seen.has(dimension)) throw new WarehouseError(`report: ${dimension} is named twice`, "invalid");
    seen.add(dimension);
  }
  return by.map((dimension) => `${dimension}, `).join("");
}

/**
 * The embedded warehouse: DuckDB in a file (or in memory). One connection; every call is queued
 * behind the previous one, so writes never interleave. Batches go through the appender into
 * temporary staging tables, then into cost_events by one set-based statement that skips stored keys.
 */
export function createDuckDbWarehouse(options: DuckDbWarehouseOptions): DuckDbWarehouse {
  const lookbackMs = options.trainingLookbackMs ?? 7 * DAY_MS;
  if (!Number.isFinite(lookbackMs) || lookbackMs < 0) {
    throw new WarehouseError(
      "createDuckDbWarehouse: trainingLookbackMs must be a non-negative number",
      "invalid",
    );
  }
  if (typeof options.path !== "string" || options.path === "") {
    throw new WarehouseError("createDuckDbWarehouse: path is required (a file or :memory:)", "invalid");
  }

  let opened: Promise<{ instance: DuckDBInstance | null; connection: DuckDBConnection }> | null = null;
  let stagingReady = false;
  let closed = false;
  let tail: Promise<unknown> = Promise.resolve();

  async function open() {
    if (options.connection) {
      await options.connection.run("SET TimeZone = 'UTC'");
      return { instance: null, connection: options.connection };
    }
    const instance = options.instance ?? (await DuckDBInstance.create(options.path, OWN_INSTANCE_CONFIG));
    try {
      const connection = await DuckDBConnection.create(instance);
      // Hours are UTC hours whatever the host's zone: date_trunc on TIMESTAMPTZ follows this setting.
      await connection.run("SET TimeZone = 'UTC'");
      return { instance: options.instance ? null : instance, connection };
    } catch (error) {
      if (!options.instance) instance.closeSync();
      throw error;
    }
  }

  /** Runs `work` after every earlier call has settled; DuckDB faults become WarehouseErrors. */
  function serialized<T>(action: string, work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = tail.then(async () => {
      if (closed) throw new WarehouseError(`DuckDB ${action}: warehouse is closed`, "unavailable");
      try {
        opened ??= open();
        const { connection } = await opened.catch((error: unknown) => {
          opened = null;
          throw error;
        });
        return await work(connection);
      } catch (error) {
        throw toWarehouseError(error, action);
      }
    });
    tail = run.catch(() => undefined);
    return run;
  }

  /** Runs every statement of a named query (or of one `-- query:` section), binding the parameters it names. */
  function runScript(
    connection: DuckDBConnection,
    name: string,
    params: Record<string, DuckDBValue>,
    identifiers: Record<string, string> = {},
    section?: string,
  ): Promise<Record<string, DuckDBValue>[]> {
    return runStatements(
      connection,
      name,
      section === undefined ? loadSql("duckdb", name, identifiers) : loadNamedSql("duckdb", name, section),
      (prepared, index, parameter) => {
        const value = params[parameter];
        if (value === undefined)
          throw new WarehouseError(`${name}.sql: no value for $${parameter}`, "invalid");
        prepared.bindValue(index, value);
      },
    );
  }

  async function runStatements(
    connection: DuckDBConnection,
    name: string,
    text: string,
    bind: (prepared: DuckDBPreparedStatement, index: number, parameter: string) => void,
  ): Promise<Record<string, DuckDBValue>[]> {
    const extracted = await connection.extractStatements(text);
    let rows: Record<string, DuckDBValue>[] = [];
    // A script may hold its own BEGIN ... COMMIT (refresh_hourly): on a failure in between, roll back.
    let inTransaction = false;
    try {
      for (let index = 0; index < extracted.count; index++) {
        const prepared = await extracted.prepare(index);
        try {
          for (let p = 1; p <= prepared.parameterCount; p++) bind(prepared, p, prepared.parameterName(p));
          const reader = await prepared.runAndReadAll();
          rows = reader.getRowObjects();
          if (prepared.statementType === StatementType.TRANSACTION) inTransaction = !inTransaction;
        } finally {
          prepared.destroySync();
        }
      }
    } catch (error) {
      if (inTransaction) {
        try {
          await connection.run("ROLLBACK");
        } catch (rollbackError) {
          throw new WarehouseError(`${name}.sql failed and its rollback failed too`, "unavailable", {
            cause: new AggregateError([error, rollbackError]),
          });
        }
      }
      throw error;
    }
    return rows;
  }

  const sql: SqlRunner = {
    dialect: "duckdb",
    query(name, params = {}) {
      return serialized(name, async (connection) => {
        const { file, section } = parseQueryName(name);
        const text = section === undefined ? loadSql("duckdb", file) : loadNamedSql("duckdb", file, section);
        const rows = await runStatements(connection, name, text, (prepared, index, parameter) => {
          const value = params[parameter];
          if (value === undefined) throw new WarehouseError(`${name}: no value for $${parameter}`, "invalid");
          bindSqlParam(prepared, index, value, `${name}: $${parameter}`);
        });
        return rows.map((row) => fromDuckDbRow(row, name));
      });
    },
  };

  /** Runs `work` in one transaction: committed whole, or rolled back on any failure. */
  async function inTransaction<T>(connection: DuckDBConnection, work: () => Promise<T>): Promise<T> {
    await connection.run("BEGIN TRANSACTION");
    let result: T;
    try {
      result = await work();
    } catch (error) {
      try {
        await connection.run("ROLLBACK");
      } catch (rollbackError) {
        throw new WarehouseError("a write failed and its rollback failed too", "unavailable", {
          cause: new AggregateError([error, rollbackError]),
        });
      }
      throw error;
    }
    await connection.run("COMMIT");
    return result;
  }

  /** Rebuilds cost_hourly for the whole hours of `range` (inside the caller's transaction). */
  async function rebuild(connection: DuckDBConnection, range: TimeRange): Promise<void> {
    await runScript(connection, "refresh_hourly", {
      from: dateToTimestamp(range.from, "from"),
      to: dateToTimestamp(range.to, "to"),
      lookback_from: dateToTimestamp(new Date(range.from.getTime() - lookbackMs), "lookback_from"),
    });
  }

  /**
   * What the next refresh will rebuild: the pending hours in runs, each run extended to the later
   * hours of the training jobs it touches (their rows' charges depend on it), read up to `until`.
   */
  async function pendingRanges(connection: DuckDBConnection, until: Date): Promise<TimeRange[]> {
    const hours = (await runScript(connection, "pending_hours", {}, {}, "list")).map((row) =>
      timestampToDate(row.hour ?? null, "hour"),
    );
    const ranges: TimeRange[] = [];
    for (const run of hourRuns(hours)) {
      const [row] = await runScript(connection, "training_job_ends", {
        from: dateToTimestamp(run.from, "from"),
        to: dateToTimestamp(run.to, "to"),
        until: dateToTimestamp(until, "until"),
      });
      const jobsEnd = row?.to_hour ? timestampToDate(row.to_hour, "to_hour") : run.to;
      ranges.push({ from: run.from, to: new Date(Math.max(jobsEnd.getTime(), run.to.getTime())) });
    }
    return mergeRanges(ranges);
  }

  /** Appends rows given as their cells in column order: a Date as TIMESTAMPTZ, text, or null. */
  async function appendCells(
    connection: DuckDBConnection,
    table: string,
    rows: readonly (readonly (Date | string | null | undefined)[])[],
  ): Promise<void> {
    const appender = await connection.createAppender(table);
    try {
      rows.forEach((cells, index) => {
        for (const cell of cells) {
          if (cell === null || cell === undefined) appender.appendNull();
          else if (cell instanceof Date) appender.appendTimestampTZ(dateToTimestamp(cell, `rows[${index}]`));
          else appender.appendVarchar(cell);
        }
        appender.endRow();
      });
      appender.flushSync();
    } catch (error) {
      appender.clear();
      throw error;
    } finally {
      appender.closeSync();
    }
  }

  /** Which of `keys` rejected_events already holds. */
  async function knownKeys(connection: DuckDBConnection, keys: readonly string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = await runScript(connection, "rejections", { keys: JSON.stringify(keys) });
    return new Set(rows.map((row) => String(row.rejection_key)));
  }

  async function ensureStaging(connection: DuckDBConnection): Promise<void> {
    if (stagingReady) return;
    await connection.run(loadSql("duckdb", "create_staging"));
    stagingReady = true;
  }

  /**
   * Appends `rowCount` rows given column by column, in data chunks of the vector size. Values go
   * straight into each chunk's vectors: typed arrays are read without a value object per cell.
   */
  async function appendRows(
    connection: DuckDBConnection,
    table: string,
    columnCount: number,
    columns: readonly StagedColumn[] | readonly (readonly DuckDBValue[])[],
    rowCount: number,
  ): Promise<void> {
    const appender = await connection.createAppender(table, "main", "temp");
    try {
      if (appender.columnCount !== columnCount) {
        throw new WarehouseError(
          `temp.${table} has ${appender.columnCount} columns, expected ${columnCount}`,
          "invalid",
        );
      }
      const types: DuckDBType[] = Array.from({ length: columnCount }, (_, i) => appender.columnType(i));
      for (let start = 0; start < rowCount; start += CHUNK_ROWS) {
        const size = Math.min(CHUNK_ROWS, rowCount - start);
        const chunk = DuckDBDataChunk.create(types, size);
        for (let c = 0; c < columnCount; c++) {
          const values = columns[c] as ArrayLike<DuckDBValue>;
          const vector = chunk.getColumnVector(c);
          for (let r = 0; r < size; r++) vector.setItem(r, values[start + r] ?? null);
          vector.flush();
        }
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  function transpose(rows: readonly (readonly DuckDBValue[])[], columnCount: number): DuckDBValue[][] {
    const columns: DuckDBValue[][] = Array.from({ length: columnCount }, () => new Array(rows.length));
    rows.forEach((row, r) => {
      for (let c = 0; c < columnCount; c++) (columns[c] as DuckDBValue[])[r] = row[c] ?? null;
    });
    return columns;
  }

  return {
    sql,

    init() {
      return serialized("init", async (connection) => {
        await connection.run(loadSql("duckdb", "create_tables"));
        for (const statement of createViewStatements("duckdb", (name) => name))
          await connection.run(statement);
        await ensureStaging(connection);
      });
    },

    insertEvents(rows) {
      if (rows.length === 0)
        return Promise.resolve({
          inserted: 0,
          duplicates: 0,
          duplicateRows: new Set(),
          conflictRows: new Map(),
        });
      // Laying out the batch is pure work in JS: done before queueing, it overlaps the database's
      // work on earlier batches (DuckDB runs off the main thread).
      let batch: StagedBatch;
      try {
        batch = stageCostRows(rows);
      } catch (error) {
        return Promise.reject(toWarehouseError(error, "insertEvents"));
      }
      return serialized("insertEvents", async (connection): Promise<InsertResult> => {
        await ensureStaging(connection);
        try {
          await appendRows(
            connection,
            "staged_dims",
            STAGED_DIMS_COLUMNS,
            transpose(batch.dims, STAGED_DIMS_COLUMNS),
            batch.dims.length,
          );
          await appendRows(connection, "staged_events", STAGED_EVENTS_COLUMNS, batch.columns, batch.rowCount);
          const duplicateRows = new Set<number>(batch.repeated);
          const conflictRows = new Map<number, string | null>();
          // The rows and the record of their hours commit together, or neither does.
          const inserted = await inTransaction(connection, async () => {
            for (const row of await runScript(connection, "unstage_stored_events", {})) {
              const index = Number(row.row_index);
              if (row.verdict === "conflict")
                conflictRows.set(index, (row.stored_hash as string | null) ?? null);
              else duplicateRows.add(index);
            }
            await runScript(connection, "mark_pending_hours", {});
            const [result] = await runScript(connection, "insert_staged_events", {});
            return Number(result?.Count ?? 0n);
          });
          return { inserted, duplicates: duplicateRows.size, duplicateRows, conflictRows };
        } finally {
          // Emptied by re-creating the tables: a DELETE would keep the deleted rows' storage (temporary
          // tables are never checkpointed), so memory would grow by every batch ever staged. Should
          // this fail, the next batch re-creates them instead.
          stagingReady = false;
          await connection.run(loadSql("duckdb", "create_staging"));
          stagingReady = true;
        }
      });
    },

    insertRejected(rows) {
      if (rows.length === 0) return Promise.resolve();
      return serialized("insertRejected", async (connection) => {
        const known = await knownKeys(
          connection,
          rows.flatMap((row) => row.rejection_key ?? []),
        );
        const fresh = rows.filter((row) => row.rejection_key === undefined || !known.has(row.rejection_key));
        if (fresh.length === 0) return;
        await appendCells(
          connection,
          "rejected_events",
          fresh.map((row) => [
            row.rejected_at,
            row.event_source,
            row.event_id,
            row.event_type,
            row.field,
            row.reason,
            row.payload,
            row.rejection_key,
          ]),
        );
      });
    },

    knownRejections(keys) {
      if (keys.length === 0) return Promise.resolve(new Set<string>());
      return serialized("knownRejections", (connection) => knownKeys(connection, keys));
    },

    insertConflicts(rows) {
      if (rows.length === 0) return Promise.resolve();
      return serialized("insertConflicts", (connection) =>
        appendCells(
          connection,
          "conflicting_events",
          rows.map((row) => [
            row.received_at,
            row.event_source,
            row.event_id,
            row.event_type,
            row.stored_hash,
            row.received_hash,
            row.payload,
          ]),
        ),
      );
    },

    refreshHourly(range) {
      return serialized("refreshHourly", async (connection) => {
        assertRange(range, "refreshHourly");
        // Whole hours: the hour holding `from` through the hour holding the instant before `to`.
        const from = hourFloor(range.from);
        const to = Math.max(hourCeil(range.to), from);
        await inTransaction(connection, () =>
          rebuild(connection, { from: new Date(from), to: new Date(to) }),
        );
      });
    },

    refreshPending(now) {
      return serialized("refreshPending", async (connection) => {
        const merged = await pendingRanges(connection, new Date(hourFloor(now) + HOUR_MS + MAX_FUTURE_MS));
        if (merged.length === 0) return [];
        // Forgotten in the transaction that rebuilds them: a crash before COMMIT leaves them pending.
        await inTransaction(connection, async () => {
          for (const range of merged) await rebuild(connection, range);
          await runScript(connection, "pending_hours", {}, {}, "clear");
        });
        return merged;
      });
    },

    checkWritable() {
      return serialized("checkWritable", async (connection) => {
        if (options.path !== ":memory:") {
          const { bavail, bsize } = statfsSync(dirname(resolve(options.path)));
          if (bavail * bsize < MIN_FREE_BYTES) {
            throw new WarehouseError(
              `the disk holding ${options.path} has ${bavail * bsize} bytes free (needs ${MIN_FREE_BYTES})`,
              "unavailable",
            );
          }
        }
        await connection.run("CREATE TABLE IF NOT EXISTS write_probe (probed_at TIMESTAMPTZ)");
        await inTransaction(connection, async () => {
          await connection.run("DELETE FROM write_probe");
          await connection.run("INSERT INTO write_probe VALUES (now())");
        });
      });
    },

    report(query: ReportQuery) {
      return serialized("report", async (connection): Promise<ReportRow[]> => {
        assertRange(query, "report");
        const dimensions = dimensionList(query.by);
        // Read in the same serialized call as the report, so no insert or refresh comes between: an
        // hour pending here is read from the raw rows, any other from the rollup.
        const tail =
          query.reads === "live" ? clipRanges(await pendingRanges(connection, query.to), query) : [];
        const { identifiers, params } = liveTailSql("duckdb", tail, lookbackMs, query.from);
        const bound: Record<string, DuckDBValue> = {
          from: dateToTimestamp(query.from, "from"),
          to: dateToTimestamp(query.to, "to"),
        };
        for (const [name, value] of Object.entries(params)) bound[name] = dateToTimestamp(value, name);
        const rows = await runScript(connection, "report", bound, { dimensions, ...identifiers });
        return rows.map((row) => {
          const group: ReportRow["group"] = {};
          for (const dimension of query.by) {
            const value = row[dimension];
            group[dimension] = typeof value === "string" ? value : null;
          }
          return {
            group,
            currency: String(row.currency),
            cost_nanos: moneyToNanos(row.total_cost ?? null, "total_cost"),
            rows: Number(row.row_count ?? 0),
          };
        });
      });
    },

    trainingJobs(query) {
      return serialized("trainingJobs", async (connection) => {
        assertRange(query, "trainingJobs");
        const rows = await runScript(connection, "training_jobs", {
          from: dateToTimestamp(query.from, "from"),
          to: dateToTimestamp(query.to, "to"),
          now: dateToTimestamp(query.now, "now"),
          silence_seconds: query.silenceSeconds,
        });
        return rows.map(decodeTrainingJob);
      });
    },

    readEvents(range) {
      return serialized("readEvents", async (connection) => {
        assertRange(range, "readEvents");
        const rows = await runScript(connection, "read_events", {
          from: dateToTimestamp(range.from, "from"),
          to: dateToTimestamp(range.to, "to"),
        });
        return rows.map(decodeCostRow);
      });
    },

    readRejected(range) {
      return serialized("readRejected", async (connection) => {
        assertRange(range, "readRejected");
        const rows = await runScript(connection, "read_rejected", {
          from: dateToTimestamp(range.from, "from"),
          to: dateToTimestamp(range.to, "to"),
        });
        return rows.map(decodeRejectedRow);
      });
    },

    close() {
      const run = tail.then(async () => {
        if (closed) return;
        closed = true;
        if (!opened) return;
        const { instance, connection } = await opened.catch(() => ({ instance: null, connection: null }));
        opened = null;
        if (connection && connection !== options.connection) connection.closeSync();
        instance?.closeSync();
      });
      tail = run.catch(() => undefined);
      return run;
    },
  };
}
