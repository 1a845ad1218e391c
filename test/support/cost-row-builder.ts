import type { CostRow, RejectedRow } from "#domain/cost-row.ts";

/** A fixed instant the warehouse tests place their rows around (a whole hour, UTC). */
export const BASE_HOUR = new Date("2026-11-15T10:00:00.000Z");

export const at = (minutesAfterBase: number): Date =>
  new Date(BASE_HOUR.getTime() + minutesAfterBase * 60_000);

let sequence = 0;

/**
 * A valid inference cost row (an L4 request priced by the catalog, 1.5 USD); `overrides` replace
 * fields. Each call without an `event_id` gets a fresh one, so rows are distinct unless a test says so.
 */
export function costRow(overrides: Partial<CostRow> = {}): CostRow {
  sequence += 1;
  return {
    event_id: `evt-${sequence}`,
    event_source: "//inference/fraud-scorer",
    event_type: "ai.cost.inference.v1",
    part: 0,
    event_time: at(5),
    ingested_at: at(6),
    basis: "estimate",
    team: "risk",
    model: "fraud-scorer",
    model_version: "v7",
    business_unit: "payments",
    cost_center: "cc-100",
    namespace: "serving",
    environment: "prod",
    cloud: "gcp",
    region: "us-central1",
    labels: {},
    instance_type: "g2-standard-8",
    accelerator: "nvidia-l4",
    pricing_model: "on_demand",
    provider: null,
    gpu_count: 1,
    gpu_seconds: 10,
    input_tokens: 1200,
    cached_input_tokens: 0,
    output_tokens: 300,
    cache_hit: false,
    request_fingerprint: null,
    job_id: null,
    job_phase: null,
    epoch: null,
    elapsed_seconds: null,
    cost_nanos: 1_500_000_000n,
    currency: "USD",
    components: {},
    price_source: "catalog:test-1",
    ...overrides,
  };
}

/**
 * A training progress row: `cost_nanos` is the job's cumulative cost at `elapsed_seconds`.
 * The id is derived from job and elapsed time, so the same progress point is the same event.
 */
export function trainingRow(
  jobId: string,
  elapsedSeconds: number,
  cumulativeNanos: bigint,
  overrides: Partial<CostRow> = {},
): CostRow {
  return costRow({
    event_id: `${jobId}-at-${elapsedSeconds}`,
    event_source: "//training/launcher",
    event_type: "ai.cost.training.v1",
    team: "research",
    model: "ranker",
    model_version: null,
    job_id: jobId,
    job_phase: "progress",
    gpu_count: 8,
    gpu_seconds: null,
    input_tokens: null,
    cached_input_tokens: null,
    output_tokens: null,
    cache_hit: null,
    elapsed_seconds: elapsedSeconds,
    epoch: null,
    event_time: new Date(BASE_HOUR.getTime() + elapsedSeconds * 1000),
    ingested_at: new Date(BASE_HOUR.getTime() + elapsedSeconds * 1000 + 60_000),
    cost_nanos: cumulativeNanos,
    price_source: "emitter",
    ...overrides,
  });
}

export function rejectedRow(overrides: Partial<RejectedRow> = {}): RejectedRow {
  return {
    rejected_at: at(7),
    event_source: "//inference/fraud-scorer",
    event_id: "bad-1",
    event_type: "ai.cost.inference.v1",
    field: "data.gpu_seconds",
    reason: "Expected number, received string",
    payload: '{"id":"bad-1","data":{"gpu_seconds":"ten"}}',
    ...overrides,
  };
}
