import {
  DuckDBDecimalValue as DecimalValueClass,
  type DuckDBDecimalValue,
  DuckDBTimestampTZValue,
  type DuckDBValue,
  decimalValue,
  timestampTZValue,
} from "@duckdb/node-api";
import type { CostBasis, CostRow, RejectedRow } from "#domain/cost-row.ts";
import { decimalToNanos, NANO_DIGITS, type Nanos, nanosToDecimal } from "#domain/money.ts";
import type { TrainingJobRow, TrainingOutcome } from "#domain/training/job-summary.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";

/** DECIMAL(38,9): the widest DuckDB decimal, nine places, so one nano is its smallest step. */
export const MONEY_WIDTH = 38;
const MAX_MONEY_NANOS = 10n ** BigInt(MONEY_WIDTH) - 1n;

/** Columns of temp.staged_dims, in table order (sql/duckdb/create_staging.sql). */
export const STAGED_DIMS_COLUMNS = 21;
/** The staged_dims columns after dims_id. */
const DIM_VALUES = STAGED_DIMS_COLUMNS - 1;
/** Columns of temp.staged_events, in table order (sql/duckdb/create_staging.sql). */
export const STAGED_EVENTS_COLUMNS = 19;

/**
 * One staged_events column: INTEGER columns in an Int32Array; DOUBLE columns in a Float64Array with
 * NaN standing for NULL (no validated number is NaN, and marking a NULL in a vector costs the
 * appender BigInt arithmetic per cell); strings and amounts as arrays.
 */
export type StagedColumn = Int32Array | Float64Array | (string | null)[] | DuckDBDecimalValue[];

/**
 * A batch laid out for the appender: rows unique on (event_source, event_id, part), their attribution
 * columns interned into `dims` (one entry per distinct combination), and column arrays in the order
 * of the staging tables. Strings cost a native call each to append; numbers and nulls do not, so the
 * strings that repeat across a batch are appended once. Times, token counts and other numbers are
 * staged as DOUBLE (exact for whole milliseconds and safe integers: insert_staged_events casts them
 * back), so no row needs a BigInt or a value object but its amount.
 */
export interface StagedBatch {
  /** temp.staged_dims rows. */
  dims: DuckDBValue[][];
  /** temp.staged_events columns, each `rowCount` long. */
  columns: StagedColumn[];
  rowCount: number;
  /** Input indexes of later copies of a key within the batch, dropped here (duplicates). */
  repeated: number[];
}

function invalid(where: string, message: string, cause?: unknown): WarehouseError {
  return new WarehouseError(`${where}: ${message}`, "invalid", cause === undefined ? undefined : { cause });
}

export function dateToTimestamp(value: Date, where: string): DuckDBTimestampTZValue {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw invalid(where, "not a valid time");
  return timestampTZValue(BigInt(ms) * 1000n);
}

export function timestampToDate(value: DuckDBValue, where: string): Date {
  if (!(value instanceof DuckDBTimestampTZValue)) throw invalid(where, "expected a TIMESTAMPTZ");
  return new Date(Number(value.micros / 1000n));
}

export function nanosToMoney(nanos: Nanos, where: string): DuckDBDecimalValue {
  if (typeof nanos !== "bigint") throw invalid(where, "cost must be bigint nanos");
  if (nanos > MAX_MONEY_NANOS || nanos < -MAX_MONEY_NANOS) {
    throw invalid(where, `${nanos} nanos does not fit DECIMAL(38,9)`);
  }
  return decimalValue(nanos, MONEY_WIDTH, NANO_DIGITS);
}

/** A DECIMAL of any scale (SUM may widen it) to nanos, exactly; a scale above nine must carry no digits there. */
export function moneyToNanos(value: DuckDBValue, where: string): Nanos {
  if (!(value instanceof DecimalValueClass)) throw invalid(where, "expected a DECIMAL amount");
  const shift = NANO_DIGITS - value.scale;
  if (shift >= 0) return value.value * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  if (value.value % divisor !== 0n) throw invalid(where, `${value.toString()} has digits below one nano`);
  return value.value / divisor;
}

/** A BIGINT column's value staged as a DOUBLE: a safe integer, or NaN for NULL. */
function wholeOrNaN(value: number | null, index: number, field: string): number {
  if (value === null || value === undefined) return Number.NaN;
  if (!Number.isSafeInteger(value))
    throw invalid(`rows[${index}].${field}`, `${value} is not a whole number`);
  return value;
}

function numberOrNaN(value: number | null, index: number, field: string): number {
  if (value === null || value === undefined) return Number.NaN;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw invalid(`rows[${index}].${field}`, `${value} is not a finite number`);
  }
  return value;
}

/** Field names are joined into a message only on failure: a batch has hundreds of thousands of fields. */
function rowTimeMs(value: Date, index: number, field: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw invalid(`rows[${index}].${field}`, "not a valid time");
  return ms;
}

function rowMoney(nanos: Nanos, index: number): DuckDBDecimalValue {
  if (typeof nanos !== "bigint" || nanos > MAX_MONEY_NANOS || nanos < -MAX_MONEY_NANOS) {
    return nanosToMoney(nanos, `rows[${index}].cost_nanos`);
  }
  return decimalValue(nanos, MONEY_WIDTH, NANO_DIGITS);
}

function stringOrNull(value: string | null | undefined): string | null {
  return value === undefined ? null : value;
}

function labelsJson(labels: Record<string, string> | undefined): string {
  if (!labels) return "{}";
  for (const _ in labels) return JSON.stringify(labels);
  return "{}";
}

function componentsJson(components: Record<string, Nanos> | undefined, index: number): string | null {
  if (!components) return null;
  let out: Record<string, string> | null = null;
  for (const [name, amount] of Object.entries(components)) {
    if (typeof amount !== "bigint")
      throw invalid(`rows[${index}].components.${name}`, "must be bigint nanos");
    out ??= {};
    out[name] = nanosToDecimal(amount);
  }
  return out === null ? null : JSON.stringify(out);
}

/** A trie over value tuples (null allowed): the id of each distinct tuple, without building key strings. */
interface TupleNode {
  next: Map<string | null, TupleNode>;
  id: number;
}

function tupleId(root: TupleNode, values: readonly (string | null)[], nextId: number): number {
  let node = root;
  for (const value of values) {
    let child = node.next.get(value);
    if (child === undefined) {
      child = { next: new Map(), id: -1 };
      node.next.set(value, child);
    }
    node = child;
  }
  if (node.id === -1) node.id = nextId;
  return node.id;
}

/** How many distinct attribution combinations per source are compared directly before the trie. */
const RECENT_DIMS_PER_SOURCE = 8;

/** Lays out `rows` for the staging tables, dropping later copies of a key within the batch. */
export function stageCostRows(rows: readonly CostRow[]): StagedBatch {
  // Within the batch the first ingested copy of a key wins, as in refresh_hourly's dedupe.
  // Keys are looked up by source, then id; a second part of one id (rare) goes through `otherParts`.
  const bySource = new Map<string, Map<string, number>>();
  const otherParts = new Map<string, number>();
  const kept: number[] = [];
  const repeated: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as CostRow;
    let ids = bySource.get(row.event_source);
    if (ids === undefined) {
      ids = new Map();
      bySource.set(row.event_source, ids);
    }
    let slot = ids.get(row.event_id);
    if (slot === undefined) {
      ids.set(row.event_id, kept.length);
      kept.push(i);
      continue;
    }
    if ((rows[kept[slot] as number] as CostRow).part !== row.part) {
      const key = JSON.stringify([row.event_source, row.event_id, row.part]);
      slot = otherParts.get(key);
      if (slot === undefined) {
        otherParts.set(key, kept.length);
        kept.push(i);
        continue;
      }
    }
    if (row.ingested_at.getTime() < (rows[kept[slot] as number] as CostRow).ingested_at.getTime()) {
      repeated.push(kept[slot] as number);
      kept[slot] = i;
    } else {
      repeated.push(i);
    }
  }

  const dimsRoot: TupleNode = { next: new Map(), id: -1 };
  const dimValues: (string | null)[] = new Array(DIM_VALUES).fill(null);
  // Sentinel values no row has, so the first row always takes the slow path.
  const previousDims: (string | null | undefined)[] = new Array(DIM_VALUES).fill(undefined);
  let previousDimsId = -1;
  const dims: DuckDBValue[][] = [];
  // A source sends few distinct combinations: its recent ones are compared value by value, which is
  // cheaper than walking the trie; a source with many goes to the trie for the rest.
  const recentBySource = new Map<string, { id: number; values: (string | null)[] }[]>();
  const dimsIdOf = (values: readonly (string | null)[]): number => {
    const source = values[0] as string;
    let recent = recentBySource.get(source);
    if (recent === undefined) {
      recent = [];
      recentBySource.set(source, recent);
    }
    for (const candidate of recent) {
      let v = 1;
      while (v < DIM_VALUES && candidate.values[v] === values[v]) v++;
      if (v === DIM_VALUES) return candidate.id;
    }
    const id = tupleId(dimsRoot, values, dims.length);
    if (id === dims.length) {
      const copy = [...values];
      dims.push([id, ...copy]);
      if (recent.length < RECENT_DIMS_PER_SOURCE) recent.push({ id, values: copy });
    }
    return id;
  };
  const n = kept.length;
  const rowIndex = new Int32Array(n);
  const dimsIds = new Int32Array(n);
  const eventIds: string[] = new Array(n);
  const parts = new Int32Array(n);
  const eventMs = new Float64Array(n);
  const ingestedMs = new Float64Array(n);
  const gpuCount = new Float64Array(n);
  const gpuSeconds = new Float64Array(n);
  const inputTokens = new Float64Array(n);
  const cachedInputTokens = new Float64Array(n);
  const outputTokens = new Float64Array(n);
  const cacheHit = new Float64Array(n);
  const epoch = new Float64Array(n);
  const elapsedSeconds = new Float64Array(n);
  const cost: DuckDBDecimalValue[] = new Array(n);
  const fingerprints: (string | null)[] = new Array(n);
  const jobIds: (string | null)[] = new Array(n);
  const components: (string | null)[] = new Array(n);
  const payloadHashes: (string | null)[] = new Array(n);

  for (let k = 0; k < n; k++) {
    const index = kept[k] as number;
    const row = rows[index] as CostRow;
    if (typeof row.event_source !== "string" || typeof row.event_id !== "string") {
      throw invalid(`rows[${index}]`, "event_source and event_id must be strings");
    }
    if (!Number.isInteger(row.part) || row.part < -0x80000000 || row.part > 0x7fffffff) {
      throw invalid(`rows[${index}].part`, "must be an integer");
    }

    // Reused scratch tuple; copied only when it is new. Consecutive rows often share every value.
    dimValues[0] = row.event_source;
    dimValues[1] = row.event_type;
    dimValues[2] = row.basis;
    dimValues[3] = stringOrNull(row.team);
    dimValues[4] = stringOrNull(row.model);
    dimValues[5] = stringOrNull(row.model_version);
    dimValues[6] = stringOrNull(row.business_unit);
    dimValues[7] = stringOrNull(row.cost_center);
    dimValues[8] = stringOrNull(row.namespace);
    dimValues[9] = stringOrNull(row.environment);
    dimValues[10] = stringOrNull(row.cloud);
    dimValues[11] = stringOrNull(row.region);
    dimValues[12] = labelsJson(row.labels);
    dimValues[13] = stringOrNull(row.instance_type);
    dimValues[14] = stringOrNull(row.accelerator);
    dimValues[15] = stringOrNull(row.pricing_model);
    dimValues[16] = stringOrNull(row.provider);
    dimValues[17] = stringOrNull(row.job_phase);
    dimValues[18] = row.currency;
    dimValues[19] = stringOrNull(row.price_source);
    let dimsId = previousDimsId;
    for (let v = 0; v < DIM_VALUES; v++) {
      if (dimValues[v] !== previousDims[v]) {
        dimsId = dimsIdOf(dimValues);
        for (let w = 0; w < DIM_VALUES; w++) previousDims[w] = dimValues[w] as string | null;
        previousDimsId = dimsId;
        break;
      }
    }

    const ms = rowTimeMs(row.event_time, index, "event_time");

    rowIndex[k] = index;
    dimsIds[k] = dimsId;
    eventIds[k] = row.event_id;
    parts[k] = row.part;
    eventMs[k] = ms;
    ingestedMs[k] = rowTimeMs(row.ingested_at, index, "ingested_at");
    gpuCount[k] = numberOrNaN(row.gpu_count, index, "gpu_count");
    gpuSeconds[k] = numberOrNaN(row.gpu_seconds, index, "gpu_seconds");
    inputTokens[k] = wholeOrNaN(row.input_tokens, index, "input_tokens");
    cachedInputTokens[k] = wholeOrNaN(row.cached_input_tokens, index, "cached_input_tokens");
    outputTokens[k] = wholeOrNaN(row.output_tokens, index, "output_tokens");
    cacheHit[k] = row.cache_hit === null || row.cache_hit === undefined ? Number.NaN : row.cache_hit ? 1 : 0;
    epoch[k] = wholeOrNaN(row.epoch, index, "epoch");
    elapsedSeconds[k] = numberOrNaN(row.elapsed_seconds, index, "elapsed_seconds");
    cost[k] = rowMoney(row.cost_nanos, index);
    fingerprints[k] = stringOrNull(row.request_fingerprint);
    jobIds[k] = stringOrNull(row.job_id);
    components[k] = componentsJson(row.components, index);
    payloadHashes[k] = row.payload_hash ?? null;
  }

  return {
    dims,
    // In the order of temp.staged_events.
    columns: [
      rowIndex,
      dimsIds,
      eventIds,
      parts,
      eventMs,
      ingestedMs,
      gpuCount,
      gpuSeconds,
      inputTokens,
      cachedInputTokens,
      outputTokens,
      cacheHit,
      epoch,
      elapsedSeconds,
      cost,
      fingerprints,
      jobIds,
      components,
      payloadHashes,
    ],
    rowCount: n,
    repeated,
  };
}

function str(row: Record<string, DuckDBValue>, column: string): string {
  const value = row[column];
  if (typeof value !== "string") throw invalid(column, "expected a string");
  return value;
}

function strOrNull(row: Record<string, DuckDBValue>, column: string): string | null {
  const value = row[column];
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") throw invalid(column, "expected a string");
  return value;
}

function numOrNull(row: Record<string, DuckDBValue>, column: string): number | null {
  const value = row[column];
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  throw invalid(column, "expected a number");
}

function parseObject(text: string | null, column: string): Record<string, unknown> {
  if (text === null) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  } catch (cause) {
    throw invalid(column, "is not JSON", cause);
  }
  throw invalid(column, "is not a JSON object");
}

/** A cost_events row as read back (sql/duckdb/read_events.sql) to a CostRow. */
export function decodeCostRow(row: Record<string, DuckDBValue>): CostRow {
  const labels: Record<string, string> = {};
  for (const [name, value] of Object.entries(parseObject(strOrNull(row, "labels"), "labels"))) {
    labels[name] = String(value);
  }
  const components: Record<string, Nanos> = {};
  for (const [name, value] of Object.entries(parseObject(strOrNull(row, "components"), "components"))) {
    components[name] = decimalToNanos(String(value));
  }
  const cacheHit = row.cache_hit;
  return {
    event_id: str(row, "event_id"),
    event_source: str(row, "event_source"),
    event_type: str(row, "event_type"),
    part: numOrNull(row, "part") ?? 0,
    event_time: timestampToDate(row.event_time ?? null, "event_time"),
    ingested_at: timestampToDate(row.ingested_at ?? null, "ingested_at"),
    basis: str(row, "basis") as CostBasis,
    team: str(row, "team"),
    model: str(row, "model"),
    model_version: strOrNull(row, "model_version"),
    business_unit: str(row, "business_unit"),
    cost_center: strOrNull(row, "cost_center"),
    namespace: strOrNull(row, "namespace"),
    environment: strOrNull(row, "environment"),
    cloud: strOrNull(row, "cloud"),
    region: strOrNull(row, "region"),
    labels,
    instance_type: strOrNull(row, "instance_type"),
    accelerator: strOrNull(row, "accelerator"),
    pricing_model: strOrNull(row, "pricing_model"),
    provider: strOrNull(row, "provider"),
    gpu_count: numOrNull(row, "gpu_count"),
    gpu_seconds: numOrNull(row, "gpu_seconds"),
    input_tokens: numOrNull(row, "input_tokens"),
    cached_input_tokens: numOrNull(row, "cached_input_tokens"),
    output_tokens: numOrNull(row, "output_tokens"),
    cache_hit: typeof cacheHit === "boolean" ? cacheHit : null,
    request_fingerprint: strOrNull(row, "request_fingerprint"),
    job_id: strOrNull(row, "job_id"),
    job_phase: strOrNull(row, "job_phase"),
    epoch: numOrNull(row, "epoch"),
    elapsed_seconds: numOrNull(row, "elapsed_seconds"),
    cost_nanos: moneyToNanos(row.cost ?? null, "cost"),
    currency: str(row, "currency"),
    components,
    price_source: strOrNull(row, "price_source") ?? "",
    ...(typeof row.payload_hash === "string" ? { payload_hash: row.payload_hash } : {}),
  };
}

/** A rejected_events row as read back (sql/duckdb/read_rejected.sql). */
export function decodeRejectedRow(row: Record<string, DuckDBValue>): RejectedRow {
  return {
    rejected_at: timestampToDate(row.rejected_at ?? null, "rejected_at"),
    event_source: strOrNull(row, "event_source"),
    event_id: strOrNull(row, "event_id"),
    event_type: strOrNull(row, "event_type"),
    field: str(row, "field"),
    reason: str(row, "reason"),
    payload: strOrNull(row, "payload") ?? "",
  };
}

/** A row of training_jobs.sql. */
export function decodeTrainingJob(row: Record<string, DuckDBValue>): TrainingJobRow {
  return {
    event_source: str(row, "event_source"),
    job_id: str(row, "job_id"),
    team: str(row, "team"),
    model: str(row, "model"),
    business_unit: str(row, "business_unit"),
    instance_type: strOrNull(row, "instance_type"),
    currency: str(row, "currency"),
    started_at: timestampToDate(row.started_at ?? null, "started_at"),
    last_seen_at: timestampToDate(row.last_seen_at ?? null, "last_seen_at"),
    duration_seconds: numOrNull(row, "duration_seconds") ?? 0,
    gpu_count: numOrNull(row, "gpu_count"),
    epochs: numOrNull(row, "epochs"),
    cost_nanos: moneyToNanos(row.cost ?? null, "cost"),
    outcome: str(row, "outcome") as TrainingOutcome,
  };
}
