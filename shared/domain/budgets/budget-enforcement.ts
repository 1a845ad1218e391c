import { z } from "zod";
import { DIMENSIONS, type Dimension } from "../cost-row.ts";
import type { Nanos } from "../money.ts";
import type { Budget, BudgetScope } from "./budget-config.ts";
import type { BudgetPeriod } from "./budget-period.ts";

export const ENFORCEMENT_EVENT_TYPE = "budget.enforcement";
export const ENFORCEMENT_EVENT_SOURCE = "//finops/evaluate-budgets";

/**
 * What a training queue or admission controller subscribes to: a CloudEvents 1.0 structured event
 * published once per budget, period and enforcement threshold on the topic the budget names.
 * Nothing is stopped by finops itself; the consumer decides (hold new jobs, scale to zero, page).
 */
export const budgetEnforcementEventSchema = z
  .object({
    specversion: z.literal("1.0"),
    type: z.literal(ENFORCEMENT_EVENT_TYPE),
    source: z.string().min(1),
    /** The idempotency key `budget:<name>:<period start>:enforcement:<threshold>`: act on each id once. */
    id: z.string().min(1),
    time: z.iso.datetime({ offset: true }),
    datacontenttype: z.literal("application/json"),
    data: z
      .object({
        budget: z.string().min(1),
        owner: z.string().min(1),
        scope: z
          .object(
            Object.fromEntries(DIMENSIONS.map((d) => [d, z.string().optional()])) as {
              [K in Dimension]: z.ZodOptional<z.ZodString>;
            },
          )
          .strict(),
        threshold: z.number().int().positive(),
        percent: z.number().finite(),
        /** Decimal strings of nanos (1 unit = 1e9). */
        spend_nanos: z.string().regex(/^-?\d+$/),
        limit_nanos: z.string().regex(/^\d+$/),
        currency: z.string().regex(/^[A-Z]{3}$/),
        period: z.object({
          start: z.iso.datetime({ offset: true }),
          end: z.iso.datetime({ offset: true }),
        }),
      })
      .strict(),
  })
  .strict();

export type BudgetEnforcementEvent = z.output<typeof budgetEnforcementEventSchema>;

export function buildEnforcementEvent(input: {
  id: string;
  budget: Budget;
  period: BudgetPeriod;
  threshold: number;
  spend_nanos: Nanos;
  percent: number;
  now: Date;
}): BudgetEnforcementEvent {
  const scope: BudgetScope = { ...input.budget.scope };
  return {
    specversion: "1.0",
    type: ENFORCEMENT_EVENT_TYPE,
    source: ENFORCEMENT_EVENT_SOURCE,
    id: input.id,
    time: input.now.toISOString(),
    datacontenttype: "application/json",
    data: {
      budget: input.budget.name,
      owner: input.budget.owner,
      scope,
      threshold: input.threshold,
      percent: input.percent,
      spend_nanos: input.spend_nanos.toString(),
      limit_nanos: input.budget.amount_nanos.toString(),
      currency: input.budget.currency,
      period: { start: input.period.start.toISOString(), end: input.period.end.toISOString() },
    },
  };
}

export type EnforcementParseResult =
  | { ok: true; event: BudgetEnforcementEvent }
  | { ok: false; field: string; reason: string };

/** For consumers: validates a received event and names the first bad field. */
export function parseEnforcementEvent(raw: unknown): EnforcementParseResult {
  const parsed = budgetEnforcementEventSchema.safeParse(raw);
  if (parsed.success) return { ok: true, event: parsed.data };
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String).join(".") ?? "";
  return { ok: false, field, reason: `${field || "event"}: ${issue?.message ?? "invalid"}` };
}
