import { stageCostRows } from "#adapters/duckdb/row-encoding.ts";
import type { CostBasis, CostRow } from "#domain/cost-row.ts";
import { decimalToNanos, type Nanos } from "#domain/money.ts";

/**
 * Cost rows laid out to cross between threads cheaply: the staging layout of the DuckDB adapter
 * (attribution strings once per distinct combination, numbers in typed arrays that are transferred,
 * not copied), with amounts as bigints. Cloning the rows as objects costs more than building them.
 */
export interface RowsTransfer {
  dims: (string | null)[][];
  columns: (Int32Array | Float64Array | (string | null)[] | bigint[])[];
  rowCount: number;
}

/** The position of the amount among temp.staged_events' columns (sql/duckdb/create_staging.sql). */
const COST_COLUMN = 14;

/** Lays out rows, which must be unique on (event_source, event_id, part), for another thread. */
export function packRows(rows: readonly CostRow[]): { rows: RowsTransfer; transfer: ArrayBuffer[] } {
  const staged = stageCostRows(rows);
  if (staged.repeated.length > 0) throw new Error("packRows: rows repeat a key");
  // Amounts go as plain bigints: a DuckDB value object would arrive without its class.
  const columns = staged.columns.map((column, c) =>
    c === COST_COLUMN ? (column as { value: bigint }[]).map((amount) => amount.value) : column,
  ) as RowsTransfer["columns"];
  const transfer = columns.flatMap((column) =>
    ArrayBuffer.isView(column) ? [column.buffer as ArrayBuffer] : [],
  );
  return {
    rows: {
      dims: staged.dims.map((d) => d.slice(1) as (string | null)[]),
      columns,
      rowCount: staged.rowCount,
    },
    transfer,
  };
}

const nullIfNaN = (value: number): number | null => (Number.isNaN(value) ? null : value);

function components(text: string | null): Record<string, Nanos> {
  const out: Record<string, Nanos> = {};
  if (text === null) return out;
  for (const [name, amount] of Object.entries(JSON.parse(text) as Record<string, string>))
    out[name] = decimalToNanos(amount);
  return out;
}

/** The rows packRows laid out, in their original order. */
export function unpackRows({ dims, columns, rowCount }: RowsTransfer): CostRow[] {
  const [rowIndex, dimsIds, eventIds, parts, eventMs, ingestedMs, gpuCount, gpuSeconds, inputTokens] =
    columns as [
      Int32Array,
      Int32Array,
      string[],
      Int32Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
  const [cachedInputTokens, outputTokens, cacheHit, epoch, elapsedSeconds, cost] = columns.slice(
    9,
    COST_COLUMN + 1,
  ) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, bigint[]];
  const [fingerprints, jobIds, componentTexts, payloadHashes] = columns.slice(COST_COLUMN + 1) as (
    | string
    | null
  )[][];
  const labels = dims.map((d) => JSON.parse(d[12] as string) as Record<string, string>);
  const rows: CostRow[] = new Array(rowCount);
  for (let k = 0; k < rowCount; k++) {
    const dimsId = dimsIds[k] as number;
    const d = dims[dimsId] as (string | null)[];
    const hash = (payloadHashes as (string | null)[])[k];
    const hit = cacheHit[k] as number;
    rows[rowIndex[k] as number] = {
      event_id: eventIds[k] as string,
      event_source: d[0] as string,
      event_type: d[1] as string,
      part: parts[k] as number,
      event_time: new Date(eventMs[k] as number),
      ingested_at: new Date(ingestedMs[k] as number),
      basis: d[2] as CostBasis,
      team: d[3] as string,
      model: d[4] as string,
      model_version: d[5] as string | null,
      business_unit: d[6] as string,
      cost_center: d[7] as string | null,
      namespace: d[8] as string | null,
      environment: d[9] as string | null,
      cloud: d[10] as string | null,
      region: d[11] as string | null,
      labels: { ...(labels[dimsId] as Record<string, string>) },
      instance_type: d[13] as string | null,
      accelerator: d[14] as string | null,
      pricing_model: d[15] as string | null,
      provider: d[16] as string | null,
      gpu_count: nullIfNaN(gpuCount[k] as number),
      gpu_seconds: nullIfNaN(gpuSeconds[k] as number),
      input_tokens: nullIfNaN(inputTokens[k] as number),
      cached_input_tokens: nullIfNaN(cachedInputTokens[k] as number),
      output_tokens: nullIfNaN(outputTokens[k] as number),
      cache_hit: Number.isNaN(hit) ? null : hit === 1,
      request_fingerprint: (fingerprints as (string | null)[])[k] as string | null,
      job_id: (jobIds as (string | null)[])[k] as string | null,
      job_phase: d[17] as string | null,
      epoch: nullIfNaN(epoch[k] as number),
      elapsed_seconds: nullIfNaN(elapsedSeconds[k] as number),
      cost_nanos: cost[k] as bigint,
      currency: d[18] as string,
      components: components((componentTexts as (string | null)[])[k] as string | null),
      price_source: d[19] as string,
      ...(hash === null || hash === undefined ? {} : { payload_hash: hash }),
    };
  }
  return rows;
}
