import type { Nanos } from "#domain/money.ts";
import { billOwnerOf, DEFAULT_OWNER_MAPPING, type OwnerMapping } from "./owner-mapping.ts";

/** A UTC calendar day, "YYYY-MM-DD". */
export type BillingDay = string;

/** FOCUS ChargeCategory: what a charge is. */
export const CHARGE_CATEGORIES = ["Usage", "Purchase", "Tax", "Credit", "Adjustment"] as const;
export type ChargeCategory = (typeof CHARGE_CATEGORIES)[number];

/** FOCUS ChargeFrequency. */
export const CHARGE_FREQUENCIES = ["One-Time", "Recurring", "Usage-Based"] as const;
export type ChargeFrequency = (typeof CHARGE_FREQUENCIES)[number];

export type OwnerColumn = "x_namespace" | "x_team" | "x_model" | "x_cost_center" | "x_environment";

/**
 * One billed cost line normalized to FOCUS columns (FinOps FOCUS 1.x names), over whole UTC days.
 * The sources give one day per line (a FOCUS row's cost spread over its days first); a longer line
 * is spread over its days evenly when stored (spreadLine). Our own columns carry the spec's `x_`
 * prefix. Money is exact (bigint nanos of BillingCurrency).
 */
export interface BilledLine {
  /** First day of the charge period (inclusive). */
  ChargePeriodStart: BillingDay;
  /** Day after the charge period (exclusive), as in FOCUS and Cost Explorer. */
  ChargePeriodEnd: BillingDay;
  ChargeCategory: ChargeCategory;
  /** "Correction": a change to a charge of an earlier period, which its charge period names. */
  ChargeClass: "Correction" | null;
  ChargeFrequency: ChargeFrequency | null;
  /**
   * The days the whole charge covered, [start, end) (a month for a month's storage, the line's own
   * day for hourly rows); absent when it is the line's day.
   */
  x_ChargeStartDay?: BillingDay;
  x_ChargeEndDay?: BillingDay;
  /** "AWS", "Google Cloud", "Microsoft", ... */
  ProviderName: string;
  BillingAccountId: string;
  /** AWS linked account, GCP project, Azure subscription; null when the source does not say. */
  SubAccountId: string | null;
  ServiceName: string;
  SkuId?: string;
  ResourceId?: string;
  /** What the invoice charges (AWS unblended, GCP cost + credits). */
  BilledCost: Nanos;
  /** The cost with commitments amortized over their use (AWS amortized). */
  EffectiveCost: Nanos;
  BillingCurrency: string;
  Tags: Readonly<Record<string, string>>;
  x_namespace: string | null;
  x_team: string | null;
  x_model: string | null;
  x_cost_center: string | null;
  x_environment: string | null;
}

/**
 * The owner columns of a line, from its tags or labels through the owner mapping (the provider
 * decides whether tag keys compare case-insensitively).
 */
export function ownerColumns(
  tags: Readonly<Record<string, string>>,
  provider: string,
  mapping: OwnerMapping = DEFAULT_OWNER_MAPPING,
): Pick<BilledLine, OwnerColumn> {
  const owner = billOwnerOf(tags, provider, mapping);
  return {
    x_namespace: owner.namespace,
    x_team: owner.team,
    x_model: owner.model,
    x_cost_center: owner.cost_center,
    x_environment: owner.environment,
  };
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/** Whether a string is a real calendar day "YYYY-MM-DD" (not "2024-02-30"). */
export function isBillingDay(text: string): boolean {
  if (!DAY.test(text)) return false;
  const ms = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(ms) && dayOf(new Date(ms)) === text;
}

/** The UTC day of an instant. */
export function dayOf(at: Date): BillingDay {
  return at.toISOString().slice(0, 10);
}

/** The UTC day at or after an instant: an exclusive end instant as an exclusive end day. */
export function dayCeiling(at: Date): BillingDay {
  const ms = at.getTime();
  const floor = ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
  return dayOf(new Date(floor === ms ? ms : floor + DAY_MS));
}

export function addDays(day: BillingDay, days: number): BillingDay {
  return dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS));
}

/** The identity of a line apart from its amounts: lines with equal keys may be summed. */
function lineKey(line: BilledLine): string {
  const tags = Object.entries(line.Tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([
    line.ChargePeriodStart,
    line.ChargePeriodEnd,
    line.ProviderName,
    line.BillingAccountId,
    line.SubAccountId,
    line.ChargeCategory,
    line.ChargeClass,
    line.ChargeFrequency,
    line.x_ChargeStartDay ?? null,
    line.x_ChargeEndDay ?? null,
    line.ServiceName,
    line.SkuId ?? null,
    line.ResourceId ?? null,
    line.BillingCurrency,
    tags,
    line.x_namespace,
    line.x_team,
    line.x_model,
    line.x_cost_center,
    line.x_environment,
  ]);
}

/** rollUpLines as lines come (a bill read as it streams): only the sums are kept. */
export interface LineRollup {
  add(line: BilledLine): void;
  lines(): BilledLine[];
}

export function createLineRollup(): LineRollup {
  const byKey = new Map<string, BilledLine>();
  return {
    add(line) {
      const key = lineKey(line);
      const seen = byKey.get(key);
      if (seen === undefined) byKey.set(key, { ...line });
      else {
        seen.BilledCost += line.BilledCost;
        seen.EffectiveCost += line.EffectiveCost;
      }
    },
    lines: () => [...byKey.values()],
  };
}

/** Sums lines that differ only in their amounts (hourly rows of a day), keeping first-seen order. */
export function rollUpLines(lines: Iterable<BilledLine>): BilledLine[] {
  const rollup = createLineRollup();
  for (const line of lines) rollup.add(line);
  return rollup.lines();
}
