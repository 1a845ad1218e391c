import { z } from "zod";
import { DIMENSIONS, type Dimension } from "../cost-row.ts";
import { decimalToNanos, MoneyFormatError, NANO_DIGITS, type Nanos } from "../money.ts";
import { BUDGET_PERIODS, type BudgetPeriodKind, isTimeZone } from "./budget-period.ts";

export const DEFAULT_THRESHOLDS: readonly number[] = [50, 80, 100, 125];

/** Names end up in idempotency keys (`budget:<name>:...`), so no colons or spaces. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** The bus's topic-name rules (Pub/Sub's), repeated here because the domain imports no port. */
const TOPIC = /^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;

const dimensionValue = z.string().trim().min(1).max(256);

const scopeSchema = z
  .object({
    ...(Object.fromEntries(DIMENSIONS.map((d) => [d, dimensionValue.optional()])) as {
      [K in Dimension]: z.ZodOptional<typeof dimensionValue>;
    }),
    labels: z.record(z.string().min(1).max(317), z.string().max(256)).optional(),
  })
  .strict()
  .superRefine((scope, ctx) => {
    if (scope.labels !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["labels"],
        message:
          "budgets cannot be scoped by labels yet: the hourly rollup does not keep labels, so spend " +
          `could not be filtered by them; scope by ${DIMENSIONS.join(", ")}`,
      });
    }
  });

const amountSchema = z.union([z.string(), z.number()]).transform((value, ctx): Nanos => {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    ctx.addIssue({
      code: "custom",
      message: 'must be a decimal string such as "20000.50" (a JSON number only if a whole amount)',
    });
    return z.NEVER;
  }
  let nanos: Nanos;
  try {
    nanos = decimalToNanos(String(value));
  } catch (error) {
    if (!(error instanceof MoneyFormatError)) throw error;
    ctx.addIssue({
      code: "custom",
      message: `must be a decimal amount such as "20000.50": ${error.message}`,
    });
    return z.NEVER;
  }
  // Kept to the nano: a finer amount would be rounded without a word.
  const fraction = /\.(\d*?)0*$/.exec(String(value).trim())?.[1] ?? "";
  if (fraction.length > NANO_DIGITS) {
    ctx.addIssue({
      code: "custom",
      message: `has more than ${NANO_DIGITS} decimals: amounts are kept to the nano`,
    });
    return z.NEVER;
  }
  if (nanos <= 0n) {
    ctx.addIssue({ code: "custom", message: "must be more than zero" });
    return z.NEVER;
  }
  return nanos;
});

const thresholdSchema = z
  .number()
  .int("must be a whole percent")
  .min(1, "must be at least 1 (percent)")
  .max(10_000, "must be at most 10000 (percent)");

const topicSchema = z
  .string()
  .regex(TOPIC, "must be a topic name: 3-255 letters, digits and - _ . ~ + %, starting with a letter")
  .refine((name) => !name.toLowerCase().startsWith("goog"), "must not start with goog");

export const budgetSchema = z
  .object({
    name: z
      .string()
      .regex(NAME, "must be 1-100 letters, digits, '.', '_' or '-', starting with one of the first two"),
    /** Any combination of the attribution dimensions; empty means all spend. */
    scope: scopeSchema.default({}),
    period: z.enum(BUDGET_PERIODS),
    /** IANA zone the calendar periods are aligned to. */
    timeZone: z
      .string()
      .refine(isTimeZone, { message: 'must be an IANA time zone such as "Europe/Berlin" or "UTC"' })
      .default("UTC"),
    /** Decimal string in currency units: "20000" or "20000.50". */
    amount: amountSchema,
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as USD")
      .default("USD"),
    /** Percent of the amount at which an alert is sent, once per period each. */
    thresholds: z
      .array(thresholdSchema)
      .min(1, "must name at least one threshold")
      .default([...DEFAULT_THRESHOLDS])
      .superRefine((list, ctx) => {
        list.forEach((value, index) => {
          if (list.indexOf(value) !== index) {
            ctx.addIssue({ code: "custom", path: [index], message: `${value} is listed twice` });
          }
        });
      })
      .transform((list) => [...list].sort((a, b) => a - b)),
    /** Alert when the period-end forecast reaches a threshold of 100% or more before the spend does. */
    forecast: z.boolean().default(false),
    /** The team that owns the budget and receives its alerts; defaults to scope.team. */
    owner: z.string().trim().min(1).max(256).optional(),
    /** A Slack channel for this budget's alerts instead of the owner's routed one. */
    channel: z.string().trim().min(1).max(80).optional(),
    /** Publish a budget.enforcement event on `topic` once the spend reaches `threshold` percent. */
    enforcement: z.object({ threshold: thresholdSchema, topic: topicSchema }).strict().optional(),
  })
  .strict()
  .superRefine((budget, ctx) => {
    if (budget.owner === undefined && budget.scope.team === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["owner"],
        message: "is required when the scope names no team (who receives the alerts?)",
      });
    }
  })
  .transform(({ owner, ...budget }) => ({ ...budget, owner: owner ?? (budget.scope.team as string) }));

export const budgetsSchema = z.array(budgetSchema).superRefine((budgets, ctx) => {
  const seen = new Map<string, number>();
  budgets.forEach((budget, index) => {
    const first = seen.get(budget.name);
    if (first === undefined) seen.set(budget.name, index);
    else ctx.addIssue({ code: "custom", path: [index, "name"], message: `duplicates budgets[${first}]` });
  });
});

export type BudgetScope = Partial<Record<Dimension, string>>;

/** A validated budget: amounts in nanos, thresholds sorted ascending, owner always set. */
export interface Budget {
  name: string;
  scope: BudgetScope;
  period: BudgetPeriodKind;
  timeZone: string;
  amount_nanos: Nanos;
  currency: string;
  thresholds: readonly number[];
  forecast: boolean;
  owner: string;
  channel?: string;
  enforcement?: { threshold: number; topic: string };
}

export class BudgetConfigError extends Error {
  override readonly name = "BudgetConfigError";
  readonly code = "invalid_budget";
  /** One line per problem, each naming the budget and field: `budgets[2] (nlp-monthly).thresholds.1: ...`. */
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options?: ErrorOptions) {
    super(`invalid budgets:\n${problems.map((p) => `  ${p}`).join("\n")}`, options);
    this.problems = problems;
  }
}

function budgetName(raw: unknown, index: number): string | undefined {
  if (!Array.isArray(raw)) return undefined;
  const item: unknown = raw[index];
  if (typeof item !== "object" || item === null) return undefined;
  const name = (item as { name?: unknown }).name;
  return typeof name === "string" && name !== "" ? name : undefined;
}

function describe(raw: unknown, path: readonly PropertyKey[], section: string): string {
  const [first, ...rest] = path;
  if (typeof first !== "number") return section;
  const name = budgetName(raw, first);
  const head = `${section}[${first}]${name === undefined ? "" : ` (${name})`}`;
  return rest.length === 0 ? head : `${head}.${rest.map(String).join(".")}`;
}

/**
 * Validates the `budgets` section of the configuration (an array; absent means none). Throws a
 * BudgetConfigError whose lines name each budget by index and name, and the field.
 */
export function parseBudgets(raw: unknown, section = "budgets"): Budget[] {
  const parsed = budgetsSchema.safeParse(raw ?? []);
  if (!parsed.success) {
    throw new BudgetConfigError(
      parsed.error.issues.map((issue) => `${describe(raw, issue.path, section)}: ${issue.message}`),
      { cause: parsed.error },
    );
  }
  return parsed.data.map((b) => {
    const scope: BudgetScope = {};
    for (const d of DIMENSIONS) {
      const value = b.scope[d];
      if (value !== undefined) scope[d] = value;
    }
    return {
      name: b.name,
      scope,
      period: b.period,
      timeZone: b.timeZone,
      amount_nanos: b.amount,
      currency: b.currency,
      thresholds: b.thresholds,
      forecast: b.forecast,
      owner: b.owner,
      ...(b.channel === undefined ? {} : { channel: b.channel }),
      ...(b.enforcement === undefined ? {} : { enforcement: b.enforcement }),
    };
  });
}

/** The dimensions a budget's scope filters on, in DIMENSIONS order. */
export function scopeDimensions(scope: BudgetScope): Dimension[] {
  return DIMENSIONS.filter((d) => scope[d] !== undefined);
}
