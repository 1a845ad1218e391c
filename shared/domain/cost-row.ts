import type { Nanos } from "./money.ts";

/** Which layer of cost a row belongs to (docs/architecture.md, "Money and the one view"). */
export type CostBasis = "estimate" | "allocation" | "billed";

export const DIMENSIONS = [
  "team",
  "model",
  "model_version",
  "business_unit",
  "cost_center",
  "namespace",
  "environment",
  "cloud",
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/**
 * What a report can group by: the dimensions, the UTC day of the cost ("YYYY-MM-DD") and its UTC hour
 * ("YYYY-MM-DDTHH:00:00Z"), so a series of hours or days is one query.
 */
export const GROUP_KEYS = [...DIMENSIONS, "day", "hour"] as const;
export type GroupKey = (typeof GROUP_KEYS)[number];

/** The owner value used when an event names none: costs are never dropped for lack of an owner. */
export const UNALLOCATED = "unallocated";

/**
 * The owner of a fixed cost that is shared by usage: reports hand each hour's shared cost to the
 * owners who used something that hour, in proportion to their cost (docs/architecture.md, "Money and the one view").
 * What no one used stays under this name, never dropped.
 */
export const SHARED = "shared";

/**
 * One stored cost row: what the raw events table holds. An event becomes one row, except a cost
 * spread over a period (fixed, allocation), which becomes one row per hour (`part` counts them).
 * The dedupe key is (event_source, event_id, part).
 */
export interface CostRow {
  event_id: string;
  event_source: string;
  event_type: string;
  part: number;
  event_time: Date;
  ingested_at: Date;
  basis: CostBasis;
  team: string;
  model: string;
  model_version: string | null;
  business_unit: string;
  cost_center: string | null;
  namespace: string | null;
  environment: string | null;
  cloud: string | null;
  region: string | null;
  labels: Record<string, string>;
  instance_type: string | null;
  accelerator: string | null;
  pricing_model: string | null;
  provider: string | null;
  gpu_count: number | null;
  gpu_seconds: number | null;
  input_tokens: number | null;
  cached_input_tokens: number | null;
  output_tokens: number | null;
  cache_hit: boolean | null;
  request_fingerprint: string | null;
  job_id: string | null;
  job_phase: string | null;
  epoch: number | null;
  elapsed_seconds: number | null;
  /**
   * For training rows the job's cumulative cost up to this event; the rollup charges each event the
   * difference to the job's previous event, so order of arrival does not matter. Otherwise this row's cost.
   */
  cost_nanos: Nanos;
  currency: string;
  /** Components (gpu, cpu, ram, pv, network, other) for allocation rows; empty otherwise. */
  components: Record<string, Nanos>;
  /** e.g. "catalog:2026-11-01" or "emitter"; lets a recalibration re-price what the catalog priced. */
  price_source: string;
  /**
   * A hash of the event as validated (whitespace and key order do not matter): a resend with the
   * same hash is a duplicate, with another a conflict. Every part of an event has the same.
   */
  payload_hash?: string;
}

export interface RejectedRow {
  rejected_at: Date;
  event_source: string | null;
  event_id: string | null;
  event_type: string | null;
  field: string;
  reason: string;
  /** The raw input, truncated to a bounded size so a 1 MB string cannot bloat the table. */
  payload: string;
  /** Names the rejection (a hash of what was refused and why), so a redelivery stores it once. */
  rejection_key?: string;
}
