/**
 * The demo's bill: what the clouds would invoice for the demo org's days, made from its own daily
 * estimates with a fixed seed, in each cloud's own conventions. Each instance family's true price
 * differs from the catalog's by its own few percent (the A100s bill above it, the L4s and g4dn
 * below), every day with a little noise. Owners are named as the clouds name them: GKE cost
 * allocation's `k8s-namespace` and `k8s-label/owner` labels on Google Cloud, EKS split cost
 * allocation's `aws:eks:namespace` and an `Owner` tag on AWS; and the resource each ran on, where
 * the estimate knows it: GKE's `goog-k8s-cluster-name` and `goog-k8s-node-pool-name` labels and the
 * node's instance as the resource, EKS's `aws:eks:cluster-name` and `eks:nodegroup-name` tags. A
 * month's storage bucket is one
 * charge over the whole month; AWS compute is covered by a Savings Plan bought upfront on the first
 * day (a Purchase; the covered usage bills nothing and carries its amortized share as
 * EffectiveCost); AWS data transfer out, which no estimate covers, is billed with no owner tags.
 * Pure: the same estimates and seed give the same lines.
 */

import { IDLE_OWNER } from "#domain/allocation/owner.ts";
import type { ResourceName } from "#domain/billing/bill-resource.ts";
import { addDays, type BilledLine, ownerColumns } from "#domain/billing/billed-line.ts";
import { UNALLOCATED } from "#domain/cost-row.ts";
import { decimalToNanos, NANOS_PER_UNIT, type Nanos } from "#domain/money.ts";
import { type FamilyEstimate, OTHER_FAMILY } from "#domain/reconciliation/bill-grain.ts";
import { ratio, scaleNanos } from "#domain/reconciliation/ratio.ts";
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
/** The model-weights bucket's month, as a share of its team's daily Google Cloud estimate, per day. */
const STORAGE_SHARE = "0.004";

interface CloudAccount {
  provider: string;
  billingAccountId: string;
  subAccountId: string;
  service: (family: string | null) => string;
  /** The owner and resource tags or labels as this cloud writes them. */
  tags: (namespace: string | null, team: string | null, on: Partial<ResourceName>) => Record<string, string>;
  /** The resource id of a node's usage, where the node's name is its instance's (GKE). */
  nodeId?: (node: string) => string;
}

const tag = (key: string, value: string | null | undefined) =>
  value === null || value === undefined ? {} : { [key]: value };

const ACCOUNTS: Readonly<Record<string, CloudAccount>> = {
  gcp: {
    provider: "Google Cloud",
    billingAccountId: "01A2B3-C4D5E6-F7A8B9",
    subAccountId: "demo-ml-prod",
    service: (family) => (family === null ? "Kubernetes Engine" : "Compute Engine"),
    tags: (namespace, team, on) => ({
      ...tag("k8s-namespace", namespace),
      ...tag("k8s-label/owner", team),
      ...tag("goog-k8s-cluster-name", on.cluster),
      ...tag("goog-k8s-node-pool-name", on.nodePool),
    }),
    nodeId: (node) => `//compute.googleapis.com/projects/demo-ml-prod/zones/us-central1-a/instances/${node}`,
  },
  aws: {
    provider: "AWS",
    billingAccountId: "123456789012",
    subAccountId: "210987654321",
    service: () => "Amazon Elastic Compute Cloud - Compute",
    tags: (namespace, team, on) => ({
      ...tag("aws:eks:namespace", namespace),
      ...tag("Owner", team),
      ...tag("aws:eks:cluster-name", on.cluster),
      ...tag("eks:nodegroup-name", on.nodePool),
    }),
  },
};

export interface DemoEstimate extends FamilyEstimate {
  currency: string;
}

/** A bill knows no placeholder owners: their cost carries no team label. */
function billedTeam(estimate: FamilyEstimate): string | null {
  return estimate.team === UNALLOCATED || estimate.team === IDLE_OWNER ? null : estimate.team;
}

interface Charge {
  start: string;
  end: string;
  category: BilledLine["ChargeCategory"];
  frequency: BilledLine["ChargeFrequency"];
  service: string;
  sku: string;
  resourceId?: string;
  billed: Nanos;
  effective: Nanos;
  currency: string;
  tags: Record<string, string>;
}

function line(account: CloudAccount, charge: Charge): BilledLine {
  return {
    ChargePeriodStart: charge.start,
    ChargePeriodEnd: charge.end,
    ChargeCategory: charge.category,
    ChargeClass: null,
    ChargeFrequency: charge.frequency,
    ProviderName: account.provider,
    BillingAccountId: account.billingAccountId,
    SubAccountId: account.subAccountId,
    ServiceName: charge.service,
    SkuId: charge.sku,
    ...(charge.resourceId === undefined ? {} : { ResourceId: charge.resourceId }),
    BilledCost: charge.billed,
    EffectiveCost: charge.effective,
    BillingCurrency: charge.currency,
    Tags: charge.tags,
    ...ownerColumns(charge.tags, account.provider),
  };
}

const monthStart = (day: string) => `${day.slice(0, 7)}-01`;
const nextMonth = (day: string) => monthStart(addDays(monthStart(day), 31));

/**
 * One billed usage line per estimate of a cloud the demo bills (gcp, aws): the estimate at its
 * family's true price that day (AWS's billing nothing, covered by the Savings Plan, its price as
 * EffectiveCost); then per day one untagged AWS data transfer line, a share of its estimates; the
 * Savings Plan's purchase on the first day; and the month's model-weights bucket of the team that
 * spends most on Google Cloud, one charge over the month.
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
  const gcp = ACCOUNTS.gcp as CloudAccount;
  const aws = ACCOUNTS.aws as CloudAccount;
  const lines: BilledLine[] = [];
  const byDay = new Map<string, { nanos: Nanos; currency: string }>();
  const gcpByTeam = new Map<string, { nanos: Nanos; namespace: string | null; currency: string }>();
  let committed = 0n;
  for (const estimate of estimates) {
    const account = ACCOUNTS[estimate.cloud];
    if (account === undefined || estimate.nanos <= 0n) continue;
    const family = estimate.family ?? OTHER_FAMILY;
    const cost = scaleNanos(estimate.nanos, ratio(price(estimate.day, family), NANOS_PER_UNIT));
    const covered = account === aws;
    if (covered) committed += cost;
    const team = billedTeam(estimate);
    lines.push(
      line(account, {
        start: estimate.day,
        end: addDays(estimate.day, 1),
        category: "Usage",
        frequency: "Usage-Based",
        service: account.service(estimate.family),
        sku: `demo-${family}`,
        ...(estimate.node && account.nodeId ? { resourceId: account.nodeId(estimate.node) } : {}),
        billed: covered ? 0n : cost,
        effective: cost,
        currency: estimate.currency,
        tags: account.tags(estimate.namespace, team, estimate),
      }),
    );
    const day = byDay.get(estimate.day) ?? { nanos: 0n, currency: estimate.currency };
    day.nanos += estimate.nanos;
    byDay.set(estimate.day, day);
    if (account === gcp && team !== null) {
      const spent = gcpByTeam.get(team) ?? {
        nanos: 0n,
        namespace: estimate.namespace,
        currency: estimate.currency,
      };
      spent.nanos += estimate.nanos;
      gcpByTeam.set(team, spent);
    }
  }
  const days = [...byDay.keys()].sort();
  const egress = ratio(decimalToNanos(EGRESS_SHARE), NANOS_PER_UNIT);
  for (const day of days) {
    const total = byDay.get(day) as { nanos: Nanos; currency: string };
    const nanos = scaleNanos(total.nanos, egress);
    lines.push(
      line(aws, {
        start: day,
        end: addDays(day, 1),
        category: "Usage",
        frequency: "Usage-Based",
        service: "AWS Data Transfer",
        sku: "demo-data-transfer-out",
        billed: nanos,
        effective: nanos,
        currency: total.currency,
        tags: {},
      }),
    );
  }
  const first = days[0];
  if (first === undefined) return lines;
  const currency = (byDay.get(first) as { currency: string }).currency;
  if (committed > 0n) {
    lines.push(
      line(aws, {
        start: first,
        end: addDays(first, 1),
        category: "Purchase",
        frequency: "One-Time",
        service: "Savings Plans for AWS Compute usage",
        sku: "demo-compute-savings-plan",
        resourceId: "arn:aws:savingsplans::123456789012:savingsplan/demo-compute-1yr",
        billed: committed,
        effective: 0n,
        currency,
        tags: {},
      }),
    );
  }
  const [team, spent] = [...gcpByTeam].sort(([a, x], [b, y]) =>
    x.nanos !== y.nanos ? (x.nanos > y.nanos ? -1 : 1) : a < b ? -1 : 1,
  )[0] ?? [undefined, undefined];
  if (team !== undefined && spent !== undefined) {
    const start = monthStart(first);
    const end = nextMonth(first);
    const monthDays = BigInt(Math.round((Date.parse(end) - Date.parse(start)) / 86_400_000));
    const daily = scaleNanos(
      spent.nanos / BigInt(days.length),
      ratio(decimalToNanos(STORAGE_SHARE), NANOS_PER_UNIT),
    );
    lines.push(
      line(gcp, {
        start,
        end,
        category: "Usage",
        frequency: "Recurring",
        service: "Cloud Storage",
        sku: "demo-standard-storage",
        resourceId: `projects/_/buckets/${team}-model-weights`,
        billed: daily * monthDays,
        effective: daily * monthDays,
        currency: spent.currency,
        tags: { owner: team, ...(spent.namespace === null ? {} : { "k8s-namespace": spent.namespace }) },
      }),
    );
  }
  return lines;
}
