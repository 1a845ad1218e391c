import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CostRow } from "#domain/cost-row.ts";
import type { CostEvent } from "#domain/events/cloud-event.ts";
import { parseCostEvent } from "#domain/events/parse.ts";
import { hourSlices, MAX_AMORTIZATION_DAYS, toCostRows } from "#domain/ingest/to-cost-rows.ts";
import { sumNanos } from "#domain/money.ts";
import { parsePriceCatalog } from "#domain/pricing/catalog.ts";
import { createPricer } from "#domain/pricing/pricer.ts";

const shippedCatalog = parsePriceCatalog(
  JSON.parse(readFileSync(new URL("../../config/price-catalog.json", import.meta.url), "utf8")),
);
const pricer = createPricer(shippedCatalog);
const NOW = new Date("2026-11-05T12:00:00Z");
const INGESTED = new Date("2026-11-05T12:00:05Z");

/** Builds a CloudEvent, validates it through the real parser, and returns the typed event. */
function event(type: string, data: Record<string, unknown>, time = "2026-11-05T10:15:00Z"): CostEvent {
  const parsed = parseCostEvent(
    { specversion: "1.0", id: "evt-1", source: "//test/unit", type, time, data },
    NOW,
  );
  if (!parsed.ok) throw new Error(parsed.rejection.reason);
  return parsed.event;
}

const owner = { team: "search-ranking", model: "ranker", model_version: "v7", business_unit: "consumer" };
const inference = (data: Record<string, unknown>) => event("ai.cost.inference.v1", { ...owner, ...data });
const training = (data: Record<string, unknown>) =>
  event("ai.cost.training.v1", {
    team: "search-ranking",
    model: "ranker",
    job_id: "job-42",
    phase: "progress",
    ...data,
  });
const allocation = (data: Record<string, unknown>) =>
  event("ai.cost.allocation.v1", {
    team: "platform",
    cluster: "serving-gke",
    window: { start: "2026-11-04T10:30:00Z", end: "2026-11-04T12:15:00Z" },
    components: { gpu: "1000000000", cpu: "300000001", ram: "7" },
    ...data,
  });
const fixed = (data: Record<string, unknown>) =>
  event("ai.cost.fixed.v1", {
    team: "platform",
    description: "Weights & Biases seats",
    period: { start: "2026-11-01T00:00:00Z", end: "2026-11-02T00:00:00Z" },
    cost_nanos: "1000000000",
    ...data,
  });

function rowsOf(e: CostEvent): CostRow[] {
  const result = toCostRows(e, pricer, INGESTED);
  if (!result.ok) throw new Error(result.rejection.reason);
  return result.rows;
}

describe("toCostRows: inference", () => {
  it("prices GPU seconds from the catalog and keeps every dimension", () => {
    const [row, ...rest] = rowsOf(
      inference({
        cloud: "gcp",
        region: "us-central1",
        accelerator: "nvidia-l4",
        gpu_seconds: 0.01,
        environment: "prod",
        namespace: "ranking",
        labels: { tenant: "acme" },
        request_fingerprint: "abc",
      }),
    );
    expect(rest).toEqual([]);
    expect(row).toMatchObject({
      event_id: "evt-1",
      event_source: "//test/unit",
      event_type: "ai.cost.inference.v1",
      part: 0,
      event_time: new Date("2026-11-05T10:15:00Z"),
      ingested_at: INGESTED,
      basis: "estimate",
      team: "search-ranking",
      model: "ranker",
      model_version: "v7",
      business_unit: "consumer",
      cost_center: null,
      namespace: "ranking",
      environment: "prod",
      cloud: "gcp",
      region: "us-central1",
      labels: { tenant: "acme" },
      accelerator: "nvidia-l4",
      instance_type: null,
      pricing_model: "on_demand",
      gpu_count: null,
      gpu_seconds: 0.01,
      request_fingerprint: "abc",
      job_id: null,
      cost_nanos: 1_556n,
      currency: "USD",
      components: {},
      price_source: "catalog:2026-11-01:gcp/us-central1/nvidia-l4",
    });
  });

  it("charges a share of an instance for a fractional GPU and fills in the inferred cloud", () => {
    const [row] = rowsOf(inference({ instance_type: "p3.8xlarge", gpu_count: 0.5, gpu_seconds: 3600 }));
    // $12.24 for 4 GPUs; half a GPU for an hour = $1.53
    expect(row).toMatchObject({ cost_nanos: 1_530_000_000n, cloud: "aws", region: null, gpu_count: 0.5 });
    // No region: the catalog's default region for aws, said so.
    expect(row?.price_source).toBe("catalog:2026-11-01:aws/us-east-1/p3.8xlarge#fallback:region=us-east-1");
  });

  it("prices provider tokens", () => {
    const [row] = rowsOf(
      inference({
        model: "gpt-4o-mini",
        model_version: "2024-07-18",
        provider: "openai",
        input_tokens: 2000,
        cached_input_tokens: 1000,
        output_tokens: 300,
        cache_hit: true,
      }),
    );
    // 2000 × 0.15 + 1000 × 0.075 + 300 × 0.60 dollars per million = 0.000555 dollars
    expect(row).toMatchObject({
      cost_nanos: 555_000n,
      provider: "openai",
      pricing_model: null,
      input_tokens: 2000,
      cached_input_tokens: 1000,
      output_tokens: 300,
      cache_hit: true,
      price_source: "catalog:2026-11-01:openai/gpt-4o-mini",
    });
  });

  it("keeps the emitter's cost and currency when it gives one", () => {
    const [row] = rowsOf(
      inference({ cost_nanos: "123456789", currency: "EUR", provider: "openai", model: "x" }),
    );
    expect(row).toMatchObject({ cost_nanos: 123_456_789n, currency: "EUR", price_source: "emitter" });
  });

  it("rejects an unknown provider model naming data.model", () => {
    const result = toCostRows(
      inference({ provider: "openai", model: "gpt-9", input_tokens: 1 }),
      pricer,
      INGESTED,
    );
    expect(result).toEqual({
      ok: false,
      rejection: {
        field: "data.model",
        reason: "data.model: no token price for openai/gpt-9 in catalog 2026-11-01",
      },
    });
  });

  it("rejects a placement the catalog cannot price, naming the field", () => {
    const result = toCostRows(
      inference({ cloud: "aws", region: "us-east-1", instance_type: "p9.mega", gpu_seconds: 1 }),
      pricer,
      INGESTED,
    );
    expect(result).toEqual({
      ok: false,
      rejection: {
        field: "data.instance_type",
        reason: "data.instance_type: no price for aws/us-east-1/p9.mega (on_demand) in catalog 2026-11-01",
      },
    });
  });

  it("rejects an event from a region the catalog does not price, naming data.region", () => {
    const result = toCostRows(
      inference({ cloud: "gcp", region: "asia-east1", accelerator: "nvidia-l4", gpu_seconds: 1 }),
      pricer,
      INGESTED,
    );
    expect(result.ok || result.rejection).toEqual({
      field: "data.region",
      reason:
        "data.region: no price for gcp/asia-east1/nvidia-l4 (on_demand) in region asia-east1 of catalog 2026-11-01; " +
        "priced in us-central1 (pricing.regionFallback.gcp in the config prices other regions at one of them)",
    });
  });

  it("with pricing.regionFallback, prices it at that region's rate, names the rule and flags the event", () => {
    const lenient = createPricer(shippedCatalog, { regionFallback: { gcp: "us-central1" } });
    const e = inference({ cloud: "gcp", region: "asia-east1", accelerator: "nvidia-l4", gpu_seconds: 0.01 });

    const result = toCostRows(e, lenient, INGESTED);

    expect(result.ok && result.fallbackPriced).toBe(true);
    expect(result.ok && result.rows[0]).toMatchObject({
      region: "asia-east1",
      cost_nanos: 1_556n,
      price_source: "catalog:2026-11-01:gcp/us-central1/nvidia-l4#fallback:region=us-central1",
    });
  });

  it("flags only catalog prices from another region: own-region, token, emitter and window costs are not", () => {
    const own = inference({ cloud: "gcp", region: "us-central1", accelerator: "nvidia-l4", gpu_seconds: 1 });
    const tokens = inference({
      provider: "openai",
      model: "gpt-4o-mini",
      input_tokens: 10,
      output_tokens: 1,
    });
    const emitter = inference({ cost_nanos: "5", gpu_seconds: 1 });
    const regionless = inference({ cloud: "gcp", accelerator: "nvidia-l4", gpu_seconds: 1 });
    const flags = [own, tokens, emitter, allocation({}), fixed({}), regionless].map((e) => {
      const result = toCostRows(e, pricer, INGESTED);
      return result.ok ? result.fallbackPriced : result.rejection.reason;
    });
    expect(flags).toEqual([false, false, false, false, false, true]);
  });

  it("rejects catalog pricing in another currency than the catalog's", () => {
    const result = toCostRows(
      inference({ accelerator: "nvidia-l4", gpu_seconds: 1, currency: "EUR" }),
      pricer,
      INGESTED,
    );
    expect(result.ok || result.rejection.field).toBe("data.currency");
  });
});

describe("toCostRows: training", () => {
  it("stores the job's cumulative cost up to the event", () => {
    const [row] = rowsOf(
      training({
        cloud: "gcp",
        accelerator: "nvidia-tesla-a100",
        gpu_count: 8,
        elapsed_seconds: 7200,
        epoch: 3,
      }),
    );
    // 2.933908 × 8 GPUs × 2 h
    expect(row).toMatchObject({
      basis: "estimate",
      part: 0,
      cost_nanos: 46_942_528_000n,
      job_id: "job-42",
      job_phase: "progress",
      epoch: 3,
      elapsed_seconds: 7200,
      gpu_count: 8,
      business_unit: "unallocated",
      model_version: null,
      price_source: "catalog:2026-11-01:gcp/us-central1/nvidia-tesla-a100#fallback:region=us-central1",
    });
  });

  it("charges the GPUs a job holds on a bigger instance", () => {
    const [row] = rowsOf(training({ instance_type: "p3.16xlarge", gpu_count: 4, elapsed_seconds: 3600 }));
    expect(row?.cost_nanos).toBe(12_240_000_000n);
  });

  it("grows with elapsed time, so consecutive events' differences are never negative", () => {
    const at = (elapsed: number) =>
      rowsOf(
        training({ accelerator: "nvidia-l4", gpu_count: 1, elapsed_seconds: elapsed, pricing_model: "spot" }),
      )[0]?.cost_nanos ?? -1n;
    expect(at(0)).toBe(0n);
    expect(at(1800)).toBe(112_000_000n);
    expect(at(3600)).toBe(224_000_000n);
  });

  it("keeps the launcher's cumulative cost when it gives one", () => {
    const [row] = rowsOf(
      training({ instance_type: "p9.mega", gpu_count: 1, elapsed_seconds: 60, cost_nanos: 42 }),
    );
    expect(row).toMatchObject({ cost_nanos: 42n, price_source: "emitter" });
  });

  it("rejects a job the catalog cannot price, naming the field", () => {
    const result = toCostRows(
      training({ instance_type: "p9.mega", gpu_count: 1, elapsed_seconds: 60 }),
      pricer,
      INGESTED,
    );
    expect(result.ok || result.rejection.field).toBe("data.instance_type");
  });
});

describe("toCostRows: allocation", () => {
  it("spreads the window over the UTC hours it overlaps, by overlap", () => {
    const rows = rowsOf(allocation({ gpu_hours: 1.75 }));
    expect(rows.map((r) => r.part)).toEqual([0, 1, 2]);
    expect(rows.map((r) => r.event_time.toISOString())).toEqual([
      "2026-11-04T10:30:00.000Z",
      "2026-11-04T11:00:00.000Z",
      "2026-11-04T12:00:00.000Z",
    ]);
    // 30 min : 60 min : 15 min = 2 : 4 : 1
    expect(rows.map((r) => r.components.gpu)).toEqual([285_714_286n, 571_428_571n, 142_857_143n]);
    expect(rows.map((r) => r.components.ram)).toEqual([2n, 4n, 1n]);
    expect(rows.map((r) => r.gpu_seconds)).toEqual([1800, 3600, 900]);
    for (const row of rows) {
      expect(row.cost_nanos).toBe(sumNanos(Object.values(row.components)));
      expect(row).toMatchObject({ basis: "allocation", price_source: "emitter", currency: "USD" });
    }
    expect(sumNanos(rows.map((r) => r.cost_nanos))).toBe(1_300_000_008n);
  });

  it("puts a missing model and business unit in the unallocated bucket and keeps the cluster", () => {
    const [row] = rowsOf(allocation({ labels: { owner: "sre" } }));
    expect(row).toMatchObject({
      team: "platform",
      model: "unallocated",
      business_unit: "unallocated",
      model_version: null,
      cost_center: null,
      cloud: null,
      labels: { owner: "sre", cluster: "serving-gke" },
    });
  });

  it(`refuses windows longer than ${MAX_AMORTIZATION_DAYS} days, naming data.window`, () => {
    const result = toCostRows(
      allocation({ window: { start: "2026-01-01T00:00:00Z", end: "2026-04-05T00:00:00Z" } }),
      pricer,
      INGESTED,
    );
    expect(result).toEqual({
      ok: false,
      rejection: {
        field: "data.window",
        reason: "data.window: spans 94.0 days; split it into windows of at most 93 days",
      },
    });
  });
});

describe("toCostRows: fixed", () => {
  it("amortizes the period evenly over its hours and keeps the description", () => {
    const rows = rowsOf(fixed({ business_unit: "research" }));
    expect(rows).toHaveLength(24);
    expect(rows.map((r) => r.part)).toEqual([...Array(24).keys()]);
    expect(rows[0]).toMatchObject({
      basis: "estimate",
      team: "platform",
      model: "unallocated",
      business_unit: "research",
      labels: { description: "Weights & Biases seats" },
      components: {},
      price_source: "emitter",
      event_time: new Date("2026-11-01T00:00:00Z"),
    });
    // 1e9 / 24 = 41666666.67: sixteen hours get the extra nano
    expect(rows.map((r) => r.cost_nanos).filter((c) => c === 41_666_667n)).toHaveLength(16);
    expect(sumNanos(rows.map((r) => r.cost_nanos))).toBe(1_000_000_000n);
  });

  it("puts a cost shared by usage under the 'shared' owner, the payer kept in its labels", () => {
    const rows = rowsOf(fixed({ allocate: "usage" }));
    expect(new Set(rows.map((r) => r.team))).toEqual(new Set(["shared"]));
    expect(rows[0]?.labels).toMatchObject({ payer: "platform" });
    expect(sumNanos(rows.map((r) => r.cost_nanos))).toBe(1_000_000_000n);
  });

  it("splits each hour by fixed shares per team, every nano handed out, parts distinct", () => {
    const rows = rowsOf(fixed({ allocate: { shares: { search: 1, chat: 2 } } }));
    expect(rows).toHaveLength(48);
    expect(new Set(rows.map((r) => r.part)).size).toBe(48);
    const byTeam = (team: string) => sumNanos(rows.filter((r) => r.team === team).map((r) => r.cost_nanos));
    expect(byTeam("chat") + byTeam("search")).toBe(1_000_000_000n);
    const off = byTeam("chat") - 2n * byTeam("search"); // at most a nano per hour per team off 2:1
    expect(off < 0n ? -off : off).toBeLessThanOrEqual(72n);
  });

  it("refuses a period too long to spread, naming data.period", () => {
    const result = toCostRows(
      fixed({ period: { start: "2026-01-01T00:00:00Z", end: "2026-12-31T00:00:00Z" } }),
      pricer,
      INGESTED,
    );
    expect(result.ok || result.rejection.field).toBe("data.period");
  });

  it("accepts exactly the longest period", () => {
    const rows = rowsOf(fixed({ period: { start: "2026-01-01T00:00:00Z", end: "2026-04-04T00:00:00Z" } }));
    expect(rows).toHaveLength(MAX_AMORTIZATION_DAYS * 24);
  });
});

describe("amortization properties", () => {
  const HOUR = 3_600_000;
  const base = Date.parse("2026-01-01T00:00:00Z");
  const windowArb = fc
    .tuple(
      fc.integer({ min: 0, max: 300 * 24 * HOUR }),
      fc.integer({ min: 1, max: MAX_AMORTIZATION_DAYS * 24 * HOUR }),
    )
    .map(([offset, length]) => ({
      start: new Date(base + offset).toISOString(),
      end: new Date(base + offset + length).toISOString(),
    }));
  const nanosArb = fc.bigInt({ min: 0n, max: 10n ** 18n });

  it("hands out every nano of a fixed cost, one part per hour overlapped", () => {
    fc.assert(
      fc.property(windowArb, nanosArb, (period, cost) => {
        const rows = rowsOf(fixed({ period, cost_nanos: cost.toString() }));
        expect(sumNanos(rows.map((r) => r.cost_nanos))).toBe(cost);
        const start = Date.parse(period.start);
        const end = Date.parse(period.end);
        expect(rows).toHaveLength(Math.ceil(end / HOUR) - Math.floor(start / HOUR));
        rows.forEach((row, i) => {
          expect(row.part).toBe(i);
          expect(row.cost_nanos >= 0n).toBe(true);
        });
      }),
      { numRuns: 60 },
    );
  });

  it("splits every allocation component exactly, and each row costs the sum of its components", () => {
    const components = fc.record({
      gpu: nanosArb,
      cpu: nanosArb,
      ram: nanosArb,
      pv: nanosArb,
      network: nanosArb,
      other: nanosArb,
    });
    fc.assert(
      fc.property(windowArb, components, (window, parts) => {
        const rows = rowsOf(
          allocation({
            window,
            components: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v.toString()])),
          }),
        );
        for (const [name, total] of Object.entries(parts)) {
          expect(sumNanos(rows.map((r) => r.components[name] ?? 0n))).toBe(total);
        }
        for (const row of rows) expect(row.cost_nanos).toBe(sumNanos(Object.values(row.components)));
        expect(sumNanos(rows.map((r) => r.cost_nanos))).toBe(sumNanos(Object.values(parts)));
      }),
      { numRuns: 40 },
    );
  });

  it("slices cover the window exactly, inside UTC hours", () => {
    fc.assert(
      fc.property(windowArb, (window) => {
        const start = new Date(window.start);
        const end = new Date(window.end);
        const slices = hourSlices(start, end);
        expect(sumNanos(slices.map((s) => s.overlapMs))).toBe(BigInt(end.getTime() - start.getTime()));
        for (const slice of slices) {
          const hourStart = Math.floor(slice.start.getTime() / HOUR) * HOUR;
          expect(slice.start.getTime() + Number(slice.overlapMs)).toBeLessThanOrEqual(hourStart + HOUR);
        }
      }),
    );
  });
});
