import type { Nanos } from "#domain/money.ts";

/** A UTC calendar day, "YYYY-MM-DD". */
export type BillingDay = string;

/**
 * One billed cost line normalized to FOCUS columns (FinOps FOCUS 1.x names), at day granularity.
 * Our own columns carry the spec's `x_` prefix. Money is exact (bigint nanos of BillingCurrency).
 */
export interface BilledLine {
  /** First day of the charge period (inclusive). */
  ChargePeriodStart: BillingDay;
  /** Day after the charge period (exclusive), as in FOCUS and Cost Explorer. */
  ChargePeriodEnd: BillingDay;
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
}

/** Which tag or label keys name our dimensions; the first key present wins. */
export interface DimensionTagKeys {
  namespace: readonly string[];
  team: readonly string[];
  model: readonly string[];
}

export const DEFAULT_DIMENSION_TAG_KEYS: DimensionTagKeys = {
  namespace: ["k8s-namespace", "namespace", "kubernetes-namespace"],
  team: ["team", "k8s-label/team"],
  model: ["model", "k8s-label/model"],
};

function firstTag(tags: Readonly<Record<string, string>>, keys: readonly string[]): string | null {
  for (const key of keys) {
    const value = tags[key];
    if (value !== undefined && value !== "") return value;
  }
  return null;
}

/** x_namespace, x_team and x_model read from a line's tags or labels. */
export function tagDimensions(
  tags: Readonly<Record<string, string>>,
  keys: DimensionTagKeys = DEFAULT_DIMENSION_TAG_KEYS,
): Pick<BilledLine, "x_namespace" | "x_team" | "x_model"> {
  return {
    x_namespace: firstTag(tags, keys.namespace),
    x_team: firstTag(tags, keys.team),
    x_model: firstTag(tags, keys.model),
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
    line.ServiceName,
    line.SkuId ?? null,
    line.ResourceId ?? null,
    line.BillingCurrency,
    tags,
    line.x_namespace,
    line.x_team,
    line.x_model,
  ]);
}

/** Sums lines that differ only in their amounts (hourly rows of a day), keeping first-seen order. */
export function rollUpLines(lines: Iterable<BilledLine>): BilledLine[] {
  const byKey = new Map<string, BilledLine>();
  for (const line of lines) {
    const key = lineKey(line);
    const seen = byKey.get(key);
    if (seen === undefined) byKey.set(key, { ...line });
    else {
      seen.BilledCost += line.BilledCost;
      seen.EffectiveCost += line.EffectiveCost;
    }
  }
  return [...byKey.values()];
}
