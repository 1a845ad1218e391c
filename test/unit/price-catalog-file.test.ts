import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decimalToNanos } from "#domain/money.ts";
import { entryKey, parsePriceCatalog } from "#domain/pricing/catalog.ts";
import { createPricer } from "#domain/pricing/pricer.ts";

const raw: unknown = JSON.parse(
  readFileSync(new URL("../../config/price-catalog.json", import.meta.url), "utf8"),
);
const catalog = parsePriceCatalog(raw);
const gpuEntries = catalog.entries.filter((e) => e.kind !== "tokens");
const tokenEntries = catalog.entries.filter((e) => e.kind === "tokens");
const keys = new Set(catalog.entries.map(entryKey));

describe("config/price-catalog.json", () => {
  it("validates, with a date version and USD", () => {
    expect(catalog.version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(catalog.currency).toBe("USD");
    expect(catalog.default_regions).toEqual({ aws: "us-east-1", gcp: "us-central1" });
  });

  it("names a vendor source and an as_of date, not after the catalog version, for every entry", () => {
    for (const entry of catalog.entries) {
      expect(entry.source, entryKey(entry)).toMatch(/https:\/\/\S+/);
      expect(entry.as_of <= catalog.version, `${entryKey(entry)} as_of ${entry.as_of}`).toBe(true);
    }
  });

  it("has a spot rate below the on-demand rate for every GPU entry, each with its own source", () => {
    for (const entry of gpuEntries) {
      expect(entry.spot, entryKey(entry)).toBeDefined();
      expect(decimalToNanos(entry.spot ?? "0") < decimalToNanos(entry.on_demand), entryKey(entry)).toBe(true);
      expect(entry.spot_source, entryKey(entry)).toMatch(/https:\/\/\S+/);
    }
  });

  it("says how many GPUs each instance type has", () => {
    for (const entry of catalog.entries) {
      if (entry.kind === "instance") expect(Number.isInteger(entry.gpu_count), entryKey(entry)).toBe(true);
    }
  });

  it.each([
    "aws/us-east-1/p3.2xlarge",
    "aws/us-east-1/p3.8xlarge",
    "aws/us-east-1/p3.16xlarge",
    "aws/us-east-1/g4dn.xlarge",
    "aws/us-east-1/g5.xlarge",
    "aws/us-east-1/p4d.24xlarge",
    "gcp/us-central1/nvidia-tesla-a100",
    "gcp/us-central1/nvidia-a100-80gb",
    "gcp/us-central1/nvidia-l4",
    "gcp/us-central1/nvidia-tesla-v100",
    "gcp/us-central1/nvidia-h100-80gb",
    "gcp/us-central1/nvidia-tesla-t4",
    "gcp/europe-west4/nvidia-tesla-a100",
    "gcp/europe-west4/nvidia-tesla-v100",
    "gcp/europe-west4/nvidia-tesla-t4",
    "gcp/us-central1/a2-highgpu-1g",
    "gcp/us-central1/a2-ultragpu-1g",
    "gcp/us-central1/g2-standard-4",
    "gcp/us-central1/a3-highgpu-8g",
    "openai/gpt-4o",
    "openai/gpt-4o-mini",
    "anthropic/claude-sonnet-4-5",
    "anthropic/claude-haiku-4-5",
    "google/gemini-2.0-flash",
  ])("prices %s", (key) => {
    expect(keys.has(key)).toBe(true);
  });

  it("has input, cached input and output prices per million tokens, cached below input", () => {
    for (const entry of tokenEntries) {
      expect(entry.cached_input, entryKey(entry)).toBeDefined();
      expect(decimalToNanos(entry.cached_input ?? "0") < decimalToNanos(entry.input), entryKey(entry)).toBe(
        true,
      );
      expect(decimalToNanos(entry.output) > decimalToNanos(entry.input), entryKey(entry)).toBe(true);
    }
  });

  it("keeps the rates PRICES.md argues for", () => {
    const pricer = createPricer(catalog);
    const rate = (query: Parameters<typeof pricer.gpuHourlyRate>[0]) => {
      const found = pricer.gpuHourlyRate(query);
      if (!found.ok) throw new Error(found.failure.reason);
      return found.rate.rateNanosPerHour;
    };
    expect(rate({ cloud: "gcp", accelerator: "nvidia-tesla-v100" })).toBe(2_480_000_000n);
    expect(rate({ cloud: "gcp", accelerator: "nvidia-tesla-t4" })).toBe(350_000_000n);
    expect(rate({ cloud: "gcp", accelerator: "nvidia-tesla-a100" })).toBe(2_933_908_000n);
    expect(rate({ cloud: "aws", instance_type: "p3.8xlarge" })).toBe(12_240_000_000n);
    // The H100 per-GPU entry is the a3-highgpu-8g price divided by its 8 GPUs.
    expect(rate({ cloud: "gcp", accelerator: "nvidia-h100-80gb" }) * 8n).toBe(
      rate({ cloud: "gcp", instance_type: "a3-highgpu-8g" }),
    );
  });

  it("prices every A100 GPU-hour between $2 and $5, on demand", () => {
    const pricer = createPricer(catalog);
    for (const entry of gpuEntries) {
      const isA100 =
        (entry.kind === "accelerator" && entry.accelerator.includes("a100")) ||
        (entry.kind === "instance" && entry.gpu_model?.includes("a100"));
      if (!isA100) continue;
      const found = pricer.gpuHourlyRate({
        cloud: entry.cloud,
        region: entry.region,
        ...(entry.kind === "instance"
          ? { instance_type: entry.instance_type }
          : { accelerator: entry.accelerator }),
      });
      if (!found.ok) throw new Error(found.failure.reason);
      const perGpu = pricer.gpuCost(found.rate, { seconds: 3600, gpuCount: 1 });
      expect(perGpu >= 2_000_000_000n && perGpu <= 5_500_000_000n, entryKey(entry)).toBe(true);
    }
  });
});
