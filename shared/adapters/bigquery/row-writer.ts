import type { Dataset } from "@google-cloud/bigquery";
import type { WriterClient } from "#adapters/bigquery-storage-write/storage-write-client.ts";
import type { AppendRetryPolicy } from "#adapters/bigquery-storage-write/storage-write-writer.ts";
import type { InsertLimits, PendingRow } from "./bigquery-rows.ts";
import { createInsertAllWriter } from "./insert-all-writer.ts";

/** Which BigQuery API the warehouse streams its rows with. */
export type WriteApi = "storage-write" | "insert-all";

/**
 * How the warehouse streams rows into one of its tables: the Storage Write API's default stream or
 * tabledata.insertAll. Either stores every row of the call or throws a WarehouseError: `invalid`
 * naming the row and field BigQuery refused, `unavailable` when the same call may succeed later.
 * Both are at least once: rows of a call that failed may be stored, and are stored again when the
 * call is repeated (the readers keep the first ingested copy of each key).
 */
export interface RowWriter {
  write(table: string, rows: readonly PendingRow[]): Promise<void>;
  close(): Promise<void>;
}

export interface RowWriterOptions {
  writeApi: WriteApi;
  dataset: Dataset;
  datasetId: string;
  /** The project that holds the dataset, when known. */
  projectId: string | undefined;
  limits: InsertLimits;
  /** Injected Storage Write API client; by default one on Google's endpoint. */
  writerClient: WriterClient | undefined;
  appendRetry: Partial<AppendRetryPolicy> | undefined;
}

/**
 * The writer for `writeApi`. The Storage Write API client is loaded only here, at the first write,
 * so a function that only reads the warehouse does not pay for loading it at a cold start.
 */
export async function createRowWriter(options: RowWriterOptions): Promise<RowWriter> {
  if (options.writeApi === "insert-all") return createInsertAllWriter(options.dataset, options.limits);
  const [{ createStorageWriteClient }, { createStorageWriteWriter }] = await Promise.all([
    import("#adapters/bigquery-storage-write/storage-write-client.ts"),
    import("#adapters/bigquery-storage-write/storage-write-writer.ts"),
  ]);
  const { projectId } = options;
  return createStorageWriteWriter({
    client: options.writerClient ?? createStorageWriteClient(projectId === undefined ? {} : { projectId }),
    ...(projectId === undefined ? {} : { projectId }),
    dataset: options.datasetId,
    limits: options.limits,
    ...(options.appendRetry === undefined ? {} : { retry: options.appendRetry }),
  });
}
