import { z } from "zod";
import { DIMENSIONS } from "../cost-row.ts";
import { currencySchema, nanosSchema } from "../events/common.ts";

/**
 * The one alert model every producer publishes on the alerts topic; only the notifier turns it
 * into Slack messages (formatting and channel routing are the notifier's, never the producer's).
 */
export const ALERT_KINDS = [
  "budget.threshold",
  "budget.forecast",
  "budget.digest",
  "gcp.budget",
  "aws.anomaly",
  "spend.runaway",
  "spend.anomaly",
  "reconciliation.drift",
  "scorecard.digest",
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const SEVERITIES = ["info", "warning", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

const dimensionScope = Object.fromEntries(
  DIMENSIONS.map((d) => [d, z.string().min(1).max(256).optional()]),
) as {
  [K in (typeof DIMENSIONS)[number]]: z.ZodOptional<z.ZodString>;
};

export const alertSchema = z
  .object({
    /** Stable across re-runs and redeliveries: the notifier posts one message per key. */
    idempotency_key: z.string().min(1).max(512),
    kind: z.enum(ALERT_KINDS),
    severity: z.enum(SEVERITIES),
    title: z.string().min(1).max(150),
    summary: z.string().min(1).max(2000),
    /** What the owner should do about it. */
    action: z.string().max(1000).optional(),
    /** Who and what it is about; `team` is also how the notifier routes it. */
    scope: z.object({ ...dimensionScope, budget: z.string().max(256).optional() }).strict(),
    /** An explicit channel; otherwise the notifier's routing decides. */
    channel: z.string().max(80).optional(),
    amounts: z
      .object({
        spend_nanos: nanosSchema.optional(),
        limit_nanos: nanosSchema.optional(),
        forecast_nanos: nanosSchema.optional(),
        /** What could be saved a month (the optimization scorecard). */
        savings_nanos: nanosSchema.optional(),
        /** Percent of the limit, e.g. 80 for the 80% threshold or 100.25 used. */
        percent: z.number().finite().optional(),
        currency: currencySchema,
      })
      .strict()
      .optional(),
    period: z
      .object({ start: z.iso.datetime({ offset: true }), end: z.iso.datetime({ offset: true }) })
      .optional(),
    source: z
      .object({
        system: z.enum(["finops", "gcp-billing", "aws-cost-anomaly"]),
        id: z.string().max(512).optional(),
        url: z.url().optional(),
      })
      .strict(),
    /**
     * Alerts that share this key are one conversation: a later one updates the message the first
     * posted (chat.update) unless its severity is higher, which posts anew.
     */
    thread_key: z.string().max(512).optional(),
    created_at: z.iso.datetime({ offset: true }),
  })
  .strict();

/** An alert as producers build it (nanos as bigint) and as the notifier receives it after parsing. */
export type Alert = z.output<typeof alertSchema>;

/** The JSON that travels on the alerts topic: bigints as decimal strings. */
export function alertToJson(alert: Alert): string {
  return JSON.stringify(alert, (_, v) => (typeof v === "bigint" ? v.toString() : v));
}

export type AlertParseResult = { ok: true; alert: Alert } | { ok: false; field: string; reason: string };

export function parseAlert(raw: unknown): AlertParseResult {
  const parsed = alertSchema.safeParse(raw);
  if (parsed.success) return { ok: true, alert: parsed.data };
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String).join(".") ?? "";
  return { ok: false, field, reason: `${field || "alert"}: ${issue?.message ?? "invalid"}` };
}
