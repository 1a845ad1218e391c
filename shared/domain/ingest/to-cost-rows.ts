import { type CostBasis, type CostRow, SHARED, UNALLOCATED } from "#domain/cost-row.ts";
import {
  ATTRIBUTION_CLOCK_SKEW_MS,
  DEPLOYMENT_LABEL,
  MAX_ATTRIBUTED_REQUEST_MS,
  REQUEST_ID_LABEL,
} from "#domain/events/attribution.ts";
import {
  ALLOCATION_V1,
  type AllocationEvent,
  ATTRIBUTION_V1,
  type AttributionEvent,
  type CostEvent,
  FIXED_V1,
  type FixedEvent,
  INFERENCE_V1,
  type InferenceEvent,
  TRAINING_V1,
  type TrainingEvent,
} from "#domain/events/cloud-event.ts";
import type { Rejection } from "#domain/events/parse.ts";
import { type Nanos, splitByWeights, sumNanos } from "#domain/money.ts";
import {
  type GpuPriceQuery,
  type GpuRate,
  gpuPriceSource,
  type PriceFailure,
  type Pricer,
} from "#domain/pricing/pricer.ts";

/**
 * Longest window an allocation or fixed cost may be spread over. One row per hour, so this bounds
 * the fan-out of one event to 2,232 rows; a quarter (92 days) plus a day of slack fits.
 */
export const MAX_AMORTIZATION_DAYS = 93;
const MAX_AMORTIZATION_MS = MAX_AMORTIZATION_DAYS * 24 * 3600 * 1000;
const HOUR_MS = 3600 * 1000;

/**
 * `fallbackPriced`: the catalog priced the event at another region's rate by an explicit rule (its
 * rows' price_source ends in `#fallback:region=<region>`); the ingest answer counts these.
 */
export type ToCostRowsResult =
  | { ok: true; rows: CostRow[]; fallbackPriced: boolean }
  | { ok: false; rejection: Rejection };

/** One UTC hour's share of a window: where it starts (the later of the window start and the hour start) and how long. */
export interface HourSlice {
  start: Date;
  /** Milliseconds of the window inside this hour; the weight of this hour's share. */
  overlapMs: bigint;
}

/** The UTC hours a window [start, end) overlaps, in order, each with its overlap. */
export function hourSlices(start: Date, end: Date): HourSlice[] {
  const slices: HourSlice[] = [];
  const endMs = end.getTime();
  let at = start.getTime();
  while (at < endMs) {
    const nextHour = Math.floor(at / HOUR_MS) * HOUR_MS + HOUR_MS;
    const until = Math.min(nextHour, endMs);
    slices.push({ start: new Date(at), overlapMs: BigInt(until - at) });
    at = until;
  }
  return slices;
}

function reject(field: string, message: string): ToCostRowsResult {
  return { ok: false, rejection: { field, reason: `${field}: ${message}` } };
}

function fromFailure(failure: PriceFailure): ToCostRowsResult {
  return reject(failure.field, failure.reason);
}

type RowCommon = Pick<CostRow, "event_id" | "event_source" | "event_type" | "ingested_at">;

/** A row with every optional column empty; each event type fills in what it knows. */
function blankRow(common: RowCommon, basis: CostBasis, eventTime: Date, part: number): CostRow {
  return {
    ...common,
    part,
    event_time: eventTime,
    basis,
    team: UNALLOCATED,
    model: UNALLOCATED,
    model_version: null,
    business_unit: UNALLOCATED,
    cost_center: null,
    namespace: null,
    environment: null,
    cloud: null,
    region: null,
    labels: {},
    instance_type: null,
    accelerator: null,
    pricing_model: null,
    provider: null,
    gpu_count: null,
    gpu_seconds: null,
    input_tokens: null,
    cached_input_tokens: null,
    output_tokens: null,
    cache_hit: null,
    request_fingerprint: null,
    job_id: null,
    job_phase: null,
    epoch: null,
    elapsed_seconds: null,
    cost_nanos: 0n,
    currency: "USD",
    components: {},
    price_source: "emitter",
  };
}

interface OwnerData {
  team?: string | undefined;
  model?: string | undefined;
  model_version?: string | undefined;
  business_unit?: string | undefined;
  cost_center?: string | undefined;
  namespace?: string | undefined;
  environment?: string | undefined;
  labels?: Record<string, string> | undefined;
}

/** Owner dimensions: a missing team, model or business unit lands in the explicit unallocated bucket. */
function owners(data: OwnerData) {
  return {
    team: data.team ?? UNALLOCATED,
    model: data.model ?? UNALLOCATED,
    model_version: data.model_version ?? null,
    business_unit: data.business_unit ?? UNALLOCATED,
    cost_center: data.cost_center ?? null,
    namespace: data.namespace ?? null,
    environment: data.environment ?? null,
    labels: { ...data.labels },
  };
}

function placementQuery(data: GpuPriceQuery): GpuPriceQuery {
  return {
    cloud: data.cloud,
    region: data.region,
    instance_type: data.instance_type,
    accelerator: data.accelerator,
    pricing_model: data.pricing_model,
  };
}

type Priced =
  | { ok: true; cost: Nanos; priceSource: string; rate?: GpuRate }
  | { ok: false; result: ToCostRowsResult };

function checkCurrency(pricer: Pricer, currency: string): ToCostRowsResult | undefined {
  if (currency === pricer.currency) return undefined;
  return reject(
    "data.currency",
    `catalog ${pricer.version} prices in ${pricer.currency}; the event says ${currency} and gives no cost_nanos`,
  );
}

function priceGpu(
  pricer: Pricer,
  query: GpuPriceQuery,
  seconds: number,
  gpuCount: number | undefined,
): Priced {
  const found = pricer.gpuHourlyRate(query);
  if (!found.ok) return { ok: false, result: fromFailure(found.failure) };
  return {
    ok: true,
    cost: pricer.gpuCost(found.rate, { seconds, gpuCount }),
    priceSource: gpuPriceSource(pricer.version, found.rate),
    rate: found.rate,
  };
}

function priceInference(event: InferenceEvent, pricer: Pricer): Priced {
  const d = event.data;
  if (d.cost_nanos !== undefined) return { ok: true, cost: d.cost_nanos, priceSource: "emitter" };
  const wrongCurrency = checkCurrency(pricer, d.currency);
  if (wrongCurrency) return { ok: false, result: wrongCurrency };
  if (d.provider !== undefined) {
    // A gateway's events name the model by its alias (LiteLLM's model group) and the provider's
    // model as the version: the version prices the call when the alias is not in the catalog.
    let found = pricer.tokenRate({ provider: d.provider, model: d.model });
    if (!found.ok && found.failure.code === "unknown_model" && d.model_version !== d.model) {
      const byVersion = pricer.tokenRate({ provider: d.provider, model: d.model_version });
      if (byVersion.ok) found = byVersion;
    }
    if (!found.ok) return { ok: false, result: fromFailure(found.failure) };
    return {
      ok: true,
      cost: pricer.tokenCost(found.rate, d),
      priceSource: `catalog:${pricer.version}:${found.rate.key}`,
    };
  }
  if (d.gpu_seconds === undefined)
    return { ok: false, result: reject("data.gpu_seconds", "required to price a GPU request") };
  return priceGpu(pricer, placementQuery(d), d.gpu_seconds, d.gpu_count);
}

/** The event's labels, copied: a row never shares an object with the event. */
function labelsOf(labels: Record<string, string> | undefined): Record<string, string> {
  return labels === undefined ? {} : { ...labels };
}

// Inference and training rows are built as one object literal each, in CostRow's order, rather than
// spread over a blank row: they are the per-event hot path of ingest.
function inferenceRows(event: InferenceEvent, pricer: Pricer, common: RowCommon): ToCostRowsResult {
  const d = event.data;
  const priced = priceInference(event, pricer);
  if (!priced.ok) return priced.result;
  const row: CostRow = {
    event_id: common.event_id,
    event_source: common.event_source,
    event_type: common.event_type,
    part: 0,
    event_time: event.time,
    ingested_at: common.ingested_at,
    basis: "estimate",
    team: d.team,
    model: d.model,
    model_version: d.model_version,
    business_unit: d.business_unit,
    cost_center: d.cost_center ?? null,
    namespace: d.namespace ?? null,
    environment: d.environment ?? null,
    cloud: d.cloud ?? priced.rate?.cloud ?? null,
    region: d.region ?? null,
    labels: labelsOf(d.labels),
    instance_type: d.instance_type ?? null,
    accelerator: d.accelerator ?? null,
    pricing_model: d.instance_type !== undefined || d.accelerator !== undefined ? d.pricing_model : null,
    provider: d.provider ?? null,
    gpu_count: d.gpu_count ?? null,
    gpu_seconds: d.gpu_seconds ?? null,
    input_tokens: d.input_tokens ?? null,
    cached_input_tokens: d.cached_input_tokens ?? null,
    output_tokens: d.output_tokens ?? null,
    cache_hit: d.cache_hit ?? null,
    request_fingerprint: d.request_fingerprint ?? null,
    job_id: null,
    job_phase: null,
    epoch: null,
    elapsed_seconds: null,
    cost_nanos: priced.cost,
    currency: d.cost_nanos !== undefined ? d.currency : pricer.currency,
    components: {},
    price_source: priced.priceSource,
  };
  return { ok: true, rows: [row], fallbackPriced: priced.rate?.fallback !== undefined };
}

/** A training event's cost is the job's cumulative cost up to it; the rollup charges the differences. */
function trainingRows(event: TrainingEvent, pricer: Pricer, common: RowCommon): ToCostRowsResult {
  const d = event.data;
  let priced: Priced;
  if (d.cost_nanos !== undefined) {
    priced = { ok: true, cost: d.cost_nanos, priceSource: "emitter" };
  } else {
    const wrongCurrency = checkCurrency(pricer, d.currency);
    if (wrongCurrency) return wrongCurrency;
    priced = priceGpu(pricer, placementQuery(d), d.elapsed_seconds, d.gpu_count);
  }
  if (!priced.ok) return priced.result;
  const row: CostRow = {
    event_id: common.event_id,
    event_source: common.event_source,
    event_type: common.event_type,
    part: 0,
    event_time: event.time,
    ingested_at: common.ingested_at,
    basis: "estimate",
    team: d.team,
    model: d.model,
    model_version: d.model_version ?? null,
    business_unit: d.business_unit ?? UNALLOCATED,
    cost_center: d.cost_center ?? null,
    namespace: d.namespace ?? null,
    environment: d.environment ?? null,
    cloud: d.cloud ?? priced.rate?.cloud ?? null,
    region: d.region ?? null,
    labels: labelsOf(d.labels),
    instance_type: d.instance_type ?? null,
    accelerator: d.accelerator ?? null,
    pricing_model: d.pricing_model,
    provider: null,
    gpu_count: d.gpu_count,
    gpu_seconds: null,
    input_tokens: null,
    cached_input_tokens: null,
    output_tokens: null,
    cache_hit: null,
    request_fingerprint: null,
    job_id: d.job_id,
    job_phase: d.phase,
    epoch: d.epoch ?? null,
    elapsed_seconds: d.elapsed_seconds,
    cost_nanos: priced.cost,
    currency: d.cost_nanos !== undefined ? d.currency : pricer.currency,
    components: {},
    price_source: priced.priceSource,
  };
  return { ok: true, rows: [row], fallbackPriced: priced.rate?.fallback !== undefined };
}

/** Hourly slices of a window, or a rejection naming `field` when the window is too long to spread. */
function amortizationSlices(
  window: { start: string; end: string },
  field: string,
): { ok: true; slices: HourSlice[] } | { ok: false; result: ToCostRowsResult } {
  const start = new Date(window.start);
  const end = new Date(window.end);
  const length = end.getTime() - start.getTime();
  if (!(length > 0)) return { ok: false, result: reject(`${field}.end`, "end must be after start") };
  if (length > MAX_AMORTIZATION_MS) {
    const days = (length / (24 * HOUR_MS)).toFixed(1);
    return {
      ok: false,
      result: reject(
        field,
        `spans ${days} days; split it into windows of at most ${MAX_AMORTIZATION_DAYS} days`,
      ),
    };
  }
  return { ok: true, slices: hourSlices(start, end) };
}

const COMPONENT_NAMES = ["gpu", "cpu", "ram", "pv", "network", "other"] as const;

/** An allocation becomes one row per UTC hour of its window; every component is split over the hours exactly. */
function allocationRows(event: AllocationEvent, common: RowCommon): ToCostRowsResult {
  const d = event.data;
  const spread = amortizationSlices(d.window, "data.window");
  if (!spread.ok) return spread.result;
  const weights = spread.slices.map((s) => s.overlapMs);
  const totalMs = Number(weights.reduce((a, b) => a + b, 0n));
  const parts = COMPONENT_NAMES.map((name) => [name, splitByWeights(d.components[name], weights)] as const);
  const rows = spread.slices.map((slice, i): CostRow => {
    const components: Record<string, Nanos> = {};
    for (const [name, split] of parts) components[name] = split[i] ?? 0n;
    const dims = owners(d);
    return {
      ...blankRow(common, "allocation", slice.start, i),
      ...dims,
      labels: { ...dims.labels, cluster: d.cluster },
      cloud: d.cloud ?? null,
      region: d.region ?? null,
      gpu_seconds:
        d.gpu_hours === undefined ? null : (d.gpu_hours * 3600 * Number(slice.overlapMs)) / totalMs,
      cost_nanos: sumNanos(Object.values(components)),
      currency: d.currency,
      components,
      price_source: "emitter",
    };
  });
  return { ok: true, rows, fallbackPriced: false };
}

/** A fixed cost is amortized evenly over the hours of its period. */
function fixedRows(event: FixedEvent, common: RowCommon): ToCostRowsResult {
  const d = event.data;
  const spread = amortizationSlices(d.period, "data.period");
  if (!spread.ok) return spread.result;
  const split = splitByWeights(
    d.cost_nanos,
    spread.slices.map((s) => s.overlapMs),
  );
  const dims = owners(d);
  const labels = { ...dims.labels, description: d.description, payer: d.team };
  // Owners of each hour's part: the payer, the `shared` bucket, or teams by fixed weights.
  const recipients =
    typeof d.allocate === "object"
      ? Object.entries(d.allocate.shares).sort(([a], [b]) => a.localeCompare(b))
      : [[d.allocate === "usage" ? SHARED : dims.team, 1] as const];
  const weights = recipients.map(([, weight]) => BigInt(weight));
  const rows = spread.slices.flatMap((slice, i) =>
    splitByWeights(split[i] ?? 0n, weights).map(
      (nanos, r): CostRow => ({
        ...blankRow(common, "estimate", slice.start, i * recipients.length + r),
        ...dims,
        team: recipients[r]?.[0] ?? dims.team,
        labels,
        cloud: d.cloud ?? null,
        cost_nanos: nanos,
        currency: d.currency,
        price_source: "emitter",
      }),
    ),
  );
  return { ok: true, rows, fallbackPriced: false };
}

/**
 * An attribution costs nothing: it is one row per UTC hour the deployment's span of the request may
 * end in (the gateway's view of the request, widened by the clock skew allowed), so that the rollup
 * finds it in the span's own hour and its arrival marks that hour to be rebuilt.
 */
function attributionRows(event: AttributionEvent, common: RowCommon): ToCostRowsResult {
  const d = event.data;
  const start = Date.parse(d.request_start);
  const end = event.time.getTime();
  if (start > end) return reject("data.request_start", "after the event's time (the request's end)");
  if (end - start > MAX_ATTRIBUTED_REQUEST_MS) {
    return reject("data.request_start", "more than a day before the event's time (the request's end)");
  }
  const labels = { ...d.labels, [DEPLOYMENT_LABEL]: d.deployment, [REQUEST_ID_LABEL]: d.request_id };
  const slices = hourSlices(
    new Date(start - ATTRIBUTION_CLOCK_SKEW_MS),
    new Date(end + ATTRIBUTION_CLOCK_SKEW_MS),
  );
  const rows = slices.map(
    (slice, i): CostRow => ({
      ...blankRow(common, "estimate", slice.start, i),
      ...owners(d),
      labels,
    }),
  );
  return { ok: true, rows, fallbackPriced: false };
}

/**
 * Turns one validated event into the cost rows stored for it. Never throws for bad input: an event
 * the catalog cannot price, or a window too long to spread, becomes a Rejection naming the field.
 * - inference: one "estimate" row; cost from cost_nanos, else per-token or GPU catalog prices.
 * - training: one "estimate" row holding the job's cumulative cost up to the event.
 * - allocation: "allocation" rows, one per UTC hour the window overlaps, split by overlap.
 * - fixed: "estimate" rows, the same hourly amortization over the period.
 * - attribution: costless rows the rollup reads the owner of another event from (see above).
 */
export function toCostRows(event: CostEvent, pricer: Pricer, ingestedAt: Date): ToCostRowsResult {
  const common: RowCommon = {
    event_id: event.id,
    event_source: event.source,
    event_type: event.type,
    ingested_at: ingestedAt,
  };
  switch (event.type) {
    case INFERENCE_V1:
      return inferenceRows(event, pricer, common);
    case TRAINING_V1:
      return trainingRows(event, pricer, common);
    case ALLOCATION_V1:
      return allocationRows(event, common);
    case FIXED_V1:
      return fixedRows(event, common);
    case ATTRIBUTION_V1:
      return attributionRows(event, common);
  }
}
