import { DuckDBConnection, DuckDBInstance, type DuckDBValue } from "@duckdb/node-api";
import { seenKeysStatements } from "#adapters/sql/seen-keys.ts";
import { assertSeenEntry, type SeenStore, SeenStoreError } from "#ports/seen-store.ts";

export interface DuckDbSeenStoreOptions {
  /** A database file (created if missing) or ":memory:". */
  path: string;
  /** An open instance to use instead of opening `path` (the warehouse's); the caller closes it. */
  instance?: DuckDBInstance;
  /** An open connection to use; the caller keeps ownership. */
  connection?: DuckDBConnection;
  /** For updated_at; default the system clock. */
  now?: () => Date;
}

const TRANSIENT = /^(IO|Out of Memory|Interrupt|Transaction|Connection|Fatal|FATAL) Error/i;

function toSeenStoreError(error: unknown, action: string): SeenStoreError {
  if (error instanceof SeenStoreError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = TRANSIENT.test(message) || /lock on file/i.test(message) ? "unavailable" : "invalid";
  return new SeenStoreError(`DuckDB seen-store ${action} failed: ${message}`, code, { cause: error });
}

/**
 * The seen-store in DuckDB (table seen_keys, sql/duckdb/seen_keys.sql). One connection; every call
 * waits for the previous one, and a claim is one upsert, so claims never interleave.
 */
export function createDuckDbSeenStore(options: DuckDbSeenStoreOptions): SeenStore {
  if (typeof options.path !== "string" || options.path === "") {
    throw new SeenStoreError("createDuckDbSeenStore: path is required (a file or :memory:)", "invalid");
  }
  const now = options.now ?? (() => new Date());
  const sql = seenKeysStatements("duckdb");
  /** `connection` is the one queries run on; `own*` are what this store opened and closes. */
  let opened: Promise<{
    connection: DuckDBConnection;
    ownConnection: DuckDBConnection | null;
    ownInstance: DuckDBInstance | null;
  }> | null = null;
  let closed = false;
  let tail: Promise<unknown> = Promise.resolve();

  async function open() {
    if (options.connection) {
      await options.connection.run(sql.create);
      return { connection: options.connection, ownConnection: null, ownInstance: null };
    }
    const instance = options.instance ?? (await DuckDBInstance.create(options.path));
    try {
      const own = await DuckDBConnection.create(instance);
      await own.run(sql.create);
      return { connection: own, ownConnection: own, ownInstance: options.instance ? null : instance };
    } catch (error) {
      if (!options.instance) instance.closeSync();
      throw error;
    }
  }

  function serialized<T>(action: string, work: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = tail.then(async () => {
      if (closed) throw new SeenStoreError(`DuckDB seen-store ${action}: closed`, "unavailable");
      try {
        opened ??= open();
        const handles = await opened.catch((error: unknown) => {
          opened = null;
          throw error;
        });
        return await work(handles.connection);
      } catch (error) {
        throw toSeenStoreError(error, action);
      }
    });
    tail = run.catch(() => undefined);
    return run;
  }

  const params = (values: Record<string, DuckDBValue>) => values;

  return {
    async claim(key, value) {
      assertSeenEntry(key, value);
      return serialized("claim", async (c) => {
        const reader = await c.runAndReadAll(
          sql.claim,
          params({ key, value, updated_at: now().toISOString() }),
        );
        const previous = reader.getRowObjects()[0]?.previous;
        return typeof previous === "bigint" ? previous : undefined;
      });
    },
    async release(key, value, previous) {
      assertSeenEntry(key, value);
      if (previous !== undefined) assertSeenEntry(key, previous);
      return serialized("release", async (c) => {
        if (previous === undefined) await c.run(sql.forget, params({ key, value }));
        else await c.run(sql.restore, params({ key, value, previous, updated_at: now().toISOString() }));
      });
    },
    async close() {
      if (closed) return;
      await tail;
      closed = true;
      const handles = await opened?.catch(() => null);
      handles?.ownConnection?.closeSync();
      handles?.ownInstance?.closeSync();
    },
  };
}
