import { randomUUID } from "node:crypto";
import {
  DuckDBConnection,
  DuckDBInstance,
  type DuckDBValue,
  StatementType,
  timestampTZValue,
} from "@duckdb/node-api";
import { loadSql } from "#adapters/sql/load-sql.ts";
import { type AlertClaims, AlertClaimsError, assertClaimKey } from "#ports/alert-claims.ts";
import { type Clock, systemClock } from "#ports/clock.ts";

export interface DuckDbAlertClaimsOptions {
  /** A database file (created if missing) or ":memory:"; ignored when `instance` or `connection` is given. */
  path?: string;
  /**
   * An open instance (e.g. the warehouse's, so claims live in the same file): the adapter opens its
   * own connection on it and the caller keeps ownership of the instance.
   */
  instance?: DuckDBInstance;
  /** An open connection to use; the caller keeps ownership. It must not be used by anything else at once. */
  connection?: DuckDBConnection;
  clock?: Clock;
}

export interface DuckDbAlertClaims extends AlertClaims {
  close(): Promise<void>;
}

/** Write-write conflicts between connections of one instance: the claim is safe to run again. */
const CONFLICT = /conflict|TransactionContext|Transaction Error/i;
const TRANSIENT = /^(IO|Out of Memory|Interrupt|Transaction|Connection|Fatal|FATAL) Error|lock on file/i;
const ATTEMPTS = 3;

function toClaimsError(error: unknown): AlertClaimsError {
  if (error instanceof AlertClaimsError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = TRANSIENT.test(message) || CONFLICT.test(message) ? "unavailable" : "invalid";
  return new AlertClaimsError(code, `DuckDB alert claim failed: ${message}`, { cause: error });
}

/**
 * Alert claims in a DuckDB table (`alert_claims`, created on first use) through the named query
 * sql/duckdb/alert_claims.sql. Claims are serialized on the adapter's connection; connections of
 * the same instance racing on one key are resolved by the key's primary key (one insert wins, the
 * loser retries and reads the winner's token).
 */
export function createDuckDbAlertClaims(options: DuckDbAlertClaimsOptions): DuckDbAlertClaims {
  if (!options.connection && !options.instance && (typeof options.path !== "string" || options.path === "")) {
    throw new AlertClaimsError(
      "invalid",
      "createDuckDbAlertClaims: path, instance or connection is required",
    );
  }
  const clock = options.clock ?? systemClock;
  let opened: Promise<{ instance: DuckDBInstance | null; connection: DuckDBConnection }> | null = null;
  let tableReady = false;
  let closed = false;
  let tail: Promise<unknown> = Promise.resolve();

  async function open() {
    if (options.connection) return { instance: null, connection: options.connection };
    const instance = options.instance ?? (await DuckDBInstance.create(options.path as string));
    try {
      return {
        instance: options.instance ? null : instance,
        connection: await DuckDBConnection.create(instance),
      };
    } catch (error) {
      if (!options.instance) instance.closeSync();
      throw error;
    }
  }

  async function claimOnce(connection: DuckDBConnection, key: string): Promise<boolean> {
    const params: Record<string, DuckDBValue> = {
      claim_key: key,
      claim_token: randomUUID(),
      claimed_at: timestampTZValue(BigInt(clock.now().getTime()) * 1000n),
    };
    const extracted = await connection.extractStatements(loadSql("duckdb", "alert_claims"));
    let rows: Record<string, DuckDBValue>[] = [];
    for (let index = 0; index < extracted.count; index++) {
      const prepared = await extracted.prepare(index);
      try {
        if (tableReady && prepared.statementType === StatementType.CREATE) continue;
        for (let p = 1; p <= prepared.parameterCount; p++) {
          const name = prepared.parameterName(p);
          const value = params[name];
          if (value === undefined)
            throw new AlertClaimsError("invalid", `alert_claims.sql: no value for $${name}`);
          prepared.bindValue(p, value);
        }
        rows = (await prepared.runAndReadAll()).getRowObjects();
        if (prepared.statementType === StatementType.CREATE) tableReady = true;
      } finally {
        prepared.destroySync();
      }
    }
    return rows[0]?.claimed === true;
  }

  return {
    claim(key) {
      try {
        assertClaimKey(key);
      } catch (error) {
        return Promise.reject(error);
      }
      const run = tail.then(async () => {
        if (closed) throw new AlertClaimsError("unavailable", "DuckDB alert claims: closed");
        try {
          opened ??= open();
          const { connection } = await opened.catch((error: unknown) => {
            opened = null;
            throw error;
          });
          for (let attempt = 1; ; attempt++) {
            try {
              return await claimOnce(connection, key);
            } catch (error) {
              const message = error instanceof Error ? error.message : String(error);
              if (attempt >= ATTEMPTS || !CONFLICT.test(message)) throw error;
            }
          }
        } catch (error) {
          throw toClaimsError(error);
        }
      });
      tail = run.catch(() => undefined);
      return run;
    },

    close() {
      const run = tail.then(async () => {
        if (closed) return;
        closed = true;
        const current = await opened?.catch(() => null);
        if (!current) return;
        if (current.connection !== options.connection) current.connection.closeSync();
        current.instance?.closeSync();
      });
      tail = run.catch(() => undefined);
      return run;
    },
  };
}
