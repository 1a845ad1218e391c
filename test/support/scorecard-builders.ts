import { readFileSync } from "node:fs";
import { type PriceCatalog, parsePriceCatalog } from "#domain/pricing/catalog.ts";
import { createPricer } from "#domain/pricing/pricer.ts";
import type { ScorecardSegment } from "#domain/scorecard/scorecard-inputs.ts";
import { DEFAULT_SCORECARD_SETTINGS } from "#domain/scorecard/scorecard-settings.ts";
import type { LeverContext } from "#domain/scorecard/segment-levers.ts";
import type { GpuUtilization } from "#domain/scorecard/utilization.ts";

export const USD = 1_000_000_000n;

/** The price catalog the product ships (config/price-catalog.json). */
export function shippedCatalog(): PriceCatalog {
  const url = new URL("../../config/price-catalog.json", import.meta.url);
  return parsePriceCatalog(JSON.parse(readFileSync(url, "utf8")), url.pathname);
}

/**
 * A month of serving on one on-demand V100 (p3.2xlarge, AWS us-east-1), $1,000, no fingerprints;
 * `overrides` replace fields.
 */
export function segment(overrides: Partial<ScorecardSegment> = {}): ScorecardSegment {
  return {
    team: "risk",
    model: "fraud-scorer",
    currency: "USD",
    workload: "inference",
    interruptible: false,
    namespace: "risk",
    cloud: "aws",
    region: "us-east-1",
    accelerator: null,
    instance_type: "p3.2xlarge",
    pricing_model: "on_demand",
    provider: null,
    cost_nanos: 1_000n * USD,
    gpu_seconds: 3600 * 24 * 30,
    requests: 100_000,
    fingerprinted: 0,
    repeats: 0,
    repeat_cost_nanos: 0n,
    cache_hits: 0,
    ...overrides,
  };
}

/** Utilization of models per GPU name, as utilizationByModel gives it. */
export function utilization(
  entries: Record<string, Record<string, Omit<GpuUtilization, "gpu" | "samples">>>,
): LeverContext["utilization"] {
  return new Map(
    Object.entries(entries).map(([model, gpus]) => [
      model,
      new Map(Object.entries(gpus).map(([gpu, u]) => [gpu, { gpu, samples: 100, ...u }])),
    ]),
  );
}

/** The shipped catalog and default settings; no utilization unless given. */
export function leverContext(overrides: Partial<LeverContext> = {}): LeverContext {
  const catalog = overrides.catalog ?? shippedCatalog();
  return {
    catalog,
    pricer: createPricer(catalog),
    settings: DEFAULT_SCORECARD_SETTINGS,
    utilization: null,
    ...overrides,
  };
}
