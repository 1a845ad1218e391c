import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CatalogEntry,
  mergeCatalogOverrides,
  type PriceCatalog,
  PriceCatalogError,
  parsePriceCatalog,
  parsePriceCatalogOverrides,
} from "#domain/pricing/catalog.ts";
import { createPricer, exactDecimal, type GpuRate, gpuPriceSource } from "#domain/pricing/pricer.ts";

const shipped = parsePriceCatalog(
  JSON.parse(readFileSync(new URL("../../config/price-catalog.json", import.meta.url), "utf8")),
);

const accelerator = (
  overrides: Partial<Extract<CatalogEntry, { kind: "accelerator" }>> = {},
): CatalogEntry => ({
  kind: "accelerator",
  cloud: "gcp",
  region: "us-central1",
  accelerator: "nvidia-l4",
  on_demand: "0.56",
  spot: "0.224",
  source: "https://cloud.google.com/compute/gpus-pricing",
  as_of: "2025-03-01",
  ...overrides,
});

const instance = (overrides: Partial<Extract<CatalogEntry, { kind: "instance" }>> = {}): CatalogEntry => ({
  kind: "instance",
  cloud: "aws",
  region: "us-east-1",
  instance_type: "p3.8xlarge",
  gpu_model: "nvidia-tesla-v100",
  gpu_count: 4,
  on_demand: "12.24",
  spot: "3.672",
  source: "https://aws.amazon.com/ec2/pricing/on-demand/",
  as_of: "2025-05-01",
  ...overrides,
});

const catalogOf = (entries: CatalogEntry[], extra: Partial<PriceCatalog> = {}): PriceCatalog =>
  parsePriceCatalog({
    version: "2026-11-01",
    currency: "USD",
    default_regions: { aws: "us-east-1", gcp: "us-central1" },
    entries,
    ...extra,
  });

function issuesOf(fn: () => unknown): Array<{ field: string; message: string }> {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PriceCatalogError);
    return [...(error as PriceCatalogError).issues];
  }
  throw new Error("expected a PriceCatalogError");
}

describe("parsePriceCatalog", () => {
  it("names the field of a rate given as a JSON number", () => {
    const issues = issuesOf(() => catalogOf([accelerator({ on_demand: 0.56 as unknown as string })]));
    expect(issues.map((i) => i.field)).toEqual(["entries.0.on_demand"]);
  });

  it("names a rate with more than nine decimals, a missing source and a bad date", () => {
    const bad = { ...accelerator({ spot: "0.0000000001", as_of: "March 2025" }) } as Record<string, unknown>;
    delete bad.source;
    const fields = issuesOf(() => catalogOf([bad as CatalogEntry])).map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(["entries.0.spot", "entries.0.source", "entries.0.as_of"]));
  });

  it("requires gpu_count on instance entries and rejects unknown keys", () => {
    const noCount = { ...instance() } as Record<string, unknown>;
    delete noCount.gpu_count;
    expect(issuesOf(() => catalogOf([noCount as CatalogEntry])).map((i) => i.field)).toEqual([
      "entries.0.gpu_count",
    ]);
    const extra = { ...accelerator(), gpu_count: 1 } as CatalogEntry;
    expect(issuesOf(() => catalogOf([extra]))[0]?.field).toBe("entries.0");
  });

  it("rejects two prices for the same key, case-insensitively, naming both entries", () => {
    const issues = issuesOf(() => catalogOf([accelerator(), accelerator({ accelerator: "NVIDIA-L4" })]));
    expect(issues).toEqual([
      { field: "entries.1", message: "duplicate price for gcp/us-central1/nvidia-l4 (also at entries.0)" },
    ]);
  });

  it("says what is wrong in the message as well", () => {
    expect(() => catalogOf([accelerator({ kind: "gpu" as "accelerator" })])).toThrow(/entries\.0\.kind/);
  });
});

describe("mergeCatalogOverrides", () => {
  const base = catalogOf([accelerator(), instance()]);

  it("replaces the entry with the same key in place and appends new ones", () => {
    const merged = mergeCatalogOverrides(
      base,
      parsePriceCatalogOverrides({
        version: "acme-1",
        entries: [
          accelerator({ on_demand: "0.50" }),
          accelerator({ accelerator: "nvidia-b200", on_demand: "9" }),
        ],
      }),
    );
    expect(merged.version).toBe("2026-11-01+acme-1");
    expect(merged.entries.map((e) => (e.kind === "tokens" ? e.model : e.on_demand))).toEqual([
      "0.50",
      "12.24",
      "9",
    ]);
    const pricer = createPricer(merged);
    const rate = pricer.gpuHourlyRate({ accelerator: "nvidia-l4" });
    expect(rate.ok && rate.rate.rateNanosPerHour).toBe(500_000_000n);
  });

  it("accepts a bare array of entries and tags the version as overridden", () => {
    const merged = mergeCatalogOverrides(base, parsePriceCatalogOverrides([instance({ on_demand: "11" })]));
    expect(merged.version).toBe("2026-11-01+override");
    expect(merged.entries).toHaveLength(2);
  });

  it("leaves the catalog as it is when there is nothing to override", () => {
    expect(mergeCatalogOverrides(base, parsePriceCatalogOverrides({}))).toBe(base);
  });

  it("replaces a token entry when the override names one of its aliases", () => {
    const withTokens = catalogOf([
      {
        kind: "tokens",
        provider: "openai",
        model: "gpt-4o",
        aliases: ["gpt-4o-2024-08-06"],
        input: "2.50",
        cached_input: "1.25",
        output: "10",
        source: "https://openai.com/api/pricing/",
        as_of: "2024-11-20",
      },
    ]);
    const merged = mergeCatalogOverrides(
      withTokens,
      parsePriceCatalogOverrides([
        {
          kind: "tokens",
          provider: "openai",
          model: "gpt-4o-2024-08-06",
          input: "2",
          output: "8",
          source: "negotiated rate card",
          as_of: "2026-01-01",
        },
      ]),
    );
    expect(merged.entries).toHaveLength(1);
    const rate = createPricer(merged).tokenRate({ provider: "openai", model: "gpt-4o-2024-08-06" });
    expect(rate.ok && rate.rate.inputNanosPerMillion).toBe(2_000_000_000n);
  });

  it("merges default regions, the override winning", () => {
    const merged = mergeCatalogOverrides(
      base,
      parsePriceCatalogOverrides({ default_regions: { aws: "us-west-2" } }),
    );
    expect(merged.default_regions).toEqual({ aws: "us-west-2", gcp: "us-central1" });
  });

  it("refuses overrides in another currency", () => {
    expect(() =>
      mergeCatalogOverrides(base, parsePriceCatalogOverrides({ currency: "EUR", entries: [] })),
    ).toThrow(expect.objectContaining({ code: "currency_mismatch" }));
  });

  it("names the field of a bad override", () => {
    const issues = issuesOf(() => parsePriceCatalogOverrides([accelerator({ region: "" })]));
    expect(issues.map((i) => i.field)).toEqual(["entries.0.region"]);
  });
});

describe("exactDecimal", () => {
  it.each([
    [0.0123, 123n, 4],
    [3600, 3600n, 0],
    [1e-7, 1n, 7],
    [2.5e-8, 25n, 9],
    [1e21, 10n ** 21n, 0],
    [0.1 + 0.2, 30000000000000004n, 17],
  ])("reads %s exactly", (value, units, scale) => {
    expect(exactDecimal(value)).toEqual({ units, scale });
  });

  it("refuses NaN and infinities", () => {
    expect(() => exactDecimal(Number.NaN)).toThrow(RangeError);
    expect(() => exactDecimal(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe("gpuHourlyRate", () => {
  const pricer = createPricer(shipped);

  it("prices an instance type in its exact region", () => {
    const found = pricer.gpuHourlyRate({ cloud: "aws", region: "us-east-1", instance_type: "p3.2xlarge" });
    expect(found).toEqual({
      ok: true,
      rate: expect.objectContaining({
        rateNanosPerHour: 3_060_000_000n,
        perGpu: false,
        gpuCount: 1,
        key: "aws/us-east-1/p3.2xlarge",
        cloud: "aws",
        region: "us-east-1",
        pricingModel: "on_demand",
      }),
    });
  });

  it("prefers the event's region over the default region", () => {
    const found = pricer.gpuHourlyRate({ cloud: "aws", region: "eu-west-1", instance_type: "p3.2xlarge" });
    expect(found.ok && found.rate.rateNanosPerHour).toBe(3_305_000_000n);
  });

  it("tries instance_type before accelerator", () => {
    const found = pricer.gpuHourlyRate({
      cloud: "gcp",
      region: "us-central1",
      instance_type: "g2-standard-4",
      accelerator: "nvidia-l4",
    });
    expect(found.ok && found.rate.key).toBe("gcp/us-central1/g2-standard-4");
    const unknownType = pricer.gpuHourlyRate({
      cloud: "gcp",
      instance_type: "n1-custom-8",
      accelerator: "nvidia-l4",
    });
    expect(unknownType.ok && unknownType.rate).toMatchObject({
      key: "gcp/us-central1/nvidia-l4",
      perGpu: true,
    });
  });

  it("infers the cloud when the name is priced in exactly one cloud", () => {
    const found = pricer.gpuHourlyRate({ region: "us-central1", accelerator: "nvidia-tesla-v100" });
    expect(found.ok && found.rate.cloud).toBe("gcp");
    const aws = pricer.gpuHourlyRate({ instance_type: "g4dn.xlarge" });
    expect(aws.ok && aws.rate.key).toBe("aws/us-east-1/g4dn.xlarge");
  });

  it("asks for the cloud when the name is priced in several", () => {
    const two = createPricer(catalogOf([accelerator(), accelerator({ cloud: "aws", region: "us-east-1" })]));
    expect(two.gpuHourlyRate({ accelerator: "nvidia-l4" })).toEqual({
      ok: false,
      failure: {
        code: "ambiguous_cloud",
        field: "data.cloud",
        reason: "nvidia-l4 is priced in aws and gcp in catalog 2026-11-01; name the cloud",
      },
    });
  });

  it("names the field and the key it looked for when nothing matches", () => {
    expect(pricer.gpuHourlyRate({ cloud: "aws", region: "us-east-1", instance_type: "p9.mega" })).toEqual({
      ok: false,
      failure: {
        code: "no_price",
        field: "data.instance_type",
        reason: "no price for aws/us-east-1/p9.mega (on_demand) in catalog 2026-11-01",
      },
    });
    const noAccelerator = pricer.gpuHourlyRate({ accelerator: "nvidia-x9000" });
    expect(noAccelerator.ok || noAccelerator.failure.field).toBe("data.accelerator");
  });

  it("prices spot capacity at the spot rate and its own source", () => {
    const found = pricer.gpuHourlyRate({ cloud: "gcp", accelerator: "nvidia-l4", pricing_model: "spot" });
    expect(found.ok && found.rate).toMatchObject({ rateNanosPerHour: 224_000_000n, pricingModel: "spot" });
    expect(found.ok && found.rate.source).toContain("spot-vms");
  });

  it("rejects spot on an entry without a spot rate, naming pricing_model", () => {
    const noSpot = { ...accelerator() } as Record<string, unknown>;
    delete noSpot.spot;
    const p = createPricer(catalogOf([noSpot as CatalogEntry]));
    expect(p.gpuHourlyRate({ accelerator: "nvidia-l4", pricing_model: "spot" })).toEqual({
      ok: false,
      failure: {
        code: "no_spot_price",
        field: "data.pricing_model",
        reason: "no spot price for gcp/us-central1/nvidia-l4 in catalog 2026-11-01",
      },
    });
  });

  it("matches names case-insensitively", () => {
    const found = pricer.gpuHourlyRate({ cloud: "aws", region: "US-EAST-1", instance_type: "P3.2XLARGE" });
    expect(found.ok).toBe(true);
  });
});

describe("gpuHourlyRate never guesses a region silently", () => {
  const strict = createPricer(shipped);
  const lenient = createPricer(shipped, { regionFallback: { aws: "us-east-1", gcp: "us-central1" } });

  it("rejects a region the catalog has no price in, naming data.region and where it is priced", () => {
    expect(strict.gpuHourlyRate({ cloud: "aws", region: "ap-south-1", instance_type: "p3.2xlarge" })).toEqual(
      {
        ok: false,
        failure: {
          code: "no_region_price",
          field: "data.region",
          reason:
            "no price for aws/ap-south-1/p3.2xlarge (on_demand) in region ap-south-1 of catalog 2026-11-01; " +
            "priced in us-east-1, us-west-2, eu-west-1 (pricing.regionFallback.aws in the config prices other regions at one of them)",
        },
      },
    );
    // A name the catalog prices in another region of the cloud only.
    const p38 = strict.gpuHourlyRate({ cloud: "aws", region: "eu-west-1", instance_type: "p3.8xlarge" });
    expect(p38.ok || p38.failure).toMatchObject({ field: "data.region", reason: /priced in us-east-1 \(/ });
    // A name priced nowhere is still about the name, whatever the region.
    const none = strict.gpuHourlyRate({ cloud: "aws", region: "ap-south-1", instance_type: "p9.mega" });
    expect(none.ok || none.failure.field).toBe("data.instance_type");
  });

  it("with pricing.regionFallback, prices an unpriced region at the named region's rate, marked", () => {
    const found = lenient.gpuHourlyRate({ cloud: "gcp", region: "asia-east1", accelerator: "nvidia-l4" });
    expect(found).toEqual({
      ok: true,
      rate: expect.objectContaining({
        key: "gcp/us-central1/nvidia-l4",
        region: "us-central1",
        rateNanosPerHour: 560_000_000n,
        fallback: { reason: "unpriced_region", region: "us-central1" },
      }),
    });
    if (!found.ok) throw new Error(found.failure.reason);
    expect(gpuPriceSource("2026-11-01", found.rate)).toBe(
      "catalog:2026-11-01:gcp/us-central1/nvidia-l4#fallback:region=us-central1",
    );
  });

  it("uses the event's own region whenever the catalog prices it, fallback or not", () => {
    for (const pricer of [strict, lenient]) {
      const found = pricer.gpuHourlyRate({ cloud: "aws", region: "eu-west-1", instance_type: "p3.2xlarge" });
      expect(found.ok && found.rate).toMatchObject({ rateNanosPerHour: 3_305_000_000n });
      expect(found.ok && found.rate.fallback).toBeUndefined();
      if (found.ok) expect(gpuPriceSource("v", found.rate)).toBe("catalog:v:aws/eu-west-1/p3.2xlarge");
    }
  });

  it("falls back only within the event's cloud, and only where the fallback region prices the name", () => {
    const awsOnly = createPricer(shipped, { regionFallback: { aws: "us-west-2" } });
    // gcp has no fallback configured: still rejected.
    const gcp = awsOnly.gpuHourlyRate({ cloud: "gcp", region: "asia-east1", accelerator: "nvidia-l4" });
    expect(gcp.ok || gcp.failure.field).toBe("data.region");
    // us-west-2 does not price a p3.8xlarge: rejected, naming the region.
    const p38 = awsOnly.gpuHourlyRate({ cloud: "aws", region: "ap-south-1", instance_type: "p3.8xlarge" });
    expect(p38.ok || p38.failure.field).toBe("data.region");
    const p32 = awsOnly.gpuHourlyRate({ cloud: "aws", region: "ap-south-1", instance_type: "p3.2xlarge" });
    expect(p32.ok && p32.rate.fallback).toEqual({ reason: "unpriced_region", region: "us-west-2" });
  });

  it("prices an event that names no region in the catalog's default region, marked as a fallback", () => {
    const found = strict.gpuHourlyRate({ cloud: "gcp", accelerator: "nvidia-l4" });
    expect(found.ok && found.rate).toMatchObject({
      key: "gcp/us-central1/nvidia-l4",
      fallback: { reason: "no_region", region: "us-central1" },
    });
    // The configured fallback region wins over the catalog's default for a region-less event.
    const west = createPricer(shipped, { regionFallback: { gcp: "europe-west4" } });
    const a100 = west.gpuHourlyRate({ cloud: "gcp", accelerator: "nvidia-tesla-v100" });
    expect(a100.ok && a100.rate).toMatchObject({
      rateNanosPerHour: 2_550_000_000n,
      fallback: { reason: "no_region", region: "europe-west4" },
    });
  });

  it("rejects a region-less event naming data.region when no region can be assumed for it", () => {
    const noDefaults = createPricer(catalogOf([accelerator()], { default_regions: {} }));
    expect(noDefaults.gpuHourlyRate({ cloud: "gcp", accelerator: "nvidia-l4" })).toEqual({
      ok: false,
      failure: {
        code: "no_region_price",
        field: "data.region",
        reason:
          "required to price gcp/(no region)/nvidia-l4 (on_demand): catalog 2026-11-01 has no default region for gcp; priced in us-central1",
      },
    });
  });

  it("does not borrow a spot rate from another region unless a fallback is configured", () => {
    const noSpot = { ...accelerator({ region: "europe-west4" }) } as Record<string, unknown>;
    delete noSpot.spot;
    const catalog = catalogOf([noSpot as CatalogEntry, accelerator()]);
    const spot = {
      cloud: "gcp",
      region: "europe-west4",
      accelerator: "nvidia-l4",
      pricing_model: "spot",
    } as const;
    const strictSpot = createPricer(catalog).gpuHourlyRate(spot);
    expect(strictSpot.ok || strictSpot.failure.field).toBe("data.pricing_model");
    const lenientSpot = createPricer(catalog, { regionFallback: { gcp: "us-central1" } }).gpuHourlyRate(spot);
    expect(lenientSpot.ok && lenientSpot.rate).toMatchObject({
      rateNanosPerHour: 224_000_000n,
      fallback: { reason: "unpriced_region", region: "us-central1" },
    });
  });

  it("refuses a regionFallback region the catalog prices no GPU in, naming the setting", () => {
    expect(() => createPricer(shipped, { regionFallback: { gcp: "us-east-1" } })).toThrow(PriceCatalogError);
    expect(
      issuesOf(() => createPricer(shipped, { regionFallback: { gcp: "us-east-1", aws: "us-east-1" } })),
    ).toEqual([
      {
        field: "pricing.regionFallback.gcp",
        message: "catalog 2026-11-01 has no gcp GPU price in region us-east-1",
      },
    ]);
  });
});

describe("gpuCost", () => {
  const pricer = createPricer(shipped);
  const rateOf = (query: Parameters<typeof pricer.gpuHourlyRate>[0]): GpuRate => {
    const found = pricer.gpuHourlyRate(query);
    if (!found.ok) throw new Error(found.failure.reason);
    return found.rate;
  };
  const p32 = rateOf({ cloud: "aws", instance_type: "p3.2xlarge" });
  const p38 = rateOf({ cloud: "aws", instance_type: "p3.8xlarge" });
  const l4 = rateOf({ cloud: "gcp", accelerator: "nvidia-l4" });

  it("prices an hour of a p3.2xlarge at its list price", () => {
    expect(pricer.gpuCost(p32, { seconds: 3600 })).toBe(3_060_000_000n);
    expect(pricer.gpuCost(p32, { seconds: 3600, gpuCount: 1 })).toBe(3_060_000_000n);
  });

  it("prices 10 ms on an L4 to the nano, rounding once half away from zero", () => {
    // 0.56e9 × 0.01 / 3600 = 1555.55…
    expect(pricer.gpuCost(l4, { seconds: 0.01 })).toBe(1_556n);
    // 0.56e9 × 0.0123 / 3600 = 1913.33…
    expect(pricer.gpuCost(l4, { seconds: 0.0123 })).toBe(1_913n);
  });

  it("charges a share of a multi-GPU instance for the GPUs used, and the whole instance by default", () => {
    expect(pricer.gpuCost(p38, { seconds: 3600, gpuCount: 1 })).toBe(3_060_000_000n);
    expect(pricer.gpuCost(p38, { seconds: 3600 })).toBe(12_240_000_000n);
    expect(pricer.gpuCost(p38, { seconds: 1800, gpuCount: 2 })).toBe(3_060_000_000n);
  });

  it("multiplies a per-GPU rate by the GPUs used, fractions included, one GPU by default", () => {
    expect(pricer.gpuCost(l4, { seconds: 3600 })).toBe(560_000_000n);
    expect(pricer.gpuCost(l4, { seconds: 3600, gpuCount: 0.25 })).toBe(140_000_000n);
    expect(pricer.gpuCost(l4, { seconds: 3600, gpuCount: 8 })).toBe(4_480_000_000n);
    // 0.56e9 × 0.5 × 0.1 / 3600 = 7777.77…
    expect(pricer.gpuCost(l4, { seconds: 0.1, gpuCount: 0.5 })).toBe(7_778n);
  });

  it("computes on the decimal the number prints as, not its binary expansion", () => {
    // 0.1 + 0.2 prints as 0.30000000000000004: 0.56e9 × that / 3600 = 46666.66…67
    expect(pricer.gpuCost(l4, { seconds: 0.1 + 0.2 })).toBe(46_667n);
    expect(pricer.gpuCost(l4, { seconds: 0 })).toBe(0n);
  });

  it("refuses negative or non-finite usage", () => {
    expect(() => pricer.gpuCost(l4, { seconds: -1 })).toThrow(RangeError);
    expect(() => pricer.gpuCost(l4, { seconds: Number.NaN })).toThrow(RangeError);
    expect(() => pricer.gpuCost(l4, { seconds: 1, gpuCount: -0.5 })).toThrow(RangeError);
  });

  it("is exact for whole hours and linear in them", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 24 * 366 }), fc.integer({ min: 1, max: 8 }), (hours, gpus) => {
        expect(pricer.gpuCost(p38, { seconds: hours * 3600, gpuCount: gpus })).toBe(
          (12_240_000_000n * BigInt(hours) * BigInt(gpus)) / 4n,
        );
      }),
    );
  });

  it("never decreases when the seconds grow", () => {
    const rates = [
      p32,
      p38,
      l4,
      rateOf({ cloud: "gcp", instance_type: "a3-highgpu-8g", pricing_model: "spot" }),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...rates),
        fc.double({ min: 0, max: 7 * 24 * 3600, noNaN: true }),
        fc.double({ min: 0, max: 7 * 24 * 3600, noNaN: true }),
        fc.option(fc.double({ min: 0.01, max: 64, noNaN: true }), { nil: undefined }),
        (rate, a, b, gpuCount) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          expect(pricer.gpuCost(rate, { seconds: lo, gpuCount })).toBeLessThanOrEqual(
            pricer.gpuCost(rate, { seconds: hi, gpuCount }),
          );
        },
      ),
    );
  });
});

describe("token prices", () => {
  const pricer = createPricer(shipped);

  it("prices input, cached input and output per million tokens, exactly", () => {
    const found = pricer.tokenRate({ provider: "openai", model: "gpt-4o" });
    if (!found.ok) throw new Error(found.failure.reason);
    // 1000 × 2.50 + 500 × 1.25 + 200 × 10.00 dollars per million = 0.005125 dollars
    expect(
      pricer.tokenCost(found.rate, { input_tokens: 1000, cached_input_tokens: 500, output_tokens: 200 }),
    ).toBe(5_125_000n);
    expect(pricer.tokenCost(found.rate, {})).toBe(0n);
  });

  it("rounds a sub-nano total once, not per token kind", () => {
    const p = createPricer(
      catalogOf([
        {
          kind: "tokens",
          provider: "acme",
          model: "tiny",
          input: "0.0375",
          cached_input: "0.0375",
          output: "0.0375",
          source: "https://example.com/pricing",
          as_of: "2026-01-01",
        },
      ]),
    );
    const found = p.tokenRate({ provider: "acme", model: "tiny" });
    if (!found.ok) throw new Error(found.failure.reason);
    // $0.0375 per million = 37.5 nanos a token
    expect(p.tokenCost(found.rate, { input_tokens: 1 })).toBe(38n);
    expect(p.tokenCost(found.rate, { input_tokens: 1, cached_input_tokens: 1 })).toBe(75n);
    expect(p.tokenCost(found.rate, { input_tokens: 1, cached_input_tokens: 1, output_tokens: 1 })).toBe(113n);
  });

  it("resolves aliases and dated snapshots to the catalog's model", () => {
    const found = pricer.tokenRate({ provider: "openai", model: "gpt-4o-mini-2024-07-18" });
    expect(found.ok && found.rate).toMatchObject({ model: "gpt-4o-mini", key: "openai/gpt-4o-mini" });
  });

  it("prices cached tokens at the input rate when the entry has no cached price", () => {
    const p = createPricer(
      catalogOf([
        {
          kind: "tokens",
          provider: "acme",
          model: "m1",
          input: "1",
          output: "2",
          source: "https://example.com/pricing",
          as_of: "2026-01-01",
        },
      ]),
    );
    const found = p.tokenRate({ provider: "acme", model: "m1" });
    expect(found.ok && p.tokenCost(found.rate, { cached_input_tokens: 1_000_000 })).toBe(1_000_000_000n);
  });

  it("names data.model for an unknown model and data.provider for an unknown provider", () => {
    expect(pricer.tokenRate({ provider: "openai", model: "gpt-9" })).toEqual({
      ok: false,
      failure: {
        code: "unknown_model",
        field: "data.model",
        reason: "no token price for openai/gpt-9 in catalog 2026-11-01",
      },
    });
    const provider = pricer.tokenRate({ provider: "mistral", model: "large" });
    expect(provider.ok || provider.failure.field).toBe("data.provider");
  });
});
