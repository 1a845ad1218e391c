import { z } from "zod";
import { ownerMappingSchema } from "#domain/billing/owner-mapping.ts";
import { decimalToNanos, MoneyFormatError, type Nanos } from "#domain/money.ts";
import type { MatchKey } from "./match-key.ts";

/**
 * The match keys an estimate carries: the hourly rollup knows the cloud, namespace and team of a
 * cost, not the project/account or the service the bill charges it under.
 */
export const ESTIMATE_MATCH_KEYS = ["cloud", "namespace", "team"] as const satisfies readonly MatchKey[];
export type EstimateMatchKey = (typeof ESTIMATE_MATCH_KEYS)[number];

/** What a bill source's lines are stored under. */
export const BILL_SOURCE_NAME = /^[A-Za-z0-9._:-]{1,64}$/;
export const BILL_SOURCE_NAME_RULE = "1-64 letters, digits, '.', '_', ':' or '-'";

const sourceName = z.string().regex(BILL_SOURCE_NAME, `must be ${BILL_SOURCE_NAME_RULE}`);

const matchKeyList = z
  .array(z.enum(ESTIMATE_MATCH_KEYS))
  .min(1)
  .refine((keys) => new Set(keys).size === keys.length, "names a key twice");

const decimalAmount = z.string().transform((text, ctx): Nanos => {
  try {
    const nanos = decimalToNanos(text);
    if (nanos >= 0n) return nanos;
    ctx.addIssue({ code: "custom", message: "must not be negative" });
  } catch (error) {
    if (!(error instanceof MoneyFormatError)) throw error;
    ctx.addIssue({ code: "custom", message: 'must be a decimal amount such as "25.50"' });
  }
  return z.NEVER;
});

const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/**
 * The audience of the Google ID token exchanged for AWS credentials: the role the deployment creates
 * (infra/components/aws-cost-anomalies.ts) accepts tokens for this audience only, so an ID token the
 * function sends anywhere else cannot be replayed to AWS.
 */
export const AWS_WEB_IDENTITY_AUDIENCE = "sts.amazonaws.com";

/** Where the bill comes from: each source's lines are stored under its name, a day at a time. */
export const billingSourceSettingsSchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("gcp-billing-export"),
      name: sourceName.default("gcp-billing-export"),
      /** `project.dataset.gcp_billing_export_resource_v1_<ACCOUNT>` (or the standard `_v1_` table). */
      table: z.string().regex(/^[A-Za-z0-9_-]+(?:[.:][A-Za-z0-9_-]+){1,2}$/, "must be project.dataset.table"),
      /** Partitions read after a day, for rows that arrive late. */
      lateDays: z.number().int().min(0).max(31).default(7),
      /** How this export's labels name owners, on top of the section's `ownerMapping`. */
      ownerMapping: ownerMappingSchema.optional(),
      /** Where the export's dataset is (the warehouse's location when absent). */
      location: z.string().min(1).optional(),
      maximumBytesBilled: z.number().int().positive().optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal("aws-cost-explorer"),
      name: sourceName.default("aws-cost-explorer"),
      /** The payer (management) account. */
      billingAccountId: z.string().regex(/^\d{12}$/, "must be a 12-digit AWS account id"),
      /** The cost allocation tag grouped by besides SERVICE: team by default. Cost Explorer gives no namespace. */
      groupByTag: z.string().min(1).max(128).default("team"),
      maxPages: z.number().int().min(1).max(1000).default(100),
      /** A role to assume with the function's Google identity (web identity federation), instead of an AWS key. */
      assumeRoleArn: z
        .string()
        .regex(IAM_ROLE_ARN, "must be an IAM role ARN such as arn:aws:iam::123456789012:role/finops-read")
        .optional(),
      /** The audience of the Google ID token: AWS_WEB_IDENTITY_AUDIENCE when absent. */
      audience: z.string().min(1).max(256).optional(),
      /** How the grouped tag names owners, on top of the section's `ownerMapping`. */
      ownerMapping: ownerMappingSchema.optional(),
    })
    .strict()
    .superRefine((source, ctx) => {
      if (source.audience !== undefined && source.assumeRoleArn === undefined) {
        ctx.addIssue({ code: "custom", path: ["audience"], message: "is used only with assumeRoleArn" });
      }
    }),
  z
    .object({
      kind: z.literal("focus-file"),
      name: sourceName.optional(),
      /** A FOCUS CSV, relative to the config file; read again on every run. */
      path: z.string().min(1),
      /** How this file's tags name owners, on top of the section's `ownerMapping`. */
      ownerMapping: ownerMappingSchema.optional(),
    })
    .strict(),
]);

export type BillingSourceSettings = z.output<typeof billingSourceSettingsSchema>;

const DEFAULT_CALIBRATION = { lookbackDays: 14, minDays: 3, clamp: [0.5, 2] as [number, number] };

/** The `reconciliation` section of the configuration file. */
export const reconciliationSettingsSchema = z
  .object({
    /** Settled days re-reconciled every night, ending with the newest settled day. */
    windowDays: z.number().int().min(1).max(62).default(7),
    /** A day is judged once it is this many days old: bills keep changing after the fact. */
    settleDays: z.number().int().min(1).max(31).default(2),
    /** The currency reconciled; estimates and bill lines in others are counted and left out. */
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as USD")
      .default("USD"),
    /** FOCUS EffectiveCost (commitments amortized, what the usage really cost) or BilledCost (the invoice). */
    costColumn: z.enum(["effective", "billed"]).default("effective"),
    /** What an estimate and a bill line are matched on. Use ["cloud", "team"] when a source gives no namespace. */
    matchKeys: matchKeyList.default(["cloud", "namespace", "team"]),
    /** The keys that make an alert's scope; the table's rows inside a scope are its contributors. */
    alertScope: z.array(z.enum(ESTIMATE_MATCH_KEYS)).default(["cloud", "team"]),
    /** Alert when a scope's |drift| / billed reaches this percentage... */
    thresholdPercent: z.number().positive().max(1000).default(10),
    /** ...and its |drift| this amount, in `currency`. */
    minAbsoluteDrift: decimalAmount.prefault("25"),
    topContributors: z.number().int().min(1).max(20).default(3),
    calibration: z
      .object({
        /** Days before a day whose drift its factors are learned from. */
        lookbackDays: z.number().int().min(1).max(93).default(DEFAULT_CALIBRATION.lookbackDays),
        /** A family needs this many billed days in the lookback to get a factor. */
        minDays: z.number().int().min(1).max(93).default(DEFAULT_CALIBRATION.minDays),
        /** Bounds of a factor, [low, high]. */
        clamp: z
          .tuple([z.number().positive(), z.number().positive()])
          .refine(([low, high]) => low <= high, "low must not be above high")
          .default(DEFAULT_CALIBRATION.clamp),
      })
      .strict()
      .refine((c) => c.minDays <= c.lookbackDays, "minDays must not exceed lookbackDays")
      .prefault({}),
    /**
     * Which tag or label keys name team, namespace, cost center, environment and model, and value
     * rewrites, for every source and `finops billing import` (a source may add its own).
     */
    ownerMapping: ownerMappingSchema.prefault({}),
    /** FOCUS ProviderName → our cloud name, beyond the built-in Google Cloud → gcp, AWS → aws, Microsoft → azure. */
    clouds: z.record(z.string().min(1), z.string().trim().min(1).max(64)).default({}),
    sources: z.array(billingSourceSettingsSchema).default([]),
  })
  .strict()
  .superRefine((settings, ctx) => {
    settings.alertScope.forEach((key, index) => {
      if (!settings.matchKeys.includes(key)) {
        ctx.addIssue({
          code: "custom",
          path: ["alertScope", index],
          message: `${key} is not one of matchKeys`,
        });
      }
    });
    const names = new Map<string, number>();
    settings.sources.forEach((source, index) => {
      if (source.name === undefined) return;
      const first = names.get(source.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["sources", index, "name"],
          message: `${source.name} is also the name of sources.${first}`,
        });
      }
      names.set(source.name, index);
    });
  });

export type ReconciliationSettings = z.output<typeof reconciliationSettingsSchema>;

/** The settings with every default: what an absent `reconciliation` section means. */
export function reconciliationSettings(raw: unknown = {}): ReconciliationSettings {
  return reconciliationSettingsSchema.parse(raw);
}
