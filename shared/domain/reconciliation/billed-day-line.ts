import { billResourceOf } from "#domain/billing/bill-resource.ts";
import {
  addDays,
  type BilledLine,
  type ChargeCategory,
  type ChargeFrequency,
} from "#domain/billing/billed-line.ts";
import { spreadLine } from "#domain/billing/charge-spread.ts";
import type { Nanos } from "#domain/money.ts";
import type { BilledAmount } from "./bill-grain.ts";

/**
 * One stored line of the bill: one UTC day's share of a charge, under the name of the source it
 * came from, keeping what the charge is (category, class, frequency, the days it covers, resource,
 * SKU, tags) and the owner its tags name.
 */
export interface BilledDayLine {
  /** UTC day, "YYYY-MM-DD". */
  day: string;
  source: string;
  provider: string;
  billingAccountId: string;
  subAccountId: string | null;
  service: string;
  skuId: string | null;
  resourceId: string | null;
  chargeCategory: ChargeCategory;
  chargeClass: "Correction" | null;
  chargeFrequency: ChargeFrequency | null;
  /** The days the whole charge covers, [start, end): [day, day + 1) for a daily or hourly charge. */
  chargeStartDay: string;
  chargeEndDay: string;
  tags: Readonly<Record<string, string>>;
  namespace: string | null;
  team: string | null;
  model: string | null;
  costCenter: string | null;
  environment: string | null;
  billedCost: Nanos;
  effectiveCost: Nanos;
  currency: string;
}

/** A line as the day lines it is stored as: a line over several days gives each day its share. */
export function billedDayLines(line: BilledLine, source: string): BilledDayLine[] {
  return spreadLine(line).map((share) => ({
    day: share.ChargePeriodStart,
    source,
    provider: share.ProviderName,
    billingAccountId: share.BillingAccountId,
    subAccountId: share.SubAccountId,
    service: share.ServiceName,
    skuId: share.SkuId ?? null,
    resourceId: share.ResourceId ?? null,
    chargeCategory: share.ChargeCategory,
    chargeClass: share.ChargeClass,
    chargeFrequency: share.ChargeFrequency,
    chargeStartDay: share.x_ChargeStartDay ?? share.ChargePeriodStart,
    chargeEndDay: share.x_ChargeEndDay ?? share.ChargePeriodEnd,
    tags: share.Tags,
    namespace: share.x_namespace,
    team: share.x_team,
    model: share.x_model,
    costCenter: share.x_cost_center,
    environment: share.x_environment,
    billedCost: share.BilledCost,
    effectiveCost: share.EffectiveCost,
    currency: share.BillingCurrency,
  }));
}

/**
 * Whether a line's cost is a day's cost to reconcile: a purchase (a commitment bought upfront, a
 * prepayment) is not what that day consumed; its amortized share arrives as the EffectiveCost of
 * the usage it covers. Usage, credits, refunds, taxes and adjustments are (corrections on the days
 * they correct).
 */
export function isDailyCost(line: Pick<BilledDayLine, "chargeCategory">): boolean {
  return line.chargeCategory !== "Purchase";
}

/** The days a set of lines covers, as the half-open range [first, last + 1), or null when empty. */
export function daySpan(days: Iterable<string>): { start: string; end: string } | null {
  let first: string | undefined;
  let last: string | undefined;
  for (const day of days) {
    if (first === undefined || day < first) first = day;
    if (last === undefined || day > last) last = day;
  }
  if (first === undefined || last === undefined) return null;
  return { start: first, end: addDays(last, 1) };
}

const PROVIDER_CLOUDS: Readonly<Record<string, string>> = {
  "google cloud": "gcp",
  "google cloud platform": "gcp",
  google: "gcp",
  gcp: "gcp",
  aws: "aws",
  "amazon web services": "aws",
  microsoft: "azure",
  "microsoft azure": "azure",
  azure: "azure",
};

/**
 * Our cloud name for a FOCUS ProviderName: the configured mapping first, then the clouds we know,
 * else the name in lower case, so on-premises or another cloud matches estimates that use its name.
 */
export function cloudOfProvider(provider: string, overrides: Readonly<Record<string, string>> = {}): string {
  const configured = overrides[provider];
  if (configured !== undefined) return configured;
  const name = provider.trim().toLowerCase();
  return PROVIDER_CLOUDS[name] ?? name;
}

export interface BilledAmountOptions {
  currency: string;
  costColumn: "effective" | "billed";
  clouds?: Readonly<Record<string, string>>;
}

/**
 * The bill as per-day amounts on the match keys: cloud from the provider, account the sub account
 * (project, linked account), service, and the namespace and team labels, with the resource the
 * line names (billResourceOf). Purchases are left out (isDailyCost); lines in another currency are
 * left out and counted.
 */
export function billedAmounts(
  lines: readonly BilledDayLine[],
  options: BilledAmountOptions,
): { amounts: BilledAmount[]; otherCurrency: number } {
  const amounts: BilledAmount[] = [];
  let otherCurrency = 0;
  for (const line of lines) {
    if (!isDailyCost(line)) continue;
    if (line.currency !== options.currency) {
      otherCurrency += 1;
      continue;
    }
    amounts.push({
      day: line.day,
      key: {
        cloud: cloudOfProvider(line.provider, options.clouds),
        account: line.subAccountId,
        service: line.service,
        namespace: line.namespace,
        team: line.team,
      },
      nanos: options.costColumn === "effective" ? line.effectiveCost : line.billedCost,
      resource: billResourceOf(line.resourceId, line.tags),
    });
  }
  return { amounts, otherCurrency };
}
