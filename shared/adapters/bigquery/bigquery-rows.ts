import { createHash } from "node:crypto";
import type { CostRow, RejectedRow } from "#domain/cost-row.ts";
import { decimalToNanos, formatAmount, NANO_DIGITS, type Nanos } from "#domain/money.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";

/**
 * Pure encoding between the domain's rows and BigQuery's wire format (tabledata.insertAll JSON,
 * query results). No I/O here, so it is tested on its own.
 */

/** BigQuery NUMERIC holds 29 integer and 9 fractional digits: |value| < 1e29 units = 1e38 nanos. */
export const NUMERIC_LIMIT_NANOS = 10n ** 38n;

/** Rows and bytes of encoded JSON one write request may carry. */
export interface InsertLimits {
  maxRows: number;
  maxBytes: number;
}

/**
 * tabledata.insertAll's documented limits are 10 MB and 50,000 rows a request, 500 rows Google's
 * advice; an AppendRows request may carry 10 MB too, and its protobuf rows are smaller than their JSON.
 */
export const INSERT_LIMITS: InsertLimits = Object.freeze({ maxRows: 500, maxBytes: 9_000_000 });

/** One row as `table.insert(rows, { raw: true })` sends it. */
export interface InsertAllRow {
  insertId: string;
  json: Record<string, string | number | boolean | null>;
}

/** Nanos as a NUMERIC literal with all nine decimals ("3.060000000"): exact, never a float. */
export function nanosToNumeric(nanos: Nanos, where = "value"): string {
  if (nanos <= -NUMERIC_LIMIT_NANOS || nanos >= NUMERIC_LIMIT_NANOS) {
    throw new WarehouseError(`${where}: ${nanos} nanos does not fit BigQuery NUMERIC`, "invalid");
  }
  return formatAmount(nanos, NANO_DIGITS);
}

/** Anything with Big.js's `toFixed(dp)`: what the client returns for NUMERIC and BIGNUMERIC. */
interface DecimalLike {
  toFixed(dp: number): string;
}

function isDecimalLike(value: unknown): value is DecimalLike {
  return typeof value === "object" && value !== null && typeof (value as DecimalLike).toFixed === "function";
}

/**
 * A NUMERIC result back to nanos, exactly. The client (v8) hands NUMERIC over as a Big.js value whose
 * `toString()` switches to exponent form below 1e-7 ("1e-9"), so it is read through `toFixed(9)`,
 * which is exact for NUMERIC's nine decimals. Plain decimal strings (e.g. `CAST(x AS STRING)`) are
 * accepted too; JS numbers are refused, since a float has already lost the nanos.
 */
export function numericToNanos(value: unknown, where = "value"): Nanos {
  if (typeof value === "string") return decimalToNanos(value);
  if (isDecimalLike(value)) return decimalToNanos(value.toFixed(NANO_DIGITS));
  throw new WarehouseError(`${where}: expected a NUMERIC value, got ${typeof value}`, "invalid");
}

/** The dedupe key every adapter shares. */
export function costRowKey(row: Pick<CostRow, "event_source" | "event_id" | "part">): string {
  return JSON.stringify([row.event_source, row.event_id, row.part]);
}

/**
 * insertId for BigQuery's best-effort streaming dedupe: a hash of (event_source, event_id, part), so
 * a retried or redelivered row carries the same id. BigQuery drops a repeat seen within about a
 * minute; anything later is removed by refresh_hourly, which keeps the first ingested copy.
 */
export function costRowInsertId(row: Pick<CostRow, "event_source" | "event_id" | "part">): string {
  return createHash("sha256").update(costRowKey(row)).digest("hex");
}

function timestamp(value: Date, where: string): string {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new WarehouseError(`${where}: not a valid time`, "invalid");
  }
  // RFC 3339 in UTC with milliseconds ("2026-03-01T12:00:00.000Z"), which insertAll accepts for TIMESTAMP.
  return value.toISOString();
}

/** JSON columns go over insertAll as JSON text. Component amounts stay exact as decimal strings. */
function jsonText(value: Record<string, unknown>): string {
  return JSON.stringify(value);
}

/** How errors name a cost row: its position in the caller's batch and its dedupe key. */
export function costRowLabel(row: CostRow, index: number): string {
  return `rows[${index}] (${row.event_source}, ${row.event_id}, ${row.part})`;
}

export function encodeCostRow(row: CostRow, index = 0): InsertAllRow {
  const where = (field: string) => `${costRowLabel(row, index)}.${field}`;
  const components: Record<string, string> = {};
  for (const [name, nanos] of Object.entries(row.components)) {
    components[name] = nanosToNumeric(nanos, where(`components.${name}`));
  }
  return {
    insertId: costRowInsertId(row),
    json: {
      event_id: row.event_id,
      event_source: row.event_source,
      event_type: row.event_type,
      part: row.part,
      event_time: timestamp(row.event_time, where("event_time")),
      ingested_at: timestamp(row.ingested_at, where("ingested_at")),
      basis: row.basis,
      team: row.team,
      model: row.model,
      model_version: row.model_version,
      business_unit: row.business_unit,
      cost_center: row.cost_center,
      namespace: row.namespace,
      environment: row.environment,
      cloud: row.cloud,
      region: row.region,
      labels: jsonText(row.labels),
      instance_type: row.instance_type,
      accelerator: row.accelerator,
      pricing_model: row.pricing_model,
      provider: row.provider,
      gpu_count: row.gpu_count,
      gpu_seconds: row.gpu_seconds,
      input_tokens: row.input_tokens,
      cached_input_tokens: row.cached_input_tokens,
      output_tokens: row.output_tokens,
      cache_hit: row.cache_hit,
      request_fingerprint: row.request_fingerprint,
      job_id: row.job_id,
      job_phase: row.job_phase,
      epoch: row.epoch,
      elapsed_seconds: row.elapsed_seconds,
      cost: nanosToNumeric(row.cost_nanos, where("cost_nanos")),
      currency: row.currency,
      components: jsonText(components),
      price_source: row.price_source,
      payload_hash: row.payload_hash ?? null,
    },
  };
}

/**
 * Rejected input has no key of its own; the hash of what was rejected and why lets a redelivery
 * inside BigQuery's dedupe window land once.
 */
export function encodeRejectedRow(row: RejectedRow, index = 0): InsertAllRow {
  const identity = [row.event_source, row.event_id, row.event_type, row.field, row.reason, row.payload];
  return {
    insertId: row.rejection_key ?? createHash("sha256").update(JSON.stringify(identity)).digest("hex"),
    json: {
      rejected_at: timestamp(row.rejected_at, `rows[${index}].rejected_at`),
      event_source: row.event_source,
      event_id: row.event_id,
      event_type: row.event_type,
      field: row.field,
      reason: row.reason,
      payload: row.payload,
      rejection_key: row.rejection_key ?? null,
    },
  };
}

/**
 * Keeps the first row of each (event_source, event_id, part) with its position in the input (so
 * errors name the caller's row) and counts the repeats.
 */
export function dedupeBatch(rows: readonly CostRow[]): {
  unique: { row: CostRow; index: number }[];
  duplicates: number;
  /** Indexes of the later copies, the ones not sent. */
  duplicateRows: Set<number>;
} {
  const seen = new Set<string>();
  const unique: { row: CostRow; index: number }[] = [];
  const duplicateRows = new Set<number>();
  rows.forEach((row, index) => {
    const key = costRowKey(row);
    if (seen.has(key)) {
      duplicateRows.add(index);
      return;
    }
    seen.add(key);
    unique.push({ row, index });
  });
  return { unique, duplicates: duplicateRows.size, duplicateRows };
}

/** Bytes of `{"rows":[]}` plus room for options the client may add to the request body. */
const ENVELOPE_BYTES = 256;

/** A row ready to send, with how errors name it: "rows[3] (source, id, part)". */
export interface PendingRow {
  label: string;
  row: InsertAllRow;
}

/**
 * Cuts rows into insertAll requests of at most `maxRows` rows and `maxBytes` of JSON body, in order.
 * A single row too big for a request on its own is refused rather than sent to fail.
 */
export function chunkInsertRows<T extends PendingRow>(
  items: readonly T[],
  limits: InsertLimits = INSERT_LIMITS,
): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = ENVELOPE_BYTES;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item.row)) + 1;
    if (ENVELOPE_BYTES + size > limits.maxBytes) {
      throw new WarehouseError(
        `${item.label} is ${size} bytes encoded, more than one insert request may carry (${limits.maxBytes})`,
        "invalid",
      );
    }
    if (current.length >= limits.maxRows || bytes + size > limits.maxBytes) {
      chunks.push(current);
      current = [];
      bytes = ENVELOPE_BYTES;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

const HOUR_MS = 3_600_000;

/** Widens a range to the whole hours it touches: [floor(from), ceil(to)). */
export function wholeHours(range: { from: Date; to: Date }): { from: Date; to: Date } {
  const from = Math.floor(range.from.getTime() / HOUR_MS) * HOUR_MS;
  const to = Math.ceil(range.to.getTime() / HOUR_MS) * HOUR_MS;
  return { from: new Date(from), to: new Date(to) };
}
