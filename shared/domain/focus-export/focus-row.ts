import { UNALLOCATED } from "#domain/cost-row.ts";
import { ALLOCATION_V1, FIXED_V1, INFERENCE_V1, TRAINING_V1 } from "#domain/events/cloud-event.ts";
import { nanosToDecimal } from "#domain/money.ts";
import type { ExportLine, Owners } from "./export-lines.ts";

/**
 * The columns of an export, FinOps FOCUS 1.2 names: every Mandatory column, the Conditional and
 * Recommended ones we know a value for, and our own dimensions as `x_` columns (the spec's prefix for
 * custom columns; the same names our FOCUS importer reads x_namespace, x_team and x_model from).
 */
export const FOCUS_EXPORT_COLUMNS = [
  "BilledCost",
  "BillingAccountId",
  "BillingAccountName",
  "BillingCurrency",
  "BillingPeriodEnd",
  "BillingPeriodStart",
  "ChargeCategory",
  "ChargeClass",
  "ChargeDescription",
  "ChargeFrequency",
  "ChargePeriodEnd",
  "ChargePeriodStart",
  "ContractedCost",
  "EffectiveCost",
  "InvoiceIssuerName",
  "ListCost",
  "PricingQuantity",
  "PricingUnit",
  "ProviderName",
  "PublisherName",
  "RegionId",
  "RegionName",
  "ResourceId",
  "ResourceName",
  "ResourceType",
  "ServiceCategory",
  "ServiceName",
  "ServiceSubcategory",
  "SubAccountId",
  "SubAccountName",
  "Tags",
  "x_team",
  "x_model",
  "x_model_version",
  "x_business_unit",
  "x_cost_center",
  "x_namespace",
  "x_environment",
  "x_cloud",
  "x_training_job",
] as const;
export type FocusColumn = (typeof FOCUS_EXPORT_COLUMNS)[number];
/** One FOCUS row: each column's text, null for a null. */
export type FocusRow = Readonly<Record<FocusColumn, string | null>>;

export const FOCUS_GRANULARITIES = ["day", "hour"] as const;
export type FocusGranularity = (typeof FOCUS_GRANULARITIES)[number];

export interface FocusExportSettings {
  granularity: FocusGranularity;
  /** The exported range [from, to): a daily charge period is cut to it. */
  from: Date;
  to: Date;
  /** The billing account the rows are shown under (FOCUS requires one; events do not name it). */
  billingAccountId: string;
  billingAccountName: string | null;
}

export const DEFAULT_BILLING_ACCOUNT = { id: "finops-attribution", name: "AI cost attribution" } as const;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** FOCUS Date/Time format: ISO 8601 UTC to the second, "2026-11-24T10:00:00Z". */
export function focusDateTime(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

/** The charge period of a line: its hour, or its UTC day cut to the exported range. */
export function chargePeriod(periodStart: Date, settings: FocusExportSettings): { start: Date; end: Date } {
  if (settings.granularity === "hour") {
    return { start: periodStart, end: new Date(periodStart.getTime() + HOUR_MS) };
  }
  const start = Math.max(periodStart.getTime(), settings.from.getTime());
  const end = Math.min(periodStart.getTime() + DAY_MS, settings.to.getTime());
  return { start: new Date(start), end: new Date(end) };
}

/** The calendar month (UTC) a charge falls in: FOCUS's billing period. */
export function billingPeriod(chargeStart: Date): { start: Date; end: Date } {
  const year = chargeStart.getUTCFullYear();
  const month = chargeStart.getUTCMonth();
  return { start: new Date(Date.UTC(year, month, 1)), end: new Date(Date.UTC(year, month + 1, 1)) };
}

/** FOCUS ProviderName (also the publisher and invoice issuer) of our `cloud` dimension. */
const PROVIDERS: Readonly<Record<string, string>> = {
  gcp: "Google Cloud",
  aws: "AWS",
  azure: "Microsoft",
  other: "Other",
};
/** Costs that name no cloud: fixed costs, provider APIs priced per token. */
const NO_PROVIDER = "Unspecified";

interface Service {
  name: string;
  subcategory: string;
  frequency: "Usage-Based" | "Recurring";
  describe(line: ExportLine): string;
}

const modelOf = ({ model, model_version }: Owners) =>
  model_version === null ? (model ?? "no model") : `${model ?? "no model"} ${model_version}`;
const forTeam = ({ team, business_unit }: Owners) =>
  `${team ?? "no team"}${business_unit === null ? "" : ` (${business_unit})`}`;

/** ServiceCategory is "AI and Machine Learning" for every row; the rest depends on the event type. */
const SERVICES: Readonly<Record<string, Service>> = {
  [INFERENCE_V1]: {
    name: "Model Inference",
    subcategory: "Machine Learning",
    frequency: "Usage-Based",
    describe: (l) => `Inference requests to ${modelOf(l.owners)} by ${forTeam(l.owners)}`,
  },
  [TRAINING_V1]: {
    name: "Model Training",
    subcategory: "Machine Learning",
    frequency: "Usage-Based",
    describe: (l) =>
      `${l.job_id === null ? "Training" : `Training job ${l.job_id}`} of ${modelOf(l.owners)} by ${forTeam(l.owners)}`,
  },
  [ALLOCATION_V1]: {
    name: "Kubernetes GPU Capacity",
    subcategory: "AI Platforms",
    frequency: "Usage-Based",
    describe: (l) =>
      `Kubernetes allocation${l.owners.namespace === null ? "" : ` of namespace ${l.owners.namespace}`} to ${forTeam(l.owners)}`,
  },
  [FIXED_V1]: {
    name: "Licences and Fees",
    subcategory: "AI Platforms",
    frequency: "Recurring",
    describe: (l) => `Fixed cost amortized by the hour, ${forTeam(l.owners)}`,
  },
};
const UNKNOWN_SERVICE: Service = {
  name: "AI Workloads",
  subcategory: "Other (AI and Machine Learning)",
  frequency: "Usage-Based",
  describe: (l) => `Attributed cost of ${forTeam(l.owners)}`,
};

/** ResourceId, ResourceName and ResourceType where the line names a resource: a job, a model, a namespace. */
function resource(line: ExportLine): { id: string; type: string } | null {
  const { owners } = line;
  if (line.job_id !== null) return { id: line.job_id, type: "Training Job" };
  if (line.event_type === INFERENCE_V1 && owners.model !== null && owners.model !== UNALLOCATED) {
    return {
      id: owners.model_version === null ? owners.model : `${owners.model}@${owners.model_version}`,
      type: "Model",
    };
  }
  if (line.event_type === ALLOCATION_V1 && owners.namespace !== null) {
    return { id: `namespace/${owners.namespace}`, type: "Kubernetes Namespace" };
  }
  return null;
}

/** FOCUS Tags: our dimensions (and the training job) as a JSON object, the keys of null values left out. */
export function focusTags(line: ExportLine): string {
  const { owners } = line;
  const tags: Record<string, string> = {};
  for (const [key, value] of [
    ["team", owners.team],
    ["model", owners.model],
    ["model_version", owners.model_version],
    ["business_unit", owners.business_unit],
    ["cost_center", owners.cost_center],
    ["namespace", owners.namespace],
    ["environment", owners.environment],
    ["training_job", line.job_id],
  ] as const) {
    if (value !== null) tags[key] = value;
  }
  return JSON.stringify(tags);
}

/**
 * A line as a FOCUS row. Our figures are attributed usage, neither invoiced nor discounted apart from
 * the prices they were computed with, so BilledCost = EffectiveCost = ListCost = ContractedCost (the
 * spec's rule when no list or contracted unit price is known), ChargeCategory "Usage". Each row is an
 * owner's share of a time period, so its pricing quantity is the period's length in hours.
 * SubAccount is the owning team: who the cost is charged back to.
 */
export function toFocusRow(line: ExportLine, settings: FocusExportSettings): FocusRow {
  const charge = chargePeriod(line.periodStart, settings);
  const billing = billingPeriod(charge.start);
  const amount = nanosToDecimal(line.cost_nanos);
  const provider =
    line.owners.cloud === null ? NO_PROVIDER : (PROVIDERS[line.owners.cloud] ?? line.owners.cloud);
  const service = (line.event_type === null ? undefined : SERVICES[line.event_type]) ?? UNKNOWN_SERVICE;
  const found = resource(line);
  const { owners } = line;
  return {
    BilledCost: amount,
    BillingAccountId: settings.billingAccountId,
    BillingAccountName: settings.billingAccountName,
    BillingCurrency: line.currency,
    BillingPeriodEnd: focusDateTime(billing.end),
    BillingPeriodStart: focusDateTime(billing.start),
    ChargeCategory: "Usage",
    ChargeClass: null,
    ChargeDescription: service.describe(line),
    ChargeFrequency: service.frequency,
    ChargePeriodEnd: focusDateTime(charge.end),
    ChargePeriodStart: focusDateTime(charge.start),
    ContractedCost: amount,
    EffectiveCost: amount,
    InvoiceIssuerName: provider,
    ListCost: amount,
    PricingQuantity: String((charge.end.getTime() - charge.start.getTime()) / HOUR_MS),
    PricingUnit: "Hours",
    ProviderName: provider,
    PublisherName: provider,
    RegionId: line.region,
    RegionName: line.region,
    ResourceId: found?.id ?? null,
    ResourceName: found?.id ?? null,
    ResourceType: found?.type ?? null,
    ServiceCategory: "AI and Machine Learning",
    ServiceName: service.name,
    ServiceSubcategory: service.subcategory,
    SubAccountId: owners.team,
    SubAccountName: owners.team,
    Tags: focusTags(line),
    x_team: owners.team,
    x_model: owners.model,
    x_model_version: owners.model_version,
    x_business_unit: owners.business_unit,
    x_cost_center: owners.cost_center,
    x_namespace: owners.namespace,
    x_environment: owners.environment,
    x_cloud: owners.cloud,
    x_training_job: line.job_id,
  };
}
