import { type PriceCatalog, parsePriceCatalog } from "#domain/pricing/catalog.ts";
import { createPricer, type Pricer } from "#domain/pricing/pricer.ts";

/** The receiver's clock in these tests; event times sit a little before it. */
export const NOW = new Date("2026-11-15T12:30:00.000Z");

/** A one-entry catalog (the AWS list price of a p3.2xlarge), so tests do not move with config/. */
export const TEST_CATALOG: PriceCatalog = parsePriceCatalog({
  version: "test-1",
  currency: "USD",
  default_regions: { aws: "us-east-1" },
  entries: [
    {
      kind: "instance",
      cloud: "aws",
      region: "us-east-1",
      instance_type: "p3.2xlarge",
      gpu_model: "nvidia-tesla-v100",
      gpu_count: 1,
      on_demand: "3.06",
      source: "https://aws.amazon.com/ec2/pricing/on-demand/",
      as_of: "2025-05-01",
    },
  ],
});

export function testPricer(): Pricer {
  return createPricer(TEST_CATALOG);
}

type Json = Record<string, unknown>;

/** A valid inference CloudEvent (10 GPU-seconds on a p3.2xlarge); `data` overrides merge into the data. */
export function inferenceEvent(overrides: Json & { data?: Json } = {}): Json {
  const { data, ...envelope } = overrides;
  return {
    specversion: "1.0",
    id: "req-1",
    source: "//inference/fraud-scorer",
    type: "ai.cost.inference.v1",
    time: "2026-11-15T11:05:00Z",
    datacontenttype: "application/json",
    ...envelope,
    data: {
      team: "risk",
      model: "fraud-scorer",
      model_version: "v7",
      business_unit: "payments",
      cloud: "aws",
      region: "us-east-1",
      instance_type: "p3.2xlarge",
      gpu_seconds: 10,
      ...data,
    },
  };
}

/** A valid training CloudEvent with the launcher's cumulative cost. */
export function trainingEvent(overrides: Json & { data?: Json } = {}): Json {
  const { data, ...envelope } = overrides;
  return {
    specversion: "1.0",
    id: "job-1-progress-1",
    source: "//training/launcher",
    type: "ai.cost.training.v1",
    time: "2026-11-15T10:00:00Z",
    ...envelope,
    data: {
      team: "research",
      model: "ranker",
      job_id: "job-1",
      phase: "progress",
      gpu_count: 8,
      elapsed_seconds: 3600,
      cost_nanos: "24480000000",
      ...data,
    },
  };
}

/** A valid fixed-cost CloudEvent spread over three hours (three rows). */
export function fixedEvent(overrides: Json & { data?: Json } = {}): Json {
  const { data, ...envelope } = overrides;
  return {
    specversion: "1.0",
    id: "licence-1",
    source: "//finance/fixed",
    type: "ai.cost.fixed.v1",
    time: "2026-11-15T08:00:00Z",
    ...envelope,
    data: {
      team: "platform",
      description: "vector database licence",
      period: { start: "2026-11-15T08:00:00Z", end: "2026-11-15T11:00:00Z" },
      cost_nanos: "3000000000",
      ...data,
    },
  };
}

export const ndjson = (events: readonly unknown[]) => events.map((e) => JSON.stringify(e)).join("\n");
