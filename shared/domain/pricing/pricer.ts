import { decimalToNanos, divRound, type Nanos } from "#domain/money.ts";
import {
  type AcceleratorPrice,
  entryKey,
  entryKeys,
  type InstancePrice,
  type PriceCatalog,
  PriceCatalogError,
  type RegionFallback,
  type TokenPrice,
} from "#domain/pricing/catalog.ts";

export type PricingModel = "on_demand" | "spot";

/** Where a workload ran: the event's placement fields. */
export interface GpuPriceQuery {
  cloud?: string | undefined;
  region?: string | undefined;
  instance_type?: string | undefined;
  accelerator?: string | undefined;
  pricing_model?: PricingModel | undefined;
}

export interface GpuRate {
  rateNanosPerHour: Nanos;
  /** True for an accelerator entry (rate per GPU-hour), false for an instance entry (per instance-hour). */
  perGpu: boolean;
  /** GPUs the rate covers: the instance's GPU count, or 1 for a per-GPU rate. */
  gpuCount: number;
  /** The catalog entry's key, e.g. "aws/us-east-1/p3.2xlarge". */
  key: string;
  source: string;
  cloud: string;
  /** The region of the entry that priced it: the event's own, or the fallback's. */
  region: string;
  pricingModel: PricingModel;
  /**
   * Set when the rate is not the event's own region's, by an explicit rule: the region whose rate
   * priced it, and why. Callers count these (the ingest answer's `fallbackPriced`), and the row's
   * price_source names it (see gpuPriceSource).
   */
  fallback?: PriceFallback;
}

/**
 * Why an event was priced at another region's rate:
 * - `no_region`: the event names no region; the configured regionFallback, else the catalog's
 *   default region for the cloud (default_regions), is assumed;
 * - `unpriced_region`: the catalog has no price in the event's region and the configuration opted in
 *   to pricing that cloud's other regions at pricing.regionFallback's rate.
 */
export interface PriceFallback {
  reason: "no_region" | "unpriced_region";
  /** The region whose rate was used. */
  region: string;
}

export interface TokenRate {
  provider: string;
  /** The catalog's model name (aliases resolve to it). */
  model: string;
  /** "openai/gpt-4o". */
  key: string;
  source: string;
  inputNanosPerMillion: Nanos;
  cachedInputNanosPerMillion: Nanos;
  outputNanosPerMillion: Nanos;
}

export interface TokenPriceQuery {
  provider: string;
  model: string;
}

export interface TokenUsage {
  /** Uncached input tokens. */
  input_tokens?: number | undefined;
  /** Input tokens read from the provider's prompt cache, counted apart from input_tokens. */
  cached_input_tokens?: number | undefined;
  output_tokens?: number | undefined;
}

export interface GpuUsage {
  /** Seconds the GPUs (or the instance) were held. */
  seconds: number;
  /** GPUs held; may be fractional (a time-sliced GPU). Defaults: 1 per-GPU, the whole instance otherwise. */
  gpuCount?: number | undefined;
}

export type PriceFailureCode =
  | "no_price"
  | "no_region_price"
  | "no_spot_price"
  | "ambiguous_cloud"
  | "unknown_provider"
  | "unknown_model";

/** Why an event could not be priced; `field` is the event field at fault, e.g. "data.instance_type". */
export interface PriceFailure {
  code: PriceFailureCode;
  field: string;
  reason: string;
}

export type GpuRateResult = { ok: true; rate: GpuRate } | { ok: false; failure: PriceFailure };
export type TokenRateResult = { ok: true; rate: TokenRate } | { ok: false; failure: PriceFailure };

export interface Pricer {
  readonly version: string;
  readonly currency: string;
  /**
   * The hourly rate for a placement. The cloud is the event's (or, when omitted, the only cloud
   * whose catalog lists the name); in the event's region, the instance_type entry before the
   * accelerator entry; an entry without a rate for the requested pricing model is skipped. Never a
   * silent guess: an event from a region the catalog does not price is rejected naming data.region,
   * unless the pricer's regionFallback names a region for its cloud, whose rate is then used and
   * marked (`rate.fallback`). An event naming no region is priced in regionFallback's region, else
   * the catalog's default region for the cloud, marked the same way.
   */
  gpuHourlyRate(query: GpuPriceQuery): GpuRateResult;
  /**
   * Exact cost of holding GPUs: rate × (gpus / gpus the rate covers) × seconds / 3600, computed on
   * exact decimals of the JS numbers and rounded once, half away from zero.
   */
  gpuCost(rate: GpuRate, usage: GpuUsage): Nanos;
  /** Per-token prices for a provider's model (model name or alias, case-insensitive). */
  tokenRate(query: TokenPriceQuery): TokenRateResult;
  /** Σ tokens × price per million / 1e6, exact, rounded once. */
  tokenCost(rate: TokenRate, usage: TokenUsage): Nanos;
}

const SECONDS_PER_HOUR = 3600n;

function failure(code: PriceFailureCode, field: string, reason: string): GpuRateResult {
  return { ok: false, failure: { code, field, reason } };
}

const sameRegion = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The regionFallback option, checked: each names a region where the catalog prices GPUs of that cloud. */
function checkRegionFallback(
  fallback: RegionFallback,
  catalog: PriceCatalog,
): Partial<Record<string, string>> {
  const issues = Object.entries(fallback).flatMap(([cloud, region]) => {
    if (region === undefined) return [];
    const priced = catalog.entries.some(
      (e) => e.kind !== "tokens" && e.cloud === cloud && sameRegion(e.region, region),
    );
    return priced
      ? []
      : [
          {
            field: `pricing.regionFallback.${cloud}`,
            message: `catalog ${catalog.version} has no ${cloud} GPU price in region ${region}`,
          },
        ];
  });
  if (issues.length > 0) {
    throw new PriceCatalogError(
      "invalid_region_fallback",
      `invalid pricing.regionFallback:\n${issues.map((i) => `  ${i.field}: ${i.message}`).join("\n")}`,
      issues,
    );
  }
  return fallback;
}
const TOKENS_PER_PRICE_UNIT = 1_000_000n;

interface ExactDecimal {
  /** value = units / 10^scale */
  units: bigint;
  scale: number;
}

/** 10^n for the usual scales (a few decimal places), so exact arithmetic does not recompute them. */
const POWERS_OF_TEN: readonly bigint[] = Array.from({ length: 32 }, (_, n) => 10n ** BigInt(n));

function tenTo(n: number): bigint {
  return POWERS_OF_TEN[n] ?? 10n ** BigInt(n);
}

/** The exact value of a JS number's shortest decimal form ("0.0123" → 123 / 10^4). */
export function exactDecimal(value: number): ExactDecimal {
  if (Number.isSafeInteger(value)) return { units: BigInt(value), scale: 0 };
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  // String(value) is the shortest form that reads back as the same double: "-12.5", "1e+21", "1.5e-7".
  const text = String(value);
  const e = text.indexOf("e");
  const mantissa = e === -1 ? text : text.slice(0, e);
  const dot = mantissa.indexOf(".");
  const digits = dot === -1 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const exponent = (e === -1 ? 0 : Number(text.slice(e + 1))) - (dot === -1 ? 0 : mantissa.length - dot - 1);
  const units = BigInt(digits);
  if (exponent >= 0) return { units: units * tenTo(exponent), scale: 0 };
  return { units, scale: -exponent };
}

function nonNegative(value: number, what: string): ExactDecimal {
  if (!(value >= 0)) throw new RangeError(`${what} must be a non-negative number, got ${value}`);
  return exactDecimal(value);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function describeQuery(cloud: string, region: string | undefined, names: string[], model: PricingModel) {
  return `${cloud}/${region ?? "(no region)"}/${names.join(" or ")} (${model})`;
}

/**
 * What a cost row priced by `rate` records as its price_source: the catalog version and entry, and
 * for a fallback the rule that chose it, e.g. "catalog:2026-11-01:gcp/us-central1/nvidia-l4" or
 * "catalog:2026-11-01:gcp/us-central1/nvidia-l4#fallback:region=us-central1".
 */
export function gpuPriceSource(version: string, rate: GpuRate): string {
  const base = `catalog:${version}:${rate.key}`;
  return rate.fallback === undefined ? base : `${base}#fallback:region=${rate.fallback.region}`;
}

export interface PricerOptions {
  /**
   * Opt-in, per cloud: the region whose rate prices an event from a region the catalog has no price
   * for (and an event that names none). Each region must have GPU prices in the catalog.
   */
  regionFallback?: RegionFallback;
}

/**
 * How many distinct lookups a pricer remembers. A batch names a handful of placements and models over
 * and over; the bound keeps a stream of made-up names from growing the memory without end.
 */
const LOOKUP_CACHE_SIZE = 4096;

type Part = string | undefined;
interface MemoNode<T> {
  next: Map<Part, MemoNode<T>>;
  value?: T;
}

/**
 * Remembers a lookup's answer by the values it was asked with (a trie over them: no key strings to
 * build, and no separator a name could contain); forgets everything at once when full.
 */
function memoByParts<T>(): (parts: readonly Part[], lookup: () => T) => T {
  let root: MemoNode<T> = { next: new Map() };
  let size = 0;
  return (parts, lookup) => {
    let node = root;
    for (const part of parts) {
      let child = node.next.get(part);
      if (child === undefined) {
        if (size >= LOOKUP_CACHE_SIZE) {
          root = { next: new Map() };
          size = 0;
          return lookup();
        }
        child = { next: new Map() };
        node.next.set(part, child);
      }
      node = child;
    }
    if (node.value === undefined) {
      node.value = lookup();
      size += 1;
    }
    return node.value;
  };
}

export function createPricer(catalog: PriceCatalog, options: PricerOptions = {}): Pricer {
  const { version, currency } = catalog;
  const instances = new Map<string, InstancePrice>();
  const accelerators = new Map<string, AcceleratorPrice>();
  const tokens = new Map<string, TokenPrice>();
  const cloudsByInstance = new Map<string, Set<string>>();
  const cloudsByAccelerator = new Map<string, Set<string>>();
  const providers = new Set<string>();
  const addCloud = (index: Map<string, Set<string>>, name: string, cloud: string) => {
    const key = name.toLowerCase();
    const set = index.get(key) ?? new Set<string>();
    set.add(cloud);
    index.set(key, set);
  };

  for (const entry of catalog.entries) {
    if (entry.kind === "instance") {
      instances.set(entryKey(entry), entry);
      addCloud(cloudsByInstance, entry.instance_type, entry.cloud);
    } else if (entry.kind === "accelerator") {
      accelerators.set(entryKey(entry), entry);
      addCloud(cloudsByAccelerator, entry.accelerator, entry.cloud);
    } else {
      for (const key of entryKeys(entry)) tokens.set(key, entry);
      providers.add(entry.provider.toLowerCase());
    }
  }
  const defaultRegions: Partial<Record<string, string>> = catalog.default_regions;
  const regionFallback = checkRegionFallback(options.regionFallback ?? {}, catalog);
  /** Per cloud and GPU name (lower case), the regions the catalog prices it in: for the data.region message. */
  const regionsByName = new Map<string, string[]>();
  for (const entry of catalog.entries) {
    if (entry.kind === "tokens") continue;
    const name = entry.kind === "instance" ? entry.instance_type : entry.accelerator;
    const key = `${entry.cloud}/${name}`.toLowerCase();
    regionsByName.set(key, [...(regionsByName.get(key) ?? []), entry.region]);
  }

  function toRate(
    entry: InstancePrice | AcceleratorPrice,
    model: PricingModel,
    fallback: PriceFallback | undefined,
  ): GpuRate | undefined {
    const text = model === "spot" ? entry.spot : entry.on_demand;
    if (text === undefined) return undefined;
    const perGpu = entry.kind === "accelerator";
    return {
      rateNanosPerHour: decimalToNanos(text),
      perGpu,
      gpuCount: entry.kind === "instance" ? entry.gpu_count : 1,
      key: entryKey(entry),
      source: model === "spot" ? (entry.spot_source ?? entry.source) : entry.source,
      cloud: entry.cloud,
      region: entry.region,
      pricingModel: model,
      ...(fallback === undefined ? {} : { fallback }),
    };
  }

  function inferCloud(
    query: GpuPriceQuery,
  ): { ok: true; cloud: string } | { ok: false; failure: PriceFailure } {
    const names: string[] = [];
    let clouds = new Set<string>();
    if (query.instance_type !== undefined) {
      names.push(query.instance_type);
      clouds = cloudsByInstance.get(query.instance_type.toLowerCase()) ?? clouds;
    }
    if (clouds.size === 0 && query.accelerator !== undefined) {
      names.push(query.accelerator);
      clouds = cloudsByAccelerator.get(query.accelerator.toLowerCase()) ?? clouds;
    }
    const [only, ...others] = [...clouds].sort();
    if (only !== undefined && others.length === 0) return { ok: true, cloud: only };
    if (only === undefined) {
      return {
        ok: false,
        failure: {
          code: "no_price",
          field: query.instance_type !== undefined ? "data.instance_type" : "data.accelerator",
          reason: `no price for ${names.join(" or ") || "(no instance_type or accelerator)"} in any cloud of catalog ${version}`,
        },
      };
    }
    return {
      ok: false,
      failure: {
        code: "ambiguous_cloud",
        field: "data.cloud",
        reason: `${names.join(" or ")} is priced in ${[only, ...others].join(" and ")} in catalog ${version}; name the cloud`,
      },
    };
  }

  // Answers are frozen: one object answers every lookup of the same placement or model.
  const gpuRates = memoByParts<GpuRateResult>();
  const tokenRates = memoByParts<TokenRateResult>();

  function gpuHourlyRate(query: GpuPriceQuery): GpuRateResult {
    return gpuRates(
      [query.cloud, query.region, query.instance_type, query.accelerator, query.pricing_model],
      () => deepFreeze(lookUpGpuRate(query)),
    );
  }

  function tokenRate(query: TokenPriceQuery): TokenRateResult {
    return tokenRates([query.provider, query.model], () => deepFreeze(lookUpTokenRate(query)));
  }

  function lookUpGpuRate(query: GpuPriceQuery): GpuRateResult {
    const model = query.pricing_model ?? "on_demand";
    let cloud = query.cloud;
    if (cloud === undefined) {
      const inferred = inferCloud(query);
      if (!inferred.ok) return inferred;
      cloud = inferred.cloud;
    }
    const names = [query.instance_type, query.accelerator].filter((n): n is string => n !== undefined);
    const shown = names.length > 0 ? names : ["(no instance_type or accelerator)"];
    const withoutModel: string[] = [];
    /** The instance_type entry, then the accelerator entry, of `region` with a rate for the model. */
    const inRegion = (region: string, fallback?: PriceFallback): GpuRate | undefined => {
      const candidates = [
        query.instance_type === undefined
          ? undefined
          : instances.get(`${cloud}/${region}/${query.instance_type}`.toLowerCase()),
        query.accelerator === undefined
          ? undefined
          : accelerators.get(`${cloud}/${region}/${query.accelerator}`.toLowerCase()),
      ];
      for (const entry of candidates) {
        if (entry === undefined) continue;
        const rate = toRate(entry, model, fallback);
        if (rate !== undefined) return rate;
        withoutModel.push(entryKey(entry));
      }
      return undefined;
    };

    const fallbackRegion = regionFallback[cloud];
    const pricedIn = () => [
      ...new Set(names.flatMap((n) => regionsByName.get(`${cloud}/${n}`.toLowerCase()) ?? [])),
    ];
    const notPriced = () =>
      failure(
        "no_price",
        query.instance_type !== undefined ? "data.instance_type" : "data.accelerator",
        `no price for ${describeQuery(cloud, query.region ?? defaultRegions[cloud], shown, model)} in catalog ${version}`,
      );
    const hint = `pricing.regionFallback.${cloud} in the config prices other regions at one of them`;

    let found: GpuRate | undefined;
    // No region named: the configured fallback region, else the catalog's default one, said so.
    const assumed = query.region === undefined ? (fallbackRegion ?? defaultRegions[cloud]) : undefined;
    if (query.region === undefined) {
      if (assumed !== undefined) found = inRegion(assumed, { reason: "no_region", region: assumed });
    } else {
      found = inRegion(query.region);
      if (found === undefined && fallbackRegion !== undefined && !sameRegion(fallbackRegion, query.region)) {
        found = inRegion(fallbackRegion, { reason: "unpriced_region", region: fallbackRegion });
      }
    }
    if (found !== undefined) return { ok: true, rate: found };
    if (withoutModel.length > 0) {
      return failure(
        "no_spot_price",
        "data.pricing_model",
        `no ${model} price for ${withoutModel.join(" or ")} in catalog ${version}`,
      );
    }
    const regions = pricedIn();
    if (regions.length === 0) return notPriced();
    if (query.region === undefined) {
      return failure(
        "no_region_price",
        "data.region",
        `required to price ${describeQuery(cloud, undefined, shown, model)}: ` +
          (assumed === undefined
            ? `catalog ${version} has no default region for ${cloud}`
            : `catalog ${version} has no price for it in ${assumed}, the region assumed for ${cloud}`) +
          `; priced in ${regions.join(", ")}`,
      );
    }
    return failure(
      "no_region_price",
      "data.region",
      `no price for ${describeQuery(cloud, query.region, shown, model)} in region ${query.region} of catalog ${version}; ` +
        `priced in ${regions.join(", ")} (${hint})`,
    );
  }

  function gpuCost(rate: GpuRate, usage: GpuUsage): Nanos {
    const seconds = nonNegative(usage.seconds, "seconds");
    // cost = rate × seconds / 3600 × (held / covered), where held defaults to what the rate covers.
    let numerator = rate.rateNanosPerHour * seconds.units;
    let denominator = SECONDS_PER_HOUR * tenTo(seconds.scale);
    if (usage.gpuCount !== undefined) {
      const held = nonNegative(usage.gpuCount, "gpuCount");
      const covered = exactDecimal(rate.gpuCount);
      numerator *= held.units * tenTo(covered.scale);
      denominator *= covered.units * tenTo(held.scale);
    }
    return divRound(numerator, denominator);
  }

  function lookUpTokenRate(query: TokenPriceQuery): TokenRateResult {
    const entry = tokens.get(`${query.provider}/${query.model}`.toLowerCase());
    if (entry !== undefined) {
      return {
        ok: true,
        rate: {
          provider: entry.provider,
          model: entry.model,
          key: entryKey(entry),
          source: entry.source,
          inputNanosPerMillion: decimalToNanos(entry.input),
          cachedInputNanosPerMillion: decimalToNanos(entry.cached_input ?? entry.input),
          outputNanosPerMillion: decimalToNanos(entry.output),
        },
      };
    }
    if (!providers.has(query.provider.toLowerCase())) {
      return {
        ok: false,
        failure: {
          code: "unknown_provider",
          field: "data.provider",
          reason: `no token prices for provider ${query.provider} in catalog ${version}`,
        },
      };
    }
    return {
      ok: false,
      failure: {
        code: "unknown_model",
        field: "data.model",
        reason: `no token price for ${query.provider}/${query.model} in catalog ${version}`,
      },
    };
  }

  function tokenCost(rate: TokenRate, usage: TokenUsage): Nanos {
    const count = (n: number | undefined, what: string): bigint => {
      if (n === undefined) return 0n;
      if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a whole count, got ${n}`);
      return BigInt(n);
    };
    const total =
      count(usage.input_tokens, "input_tokens") * rate.inputNanosPerMillion +
      count(usage.cached_input_tokens, "cached_input_tokens") * rate.cachedInputNanosPerMillion +
      count(usage.output_tokens, "output_tokens") * rate.outputNanosPerMillion;
    return divRound(total, TOKENS_PER_PRICE_UNIT);
  }

  return { version, currency, gpuHourlyRate, gpuCost, tokenRate, tokenCost };
}
