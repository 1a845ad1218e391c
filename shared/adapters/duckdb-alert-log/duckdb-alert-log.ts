import { DuckDBConnection, DuckDBInstance, type DuckDBValue } from "@duckdb/node-api";
import { type AlertLog, AlertLogError } from "#ports/alert-log.ts";
import {
  type AlertLogQuery,
  alertLogQuery,
  deliveryOfRow,
  recentParams,
  recordParams,
} from "./alert-log-queries.ts";

export interface DuckDbAlertLogOptions {
  /** A database file (created if missing) or ":memory:". */
  path: string;
  /** An open instance to use instead of opening `path`; the caller keeps ownership and closes it. */
  instance?: DuckDBInstance;
  /** An open connection to use; the caller keeps ownership. */
  connection?: DuckDBConnection;
}

const TRANSIENT = /^(IO|Out of Memory|Interrupt|Transaction|Connection|Fatal|FATAL) Error|lock on file/i;

function toAlertLogError(error: unknown, action: string): AlertLogError {
  if (error instanceof AlertLogError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = TRANSIENT.test(message) ? "unavailable" : "invalid";
  return new AlertLogError(code, `DuckDB alert log ${action} failed: ${message}`, { cause: error });
}

interface Opened {
  instance: DuckDBInstance | null;
  connection: DuckDBConnection;
  own: boolean;
}

async function openConnection(options: DuckDbAlertLogOptions): Promise<Opened> {
  if (options.connection) return { instance: null, connection: options.connection, own: false };
  const instance = options.instance ?? (await DuckDBInstance.create(options.path));
  try {
    const connection = await DuckDBConnection.create(instance);
    await connection.run("SET TimeZone = 'UTC'");
    return { instance: options.instance ? null : instance, connection, own: true };
  } catch (error) {
    if (!options.instance) instance.closeSync();
    throw error;
  }
}

/**
 * The alert log in DuckDB (table alert_log, sql/duckdb/alert_log.sql). Calls run one after another on
 * one connection; the key is the table's primary key, so a second record of a key changes nothing.
 */
export function createDuckDbAlertLog(options: DuckDbAlertLogOptions): AlertLog {
  if (!options.connection && !options.instance && !options.path) {
    throw new AlertLogError("invalid", "createDuckDbAlertLog: path is required (a file or :memory:)");
  }
  let opened: Promise<Opened> | null = null;
  let closed = false;
  let tail: Promise<unknown> = Promise.resolve();

  function run(action: string, query: AlertLogQuery, params: Record<string, DuckDBValue> = {}) {
    const work = tail.then(async () => {
      if (closed) throw new AlertLogError("unavailable", `DuckDB alert log ${action}: the log is closed`);
      try {
        opened ??= openConnection(options).catch((error: unknown) => {
          opened = null;
          throw error;
        });
        const { connection } = await opened;
        return (await connection.runAndReadAll(alertLogQuery("duckdb", query), params)).getRowObjects();
      } catch (error) {
        throw toAlertLogError(error, action);
      }
    });
    tail = work.catch(() => undefined);
    return work;
  }

  return {
    async init() {
      await run("init", "create");
    },
    async record(delivery) {
      const rows = await run("record", "record", recordParams(delivery));
      return rows.length > 0;
    },
    async find(key) {
      const [row] = await run("find", "find", { idempotency_key: key });
      return row === undefined ? undefined : deliveryOfRow(row);
    },
    async findThread(threadKey) {
      const [row] = await run("findThread", "find_thread", { thread_key: threadKey });
      return row === undefined ? undefined : deliveryOfRow(row);
    },
    async recent(query) {
      const rows = await run("recent", "recent", recentParams(query));
      return rows.map(deliveryOfRow);
    },
    async close() {
      const settled = tail.then(async () => {
        closed = true;
        const current = opened ? await opened.catch(() => null) : null;
        if (current?.own) current.connection.closeSync();
        current?.instance?.closeSync();
      });
      tail = settled.catch(() => undefined);
      await settled;
    },
  };
}
