import { z } from "zod";

/**
 * A Cloud Billing programmatic budget notification (schemaVersion 1.0): the Pub/Sub message's
 * attributes and its JSON data. Sent many times a day with the budget's status, threshold or not.
 */
export const budgetAttributesSchema = z.object({
  billingAccountId: z.string().min(1).max(64),
  budgetId: z.string().min(1).max(256),
  schemaVersion: z.literal("1.0", { message: 'must be "1.0"' }),
});

const fraction = z.number().finite().nonnegative().max(1000);
const amount = z.number().finite();

export const budgetDataSchema = z.object({
  budgetDisplayName: z.string().max(256).default(""),
  /** Highest actual-spend threshold crossed this period, 1.0-based (0.5 = 50%); absent when none. */
  alertThresholdExceeded: fraction.optional(),
  /** The same for forecasted-spend thresholds. */
  forecastThresholdExceeded: fraction.optional(),
  /** Cumulative since costIntervalStart. */
  costAmount: amount,
  /**
   * Midnight US/Pacific (…T07:00:00Z or …T08:00:00Z), never truncated to a UTC date. Written one way
   * (UTC, Z, whole seconds as Google writes them), so an instant sent as "…T07:00:00.000Z" or with
   * an offset names the same period, and its alerts are not sent again.
   */
  costIntervalStart: z.iso
    .datetime({ offset: true, message: "must be an RFC 3339 date-time" })
    .transform((text) => new Date(text).toISOString().replace(/\.000Z$/, "Z")),
  budgetAmount: amount,
  budgetAmountType: z.string().max(64).optional(),
  currencyCode: z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as USD"),
});

export type BudgetAttributes = z.output<typeof budgetAttributesSchema>;
export type BudgetData = z.output<typeof budgetDataSchema>;
export interface BudgetNotification {
  attributes: BudgetAttributes;
  data: BudgetData;
}

export type BudgetParseResult =
  | { ok: true; notification: BudgetNotification }
  | { ok: false; field: string; reason: string };

function failure(prefix: string, error: z.ZodError): BudgetParseResult {
  const issue = error.issues[0];
  const field = [prefix, ...(issue?.path.map(String) ?? [])].join(".");
  return { ok: false, field, reason: `${field}: ${issue?.message ?? "invalid"}` };
}

/** Parses a delivered notification: `attributes.<name>` or `data.<name>` names a bad field. */
export function parseBudgetNotification(
  attributes: Readonly<Record<string, string>> | null | undefined,
  data: string | Buffer,
): BudgetParseResult {
  const attrs = budgetAttributesSchema.safeParse(attributes ?? {});
  if (!attrs.success) return failure("attributes", attrs.error);
  const text = typeof data === "string" ? data : data.toString("utf8");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, field: "data", reason: `data: not JSON (${(error as Error).message})` };
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { ok: false, field: "data", reason: "data: must be a JSON object" };
  }
  const parsed = budgetDataSchema.safeParse(raw);
  if (!parsed.success) return failure("data", parsed.error);
  return { ok: true, notification: { attributes: attrs.data, data: parsed.data } };
}
