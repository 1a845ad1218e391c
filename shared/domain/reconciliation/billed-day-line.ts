import { addDays, type BilledLine } from "#domain/billing/billed-line.ts";
import type { Nanos } from "#domain/money.ts";
import type { DayAmount } from "./drift-table.ts";

/**
 * One stored line of the bill: a BilledLine on the day its charge period starts (the sources here
 * are daily or hourly, so that is its usage day), under the name of the source it came from.
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
  namespace: string | null;
  team: string | null;
  model: string | null;
  billedCost: Nanos;
  effectiveCost: Nanos;
  currency: string;
}

export function billedDayLine(line: BilledLine, source: string): BilledDayLine {
  return {
    day: line.ChargePeriodStart,
    source,
    provider: line.ProviderName,
    billingAccountId: line.BillingAccountId,
    subAccountId: line.SubAccountId,
    service: line.ServiceName,
    skuId: line.SkuId ?? null,
    namespace: line.x_namespace,
    team: line.x_team,
    model: line.x_model,
    billedCost: line.BilledCost,
    effectiveCost: line.EffectiveCost,
    currency: line.BillingCurrency,
  };
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
 * (project, linked account), service, and the namespace and team labels. Lines in another currency
 * are left out and counted.
 */
export function billedAmounts(
  lines: readonly BilledDayLine[],
  options: BilledAmountOptions,
): { amounts: DayAmount[]; otherCurrency: number } {
  const amounts: DayAmount[] = [];
  let otherCurrency = 0;
  for (const line of lines) {
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
    });
  }
  return { amounts, otherCurrency };
}
