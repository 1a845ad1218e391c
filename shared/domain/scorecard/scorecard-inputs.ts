import { divRound, type Nanos } from "#domain/money.ts";

/**
 * One row of the scorecard_inputs query: the workload cost of one (team, model) in one placement
 * over the window, with what the levers are computed from. Costs are over the window, as stored.
 */
export interface ScorecardSegment {
  team: string;
  model: string;
  currency: string;
  workload: "inference" | "training";
  /** Checkpointed training or batch inference: work that survives a spot preemption. */
  interruptible: boolean;
  namespace: string | null;
  cloud: string | null;
  region: string | null;
  accelerator: string | null;
  instance_type: string | null;
  pricing_model: string | null;
  /** Set for a provider's API (priced per token): no GPU of ours to move or quantize. */
  provider: string | null;
  cost_nanos: Nanos;
  gpu_seconds: number;
  requests: number;
  /** Requests that carry a request fingerprint. */
  fingerprinted: number;
  /** Requests whose fingerprint was seen within the cache TTL before, and that were not cache hits. */
  repeats: number;
  repeat_cost_nanos: Nanos;
  cache_hits: number;
}

/** The window a scorecard reads and how much of it holds data. */
export interface ScorecardWindow {
  from: Date;
  to: Date;
  /** The first event in the window (across every model read), or null when there was none. */
  firstEvent: Date | null;
}

/** An average month (365.25 / 12 days), in seconds. */
export const MONTH_SECONDS = 2_629_800;
const HOUR_SECONDS = 3600;

/** Seconds of the window that hold data: from the first event (or the window's start) to its end, at least an hour. */
export function observedSeconds(window: ScorecardWindow): number {
  const start = Math.max(window.from.getTime(), window.firstEvent?.getTime() ?? window.from.getTime());
  return Math.max(HOUR_SECONDS, Math.round((window.to.getTime() - start) / 1000));
}

/** A cost over the observed part of the window as a monthly run rate, exact to the nano. */
export function monthly(nanos: Nanos, seconds: number): Nanos {
  return divRound(nanos * BigInt(MONTH_SECONDS), BigInt(seconds));
}

/** A segment with its costs and GPU time scaled to a month (counts stay as measured). */
export function toMonthly(segment: ScorecardSegment, seconds: number): ScorecardSegment {
  return {
    ...segment,
    cost_nanos: monthly(segment.cost_nanos, seconds),
    repeat_cost_nanos: monthly(segment.repeat_cost_nanos, seconds),
    gpu_seconds: (segment.gpu_seconds * MONTH_SECONDS) / seconds,
  };
}

/** GPU time and cost of one placement and pricing model. */
export interface PlacementUse {
  placement: string;
  pricing_model: string;
  monthly_gpu_hours: number;
  monthly_cost_nanos: Nanos;
}

/** What the data says about a model, shown beside its levers. Shares are 0..1, four decimals. */
export interface InputSummary {
  /** Requests in the window, as measured. */
  requests: number;
  /** Of the requests with a fingerprint, the share that repeated one seen within the cache TTL (and missed the cache). */
  repeated_share: number | null;
  /** Of all requests, the share served from a cache. */
  cache_hit_share: number | null;
  /** Of the monthly cost, the share spent on training. */
  training_share: number;
  /** Of the monthly cost, the share spent on interruptible work (checkpointed training, batch). */
  interruptible_share: number;
  /** GPU time and cost per placement and pricing model, costliest first. */
  gpu: PlacementUse[];
}

/** "gcp/us-central1/nvidia-l4", "aws/us-east-1/p3.2xlarge", "openai (API)". */
export function placementOf(segment: ScorecardSegment): string {
  if (segment.provider) return `${segment.provider} (API)`;
  const name = segment.instance_type ?? segment.accelerator;
  if (!name) return "unknown placement";
  return [segment.cloud, segment.region, name].filter((part) => part).join("/");
}

/** For sorts: larger amounts first. */
export function compareNanosDesc(a: Nanos, b: Nanos): number {
  return a === b ? 0 : a > b ? -1 : 1;
}

const share = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : 0);
const nanoShare = (part: Nanos, whole: Nanos) => (whole > 0n ? Number((part * 10_000n) / whole) / 10_000 : 0);

/** The input summary of monthly-scaled segments. */
export function summarizeInputs(segments: readonly ScorecardSegment[]): InputSummary {
  let requests = 0;
  let fingerprinted = 0;
  let repeats = 0;
  let hits = 0;
  let cost = 0n;
  let training = 0n;
  let interruptible = 0n;
  const gpu = new Map<string, PlacementUse>();
  for (const s of segments) {
    requests += s.requests;
    fingerprinted += s.fingerprinted;
    repeats += s.repeats;
    hits += s.cache_hits;
    cost += s.cost_nanos;
    if (s.workload === "training") training += s.cost_nanos;
    if (s.interruptible) interruptible += s.cost_nanos;
    if (s.provider) continue;
    const placement = placementOf(s);
    const pricing = s.pricing_model ?? "on_demand";
    const key = `${placement} ${pricing}`;
    const use = gpu.get(key) ?? {
      placement,
      pricing_model: pricing,
      monthly_gpu_hours: 0,
      monthly_cost_nanos: 0n,
    };
    use.monthly_gpu_hours += s.gpu_seconds / 3600;
    use.monthly_cost_nanos += s.cost_nanos;
    gpu.set(key, use);
  }
  return {
    requests,
    repeated_share: fingerprinted > 0 ? share(repeats, fingerprinted) : null,
    cache_hit_share: requests > 0 ? share(hits, requests) : null,
    training_share: nanoShare(training, cost),
    interruptible_share: nanoShare(interruptible, cost),
    gpu: [...gpu.values()]
      .map((u) => ({ ...u, monthly_gpu_hours: Math.round(u.monthly_gpu_hours * 100) / 100 }))
      .sort((a, b) => compareNanosDesc(a.monthly_cost_nanos, b.monthly_cost_nanos)),
  };
}
