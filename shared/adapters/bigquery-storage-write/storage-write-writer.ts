import { setTimeout as sleep } from "node:timers/promises";
import { adapt, managedwriter, protos } from "@google-cloud/bigquery-storage";
import {
  chunkInsertRows,
  INSERT_LIMITS,
  type InsertLimits,
  type PendingRow,
} from "#adapters/bigquery/bigquery-rows.ts";
import type { RowWriter } from "#adapters/bigquery/row-writer.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";
import type { WriterClient } from "./storage-write-client.ts";
import { appendResponseError, toStorageWriteError } from "./storage-write-errors.ts";
import { columnTypes, toAppendRow } from "./storage-write-rows.ts";

/**
 * How often an append refused for a reason that passes is sent again, the first pause (doubling),
 * and how long one attempt may wait for its answer.
 */
export interface AppendRetryPolicy {
  maxRetries: number;
  firstDelayMs: number;
  attemptTimeoutMs: number;
}

/**
 * A blip (a connection the server closed while the function was idle) heals within a second or two;
 * an append answers in well under a second, so one unanswered for 10 s is given up (three attempts
 * stay inside the ingest function's 60 s).
 */
export const APPEND_RETRY_POLICY: AppendRetryPolicy = Object.freeze({
  maxRetries: 2,
  firstDelayMs: 250,
  attemptTimeoutMs: 10_000,
});

export interface StorageWriteWriterOptions {
  client: WriterClient;
  /** The project that holds the dataset; the client's (from the environment) when absent. */
  projectId?: string;
  dataset: string;
  limits?: InsertLimits;
  retry?: Partial<AppendRetryPolicy>;
}

/** One table's default stream: its columns and the JSONWriter on its connection. */
interface TableStream {
  columns: ReadonlyMap<string, string>;
  writer: managedwriter.JSONWriter;
}

/**
 * Streams rows into each table's default stream of the Storage Write API: committed as soon as an
 * append is acknowledged, at least once, no insertId and no per-row minimum. Rows go in requests
 * within `limits`, one after another, each awaited; the first failure stops the call. A request
 * refused for a reason that passes is sent again a few times (on the default stream a resend may
 * store the rows twice; the readers keep the first ingested copy of each key); a request with row
 * errors is refused whole, naming each bad row and BigQuery's message about its field.
 */
export function createStorageWriteWriter(options: StorageWriteWriterOptions): RowWriter {
  const { client, dataset } = options;
  const limits = options.limits ?? INSERT_LIMITS;
  const retry = { ...APPEND_RETRY_POLICY, ...options.retry };
  const streams = new Map<string, Promise<TableStream>>();
  let project: string | undefined = options.projectId;

  /** Reads the table's schema from its default stream (GetWriteStream, view FULL), opens its connection. */
  async function open(table: string): Promise<TableStream> {
    project ??= await client.getClient().getProjectId();
    const destinationTable = `projects/${project}/datasets/${dataset}/tables/${table}`;
    const stream = await client.getWriteStream({
      streamId: `${destinationTable}/streams/_default`,
      view: protos.google.cloud.bigquery.storage.v1.WriteStreamView.FULL,
    });
    const schema = stream.tableSchema ?? { fields: [] };
    const connection = await client.createStreamConnection({
      streamId: managedwriter.DefaultStream,
      destinationTable,
    });
    // A failed connection fails its pending appends, which is where it is handled; without a
    // listener the connection would also throw a non-retryable status out of its event emitter.
    connection.onConnectionError(() => {});
    const protoDescriptor = adapt.convertStorageSchemaToProto2Descriptor(schema, "root");
    return {
      columns: columnTypes(schema),
      writer: new managedwriter.JSONWriter({ connection, protoDescriptor }),
    };
  }

  function tableStream(table: string): Promise<TableStream> {
    let stream = streams.get(table);
    if (stream === undefined) {
      stream = open(table).catch((error: unknown) => {
        streams.delete(table);
        throw toStorageWriteError(error, `opening the default stream of ${table}`);
      });
      streams.set(table, stream);
    }
    return stream;
  }

  /**
   * The table's stream; read again when a row names a column it did not have, since the table may
   * have gained it after the stream was opened (a deployment that adds a column and the code that
   * writes it). Only a column still missing then is refused.
   */
  async function streamFor(table: string, chunk: readonly PendingRow[]): Promise<TableStream> {
    const stream = await tableStream(table);
    if (chunk.every((p) => Object.keys(p.row.json).every((name) => stream.columns.has(name)))) return stream;
    await drop(table, stream);
    return tableStream(table);
  }

  /** Closes a table's stream; the next append opens it anew (unless another call already has). */
  async function drop(table: string, stream: TableStream): Promise<void> {
    const current = await streams.get(table)?.catch(() => undefined);
    if (current === stream) streams.delete(table);
    stream.writer.close();
  }

  async function appendOnce(table: string, chunk: readonly PendingRow[]): Promise<void> {
    const stream = await streamFor(table, chunk);
    const rows = chunk.map((p) => toAppendRow(p.row.json, stream.columns, p.label, table));
    let pending: ReturnType<managedwriter.JSONWriter["appendRows"]>;
    try {
      // Encodes the rows against the table's descriptor before anything is sent.
      pending = stream.writer.appendRows(rows);
    } catch (cause) {
      throw new WarehouseError(`cannot encode rows for ${table}: ${(cause as Error).message}`, "invalid", {
        cause,
      });
    }
    let response: protos.google.cloud.bigquery.storage.v1.IAppendRowsResponse;
    const timer = new AbortController();
    try {
      response = await Promise.race([
        pending.getResult(),
        sleep(retry.attemptTimeoutMs, undefined, { signal: timer.signal }).then(async () => {
          // Answers are matched to appends in order: a connection that skipped one would hand the
          // next append this one's answer. It is dropped, and the table's stream opened anew.
          await drop(table, stream);
          throw new WarehouseError(
            `BigQuery Storage Write append to ${table} got no answer in ${retry.attemptTimeoutMs} ms`,
            "unavailable",
          );
        }),
      ]);
    } catch (cause) {
      throw toStorageWriteError(cause, `append to ${table}`);
    } finally {
      timer.abort();
    }
    if (response.error) {
      throw appendResponseError(
        response.error,
        response.rowErrors ?? [],
        chunk.map((p) => p.label),
        table,
      );
    }
  }

  async function append(table: string, chunk: readonly PendingRow[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await appendOnce(table, chunk);
      } catch (error) {
        const failure = error as WarehouseError;
        if (!failure.retryable || attempt >= retry.maxRetries) throw failure;
        await sleep(retry.firstDelayMs * 2 ** attempt);
      }
    }
  }

  return {
    async write(table, pending) {
      for (const chunk of chunkInsertRows(pending, limits)) await append(table, chunk);
    },
    async close() {
      streams.clear();
      // The connections, then the channel under them, which would otherwise keep the process alive.
      client.close();
      await client.getClient().close();
    },
  };
}
