import type { Dataset } from "@google-cloud/bigquery";
import { isPartialFailure, partialFailureToWarehouseError, toWarehouseError } from "./bigquery-errors.ts";
import { chunkInsertRows, type InsertLimits, type PendingRow } from "./bigquery-rows.ts";
import type { RowWriter } from "./row-writer.ts";

/** How often rows of a request refused for transient reasons are sent again before the batch fails. */
const PARTIAL_RETRIES = 3;

/**
 * Streams rows with tabledata.insertAll in requests within `limits`, one after another; the first
 * failure stops the call. Each row carries its insertId (BigQuery's best-effort dedupe for about a
 * minute). Rows of a request refused only for transient reasons (or stopped by them) are sent again,
 * with the same insertIds, a few times; then the call fails as unavailable.
 */
export function createInsertAllWriter(dataset: Dataset, limits: InsertLimits): RowWriter {
  return {
    async write(tableName, pending) {
      const table = dataset.table(tableName);
      for (const chunk of chunkInsertRows(pending, limits)) {
        let rows: readonly PendingRow[] = chunk;
        for (let attempt = 0; rows.length > 0; attempt++) {
          try {
            // raw: our own insertIds and JSON; partialRetries 0: this loop decides what is resent.
            await table.insert(
              rows.map((p) => p.row),
              { raw: true, partialRetries: 0 },
            );
            rows = [];
          } catch (cause) {
            if (!isPartialFailure(cause)) throw toWarehouseError(cause, `insert into ${tableName}`, true);
            const error = partialFailureToWarehouseError(
              cause,
              rows.map((p) => p.label),
              tableName,
            );
            if (!error.retryable || attempt >= PARTIAL_RETRIES) throw error;
            const failed = new Set((cause.response?.insertErrors ?? []).map((e) => e.index));
            rows = rows.filter((_, index) => failed.has(index));
          }
        }
      }
    },
    async close() {
      // The client holds no connection of its own to release (HTTP keep-alive sockets close when idle).
    },
  };
}
