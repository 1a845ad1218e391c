import { z } from "zod";

/**
 * An AWS Cost Anomaly Detection anomaly, as the SNS notification's Message JSON carries it
 * (`dimensionalValue`) or as the EventBridge "Anomaly Detected" event's `detail` (`dimensionValue`);
 * both normalize to one shape.
 */
const amount = z.number().finite();
const day = z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" });

const rootCauseSchema = z.object({
  service: z.string().max(256).optional(),
  region: z.string().max(64).optional(),
  linkedAccount: z.string().max(64).optional(),
  linkedAccountName: z.string().max(256).optional(),
  usageType: z.string().max(256).optional(),
  impact: z.object({ contribution: amount.optional() }).optional(),
});

const anomalySchema = z.object({
  anomalyId: z.string().min(1).max(256),
  accountId: z.string().max(64).optional(),
  accountName: z.string().max(256).optional(),
  anomalyStartDate: day,
  anomalyEndDate: day.nullish(),
  anomalyScore: z.object({ currentScore: amount, maxScore: amount }).partial().optional(),
  impact: z.object({
    maxImpact: amount.optional(),
    totalActualSpend: amount.optional(),
    totalExpectedSpend: amount.optional(),
    totalImpact: amount,
    totalImpactPercentage: amount.nullish(),
  }),
  dimensionalValue: z.string().max(512).optional(),
  monitorArn: z.string().min(1).max(1024),
  monitorName: z.string().max(256).optional(),
  monitorType: z.string().max(64).optional(),
  rootCauses: z.array(rootCauseSchema).max(100).default([]),
  anomalyDetailsLink: z.url({ protocol: /^https$/ }).optional(),
  subscriptionId: z.string().max(256).optional(),
  subscriptionName: z.string().max(256).optional(),
  feedback: z.string().max(64).optional(),
});

export type AwsAnomaly = z.output<typeof anomalySchema>;
export type AnomalyRootCause = z.output<typeof rootCauseSchema>;

export type AnomalyParseResult =
  | { ok: true; anomaly: AwsAnomaly }
  | { ok: false; field: string; reason: string };

/** EventBridge's `detail` and its `dimensionValue` become the SNS shape. */
function normalize(raw: unknown): unknown {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return raw;
  let record = raw as Record<string, unknown>;
  if (record.source === "aws.ce" && record.detail !== null && typeof record.detail === "object") {
    record = record.detail as Record<string, unknown>;
  }
  if (record.dimensionalValue === undefined && typeof record.dimensionValue === "string") {
    const { dimensionValue, ...rest } = record;
    return { ...rest, dimensionalValue: dimensionValue };
  }
  return record;
}

/** Parses the anomaly JSON (an SNS Message string or an already parsed value); errors name the field. */
export function parseAnomaly(message: string | unknown): AnomalyParseResult {
  let raw: unknown = message;
  if (typeof message === "string") {
    try {
      raw = JSON.parse(message);
    } catch (error) {
      return { ok: false, field: "Message", reason: `Message: not JSON (${(error as Error).message})` };
    }
  }
  const parsed = anomalySchema.safeParse(normalize(raw));
  if (parsed.success) return { ok: true, anomaly: parsed.data };
  const issue = parsed.error.issues[0];
  const field = ["Message", ...(issue?.path.map(String) ?? [])].join(".");
  return { ok: false, field, reason: `${field}: ${issue?.message ?? "invalid"}` };
}
