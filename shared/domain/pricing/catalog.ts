import { z } from "zod";
import { cloudSchema } from "#domain/events/common.ts";

/**
 * The price catalog: a versioned data file (config/price-catalog.json) of list prices the ingest
 * uses to estimate what an event cost before the bill arrives. Rates are decimal strings in the
 * catalog's currency, never JSON numbers, so "3.06" stays exactly 3.06.
 *
 * Three kinds of entry:
 * - `instance`: a machine type, priced per instance-hour, with the number of GPUs it carries;
 * - `accelerator`: a GPU model, priced per GPU-hour;
 * - `tokens`: a provider's model, priced per 1,000,000 tokens (input, cached input, output).
 */

export type PriceCatalogErrorCode =
  | "invalid_catalog"
  | "invalid_overrides"
  | "currency_mismatch"
  | "invalid_region_fallback";

export interface PriceCatalogIssue {
  /** Dotted path inside the file, e.g. "entries.3.on_demand". */
  field: string;
  message: string;
}

export class PriceCatalogError extends Error {
  override readonly name = "PriceCatalogError";
  readonly code: PriceCatalogErrorCode;
  readonly issues: readonly PriceCatalogIssue[];

  constructor(
    code: PriceCatalogErrorCode,
    message: string,
    issues: readonly PriceCatalogIssue[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.code = code;
    this.issues = issues;
  }
}

/** At most nine decimals, so every rate converts to nanos without rounding. */
const rateSchema = z
  .string()
  .regex(
    /^\d{1,12}(\.\d{1,9})?$/,
    'must be a non-negative decimal string with at most 9 decimals, e.g. "3.06"',
  );
const nameSchema = z.string().trim().min(1, "must not be empty").max(128);
const sourceSchema = z.string().trim().min(1, "must name the vendor price page").max(512);

const placement = {
  cloud: cloudSchema,
  region: z.string().trim().min(1, "must not be empty").max(64),
  on_demand: rateSchema,
  /** Absent when the cloud sells no spot capacity of this kind. */
  spot: rateSchema.optional(),
  source: sourceSchema,
  spot_source: sourceSchema.optional(),
  as_of: z.iso.date("must be a date such as 2026-11-01"),
  note: z.string().max(1024).optional(),
};

export const instancePriceSchema = z.strictObject({
  kind: z.literal("instance"),
  ...placement,
  instance_type: nameSchema,
  /** The GPU model the instance carries (informational; lookups by accelerator do not match it). */
  gpu_model: nameSchema.optional(),
  gpu_count: z.number().positive("must be positive").max(64),
});

export const acceleratorPriceSchema = z.strictObject({
  kind: z.literal("accelerator"),
  ...placement,
  accelerator: nameSchema,
});

export const tokenPriceSchema = z.strictObject({
  kind: z.literal("tokens"),
  provider: nameSchema,
  model: nameSchema,
  /** Other names the provider reports for the same price (dated snapshots). */
  aliases: z.array(nameSchema).max(32).optional(),
  /** USD (catalog currency) per 1,000,000 uncached input tokens. */
  input: rateSchema,
  /** Per 1,000,000 input tokens read from the provider's prompt cache; absent means the input rate. */
  cached_input: rateSchema.optional(),
  output: rateSchema,
  source: sourceSchema,
  as_of: z.iso.date("must be a date such as 2026-11-01"),
  note: z.string().max(1024).optional(),
});

export const catalogEntrySchema = z.discriminatedUnion("kind", [
  instancePriceSchema,
  acceleratorPriceSchema,
  tokenPriceSchema,
]);

export type InstancePrice = z.infer<typeof instancePriceSchema>;
export type AcceleratorPrice = z.infer<typeof acceleratorPriceSchema>;
export type TokenPrice = z.infer<typeof tokenPriceSchema>;
export type CatalogEntry = z.infer<typeof catalogEntrySchema>;
export type GpuCatalogEntry = InstancePrice | AcceleratorPrice;

const defaultRegionsSchema = z.partialRecord(cloudSchema, z.string().trim().min(1).max(64));

/**
 * The configuration's opt-in `pricing.regionFallback`: per cloud, the region whose rate prices an
 * event from a region the catalog has no price for. Absent for a cloud: such an event is rejected.
 */
export const regionFallbackSchema = z.partialRecord(cloudSchema, z.string().trim().min(1).max(64));
export type RegionFallback = z.infer<typeof regionFallbackSchema>;

/** The keys an entry answers to (lower case): "aws/us-east-1/p3.2xlarge", "openai/gpt-4o" and its aliases. */
export function entryKeys(entry: CatalogEntry): string[] {
  switch (entry.kind) {
    case "instance":
      return [`${entry.cloud}/${entry.region}/${entry.instance_type}`.toLowerCase()];
    case "accelerator":
      return [`${entry.cloud}/${entry.region}/${entry.accelerator}`.toLowerCase()];
    case "tokens":
      return [entry.model, ...(entry.aliases ?? [])].map((m) => `${entry.provider}/${m}`.toLowerCase());
  }
}

/** The entry's own key: what a cost row's price_source names after "catalog:<version>:". */
export function entryKey(entry: CatalogEntry): string {
  return entryKeys(entry)[0] ?? "";
}

function checkUniqueKeys(entries: readonly CatalogEntry[], ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  entries.forEach((entry, index) => {
    for (const key of entryKeys(entry)) {
      const first = seen.get(key);
      if (first !== undefined && first !== index) {
        ctx.addIssue({
          code: "custom",
          path: ["entries", index],
          message: `duplicate price for ${key} (also at entries.${first})`,
        });
      } else {
        seen.set(key, index);
      }
    }
  });
}

export const priceCatalogSchema = z
  .strictObject({
    /** A date-like version ("2026-11-01"); cost rows priced from the catalog name it. */
    version: z
      .string()
      .regex(/^[\w.+-]{1,64}$/, 'must be a short version such as "2026-11-01" (letters, digits, . + - _)'),
    currency: z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as USD"),
    description: z.string().max(2048).optional(),
    /**
     * Per cloud, the region an event that names no region is priced in (see pricer.ts); the row's
     * price_source says so (`#fallback:region=<region>`).
     */
    default_regions: defaultRegionsSchema.default({}),
    entries: z.array(catalogEntrySchema).min(1, "must list at least one price"),
  })
  .superRefine((catalog, ctx) => checkUniqueKeys(catalog.entries, ctx));

export type PriceCatalog = z.infer<typeof priceCatalogSchema>;

/**
 * What a user's configuration may add on top of the shipped catalog: either a bare array of entries
 * or an object with entries, an optional version tag and default regions.
 */
export const priceCatalogOverridesSchema = z.preprocess(
  (raw) => (Array.isArray(raw) ? { entries: raw } : raw),
  z
    .strictObject({
      version: z
        .string()
        .regex(/^[\w.-]{1,32}$/, "must be a short tag (letters, digits, . - _)")
        .optional(),
      currency: z
        .string()
        .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as USD")
        .optional(),
      default_regions: defaultRegionsSchema.optional(),
      entries: z.array(catalogEntrySchema).default([]),
    })
    .superRefine((overrides, ctx) => checkUniqueKeys(overrides.entries, ctx)),
);

export type PriceCatalogOverrides = z.infer<typeof priceCatalogOverridesSchema>;

function issuesOf(error: z.ZodError): PriceCatalogIssue[] {
  return error.issues.map((issue) => ({
    field: issue.path.map(String).join(".") || "(root)",
    message: issue.message,
  }));
}

function describe(what: string, issues: readonly PriceCatalogIssue[]): string {
  return `${what}:\n${issues.map((i) => `  ${i.field}: ${i.message}`).join("\n")}`;
}

/**
 * Validates a parsed catalog file (`file` only names it in the message). Throws a PriceCatalogError
 * whose issues name each bad field.
 */
export function parsePriceCatalog(raw: unknown, file?: string): PriceCatalog {
  const parsed = priceCatalogSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = issuesOf(parsed.error);
    const what = file === undefined ? "invalid price catalog" : `invalid price catalog ${file}`;
    throw new PriceCatalogError("invalid_catalog", describe(what, issues), issues, { cause: parsed.error });
  }
  return parsed.data;
}

/** Validates a configuration's catalog overrides (an array of entries or `{ version?, entries }`). */
export function parsePriceCatalogOverrides(raw: unknown): PriceCatalogOverrides {
  const parsed = priceCatalogOverridesSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = issuesOf(parsed.error);
    throw new PriceCatalogError(
      "invalid_overrides",
      describe("invalid price catalog overrides", issues),
      issues,
      { cause: parsed.error },
    );
  }
  return parsed.data;
}

/**
 * The base catalog with the overrides applied. `overrides` is validated here (raw configuration
 * or an already parsed PriceCatalogOverrides; see parsePriceCatalogOverrides). An override entry replaces every base entry that
 * answers to one of its keys (same cloud/region/name, or same provider/model or alias), in the base
 * entry's position; entries with new keys are appended. Default regions merge, override winning.
 * When anything is overridden the version becomes "<base>+<overrides.version or 'override'>", so
 * rows priced from a locally changed catalog never claim the shipped catalog's prices.
 */
export function mergeCatalogOverrides(base: PriceCatalog, raw: unknown): PriceCatalog {
  const overrides = parsePriceCatalogOverrides(raw);
  if (overrides.currency !== undefined && overrides.currency !== base.currency) {
    throw new PriceCatalogError(
      "currency_mismatch",
      `price catalog overrides are in ${overrides.currency} but catalog ${base.version} is in ${base.currency}`,
      [{ field: "currency", message: `must be ${base.currency}, the catalog's currency` }],
    );
  }
  const defaultOverrides = Object.keys(overrides.default_regions ?? {}).length > 0;
  if (overrides.entries.length === 0 && !defaultOverrides) return base;

  const overrideByKey = new Map<string, CatalogEntry>();
  for (const entry of overrides.entries) {
    for (const key of entryKeys(entry)) overrideByKey.set(key, entry);
  }
  const placed = new Set<CatalogEntry>();
  const entries: CatalogEntry[] = [];
  for (const entry of base.entries) {
    const replacement = entryKeys(entry)
      .map((key) => overrideByKey.get(key))
      .find((e) => e !== undefined);
    if (replacement === undefined) {
      entries.push(entry);
    } else if (!placed.has(replacement)) {
      entries.push(replacement);
      placed.add(replacement);
    }
  }
  for (const entry of overrides.entries) if (!placed.has(entry)) entries.push(entry);

  return parsePriceCatalog({
    ...base,
    version: `${base.version}+${overrides.version ?? "override"}`,
    default_regions: { ...base.default_regions, ...overrides.default_regions },
    entries,
  });
}
