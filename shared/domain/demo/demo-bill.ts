/**
 * The demo's bill: what the clouds would invoice for the demo org's days, made from its own daily
 * estimates with a fixed seed. Each instance family's true price differs from the catalog's by its
 * own few percent (the A100s bill above it, the L4s and g4dn below), every day with a little noise;
 * and AWS data transfer out, which no estimate covers, is billed with no owner tags (unattributed).
 * Pure: the same estimates and seed give the same lines.
 */

import { IDLE_OWNER } from "#domain/allocation/owner.ts";
import { addDays, type BilledLine, tagDimensions } from "#domain/billing/billed-line.ts";
import { UNALLOCATED } from "#domain/cost-row.ts";
import { decimalToNanos, NANOS_PER_UNIT, type Nanos } from "#domain/money.ts";
import { ratio, scaleNanos } from "#domain/reconciliation/ratio.ts";
import { type FamilyEstimate, OTHER_FAMILY } from "#domain/reconciliation/reconcile-days.ts";
import { createSeededRandom, type Seed } from "./seeded-random.ts";

/** Billed price / catalog price per family: the differences calibration has to learn. */
export const DEMO_TRUE_PRICES: Readonly<Record<string, string>> = {
  "nvidia-tesla-a100": "1.045",
  "nvidia-a100-80gb": "1.03",
  "nvidia-l4": "0.975",
  "nvidia-tesla-v100": "1.0",
  "p3.2xlarge": "1.02",
  "g4dn.xlarge": "0.96",
  [OTHER_FAMILY]: "1.01",
};

/** Day-to-day noise on each family's price: a standard deviation of this share. */
const DAILY_NOISE = 0.004;
/** AWS data transfer out (the serving traffic's egress), as a share of the day's whole estimate. */
const EGRESS_SHARE = "0.01";

interface CloudAccount {
  provider: string;
  billingAccountId: string;
  subAccountId: string;
  service: (family: string | null) => string;
}

const ACCOUNTS: Readonly<Record<string, CloudAccount>> = {
  gcp: {
    provider: "Google Cloud",
    billingAccountId: "01A2B3-C4D5E6-F7A8B9",
    subAccountId: "demo-ml-prod",
    service: (family) => (family === null ? "Kubernetes Engine" : "Compute Engine"),
  },
  aws: {
    provider: "AWS",
    billingAccountId: "123456789012",
    subAccountId: "210987654321",
    service: () => "Amazon Elastic Compute Cloud - Compute",
  },
};

export interface DemoEstimate extends FamilyEstimate {
  currency: string;
}

function ownerTags(estimate: FamilyEstimate): Record<string, string> {
  const tags: Record<string, string> = {};
  if (estimate.namespace !== null) tags["k8s-namespace"] = estimate.namespace;
  // A bill knows no placeholder owners: their cost carries no team label.
  if (estimate.team !== null && estimate.team !== UNALLOCATED && estimate.team !== IDLE_OWNER)
    tags.team = estimate.team;
  return tags;
}

function line(
  day: string,
  account: CloudAccount,
  service: string,
  sku: string,
  nanos: Nanos,
  currency: string,
  tags: Record<string, string>,
): BilledLine {
  return {
    ChargePeriodStart: day,
    ChargePeriodEnd: addDays(day, 1),
    ProviderName: account.provider,
    BillingAccountId: account.billingAccountId,
    SubAccountId: account.subAccountId,
    ServiceName: service,
    SkuId: sku,
    BilledCost: nanos,
    EffectiveCost: nanos,
    BillingCurrency: currency,
    Tags: tags,
    ...tagDimensions(tags),
  };
}

/**
 * One billed line per estimate of a cloud the demo bills (gcp, aws): the estimate at its family's
 * true price that day; then one untagged AWS data transfer line per day, a share of its estimates.
 */
export function demoBill(estimates: readonly DemoEstimate[], seed: Seed): BilledLine[] {
  const root = createSeededRandom(seed).fork("demo-bill");
  const priceOf = new Map<string, Nanos>();
  const price = (day: string, family: string): Nanos => {
    const id = `${day}|${family}`;
    let nanos = priceOf.get(id);
    if (nanos === undefined) {
      const base = decimalToNanos(DEMO_TRUE_PRICES[family] ?? "1");
      const noise = BigInt(Math.round(root.fork(id).normalish() * DAILY_NOISE * 1e9));
      nanos = (base * (NANOS_PER_UNIT + noise)) / NANOS_PER_UNIT;
      priceOf.set(id, nanos);
    }
    return nanos;
  };
  const lines: BilledLine[] = [];
  const byDay = new Map<string, { nanos: Nanos; currency: string }>();
  for (const estimate of estimates) {
    const account = ACCOUNTS[estimate.cloud];
    if (account === undefined || estimate.nanos <= 0n) continue;
    const family = estimate.family ?? OTHER_FAMILY;
    const billed = scaleNanos(estimate.nanos, ratio(price(estimate.day, family), NANOS_PER_UNIT));
    lines.push(
      line(
        estimate.day,
        account,
        account.service(estimate.family),
        `demo-${family}`,
        billed,
        estimate.currency,
        ownerTags(estimate),
      ),
    );
    const day = byDay.get(estimate.day) ?? { nanos: 0n, currency: estimate.currency };
    day.nanos += estimate.nanos;
    byDay.set(estimate.day, day);
  }
  const egress = ratio(decimalToNanos(EGRESS_SHARE), NANOS_PER_UNIT);
  for (const [day, total] of [...byDay].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const account = ACCOUNTS.aws as CloudAccount;
    lines.push(
      line(
        day,
        account,
        "AWS Data Transfer",
        "demo-data-transfer-out",
        scaleNanos(total.nanos, egress),
        total.currency,
        {},
      ),
    );
  }
  return lines;
}
