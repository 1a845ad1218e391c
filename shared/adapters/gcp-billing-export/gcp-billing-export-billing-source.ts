import type { BigQuery, Query } from "@google-cloud/bigquery";
import { classifyBigQueryError } from "#adapters/bigquery/bigquery-errors.ts";
import { numericToNanos } from "#adapters/bigquery/bigquery-rows.ts";
import { loadSql } from "#adapters/sql/load-sql.ts";
import { addDays, type BilledLine, ownerColumns, rollUpLines } from "#domain/billing/billed-line.ts";
import { spreadCharge } from "#domain/billing/charge-spread.ts";
import type { OwnerMapping } from "#domain/billing/owner-mapping.ts";
import {
  type BillingPeriod,
  type BillingSource,
  BillingSourceError,
  checkBillingPeriod,
} from "#ports/billing-source.ts";

export interface GcpBillingExportBillingSourceOptions {
  client: Pick<BigQuery, "query">;
  /** `project.dataset.gcp_billing_export_resource_v1_<ACCOUNT>` (or the standard `_v1_` table). */
  table: string;
  /** Which labels name the owner columns (DEFAULT_OWNER_MAPPING when absent). */
  ownerMapping?: OwnerMapping;
  /** Partitions read after the period's end, for rows that arrive late (default 7 days). */
  lateDays?: number;
  /** Only this invoice month ("YYYYMM"), for reconciling with an invoice; default every month. */
  invoiceMonth?: string;
  location?: string;
  maximumBytesBilled?: number;
}

/**
 * Partitions read before the period: a charge over a month (a subscription, a commitment fee) is
 * exported around its start, and its last days are still in the period.
 */
const SPREAD_LOOKBACK_DAYS = 32;

const TABLE = /^[A-Za-z0-9_-]+(?:[.:][A-Za-z0-9_-]+){1,2}$/;

/** A row of billing_export_daily.sql, as the BigQuery client returns it (DATE as `{ value }`). */
export type BillingExportDailyRow = Record<string, unknown>;

function text(row: BillingExportDailyRow, column: string): string | null {
  const value = row[column];
  if (value === null || value === undefined) return null;
  if (typeof value === "object" && "value" in value) return String((value as { value: unknown }).value);
  return String(value);
}

/** GCP's cost_type as a FOCUS ChargeCategory and ChargeClass (an adjustment corrects earlier usage). */
const COST_TYPES: Readonly<Record<string, Pick<BilledLine, "ChargeCategory" | "ChargeClass">>> = {
  regular: { ChargeCategory: "Usage", ChargeClass: null },
  tax: { ChargeCategory: "Tax", ChargeClass: null },
  adjustment: { ChargeCategory: "Adjustment", ChargeClass: "Correction" },
  rounding_error: { ChargeCategory: "Adjustment", ChargeClass: null },
};

function labelsOf(json: string | null, where: string): Record<string, string> {
  const tags: Record<string, string> = {};
  if (json === null) return tags;
  let pairs: unknown;
  try {
    pairs = JSON.parse(json);
  } catch (cause) {
    throw new BillingSourceError("invalid", `${where}: labels are not JSON`, { cause });
  }
  if (!Array.isArray(pairs)) throw new BillingSourceError("invalid", `${where}: labels are not an array`);
  for (const pair of pairs as { key?: unknown; value?: unknown }[]) {
    if (typeof pair.key === "string" && typeof pair.value === "string" && !(pair.key in tags))
      tags[pair.key] = pair.value;
  }
  return tags;
}

function instant(row: BillingExportDailyRow, column: string, where: string): Date {
  const value = row[column];
  const at = value instanceof Date ? value : new Date(text(row, column) ?? Number.NaN);
  if (Number.isNaN(at.getTime()))
    throw new BillingSourceError("invalid", `${where}: ${column} is not a timestamp`);
  return at;
}

/**
 * A query row as billed lines, one per day its usage period covers (spreadOverDays) and inside the
 * period: the row's cost as a line of its cost type and, when it has credits, the credits as a
 * Credit line of their own. BilledCost and EffectiveCost are both the export's cost (GCP amortizes
 * commitment fees in the usage it covers already).
 */
export function billedLinesOfExportRow(
  row: BillingExportDailyRow,
  period: BillingPeriod,
  mapping?: OwnerMapping,
): BilledLine[] {
  const where = `billing export row ${JSON.stringify([text(row, "charge_start"), text(row, "service_name"), text(row, "sku_id")])}`;
  const need = (column: string): string => {
    const value = text(row, column);
    if (value === null) throw new BillingSourceError("invalid", `${where}: no ${column}`);
    return value;
  };
  const amount = (column: string): bigint => {
    try {
      return numericToNanos(row[column], column);
    } catch (cause) {
      throw new BillingSourceError("invalid", `${where}: ${column} is not NUMERIC`, { cause });
    }
  };
  const costType = COST_TYPES[text(row, "cost_type") ?? "regular"];
  if (costType === undefined) throw new BillingSourceError("invalid", `${where}: unknown cost_type`);
  const start = instant(row, "charge_start", where);
  const end = instant(row, "charge_end", where);
  const tags = labelsOf(text(row, "labels"), where);
  const skuId = text(row, "sku_id");
  const charge = {
    ChargeFrequency: null,
    ProviderName: "Google Cloud",
    BillingAccountId: need("billing_account_id"),
    SubAccountId: text(row, "project_id"),
    ServiceName: need("service_name"),
    ...(skuId === null ? {} : { SkuId: skuId }),
    BillingCurrency: need("currency"),
    Tags: tags,
    ...ownerColumns(tags, "Google Cloud", mapping),
  };
  const cost = amount("cost");
  const credits = amount("credits");
  const lines = spreadCharge({ ...charge, ...costType }, start, end, cost, cost);
  if (credits !== 0n)
    lines.push(
      ...spreadCharge({ ...charge, ...costType, ChargeCategory: "Credit" }, start, end, credits, credits),
    );
  return lines.filter((l) => l.ChargePeriodStart >= period.start && l.ChargePeriodStart < period.end);
}

/** The query job for a period: sql/bigquery/billing_export_daily.sql with typed parameters. */
export function billingExportQuery(
  period: BillingPeriod,
  options: Omit<GcpBillingExportBillingSourceOptions, "client">,
): Query {
  if (!TABLE.test(options.table))
    throw new BillingSourceError("invalid", `not a table path: ${JSON.stringify(options.table)}`);
  if (options.invoiceMonth !== undefined && !/^\d{6}$/.test(options.invoiceMonth)) {
    throw new BillingSourceError(
      "invalid",
      `invoice month must be YYYYMM, got ${JSON.stringify(options.invoiceMonth)}`,
    );
  }
  const lateDays = options.lateDays ?? 7;
  const request: Query = {
    query: loadSql("bigquery", "billing_export_daily", { table: options.table }),
    params: {
      start_date: period.start,
      end_date: period.end,
      partition_start: new Date(`${addDays(period.start, -SPREAD_LOOKBACK_DAYS)}T00:00:00Z`),
      partition_end: new Date(`${addDays(period.end, lateDays)}T00:00:00Z`),
      invoice_month: options.invoiceMonth ?? null,
    },
    types: {
      start_date: "DATE",
      end_date: "DATE",
      partition_start: "TIMESTAMP",
      partition_end: "TIMESTAMP",
      invoice_month: "STRING",
    },
    labels: { app: "finops", query: "billing_export_daily" },
  };
  if (options.location !== undefined) request.location = options.location;
  if (options.maximumBytesBilled !== undefined)
    request.maximumBytesBilled = String(options.maximumBytesBilled);
  return request;
}

/**
 * A BillingSource over the Cloud Billing export in BigQuery: each usage row's cost and credits
 * (NUMERIC) spread over the days its usage period covers, per project, service, SKU, cost type and
 * labels, the owner read from the labels through the owner mapping; summed per day.
 */
export function createGcpBillingExportBillingSource(
  options: GcpBillingExportBillingSourceOptions,
): BillingSource {
  return {
    async billedLines(period) {
      checkBillingPeriod(period);
      const request = billingExportQuery(period, options);
      let rows: BillingExportDailyRow[];
      try {
        [rows] = (await options.client.query(request)) as [BillingExportDailyRow[], ...unknown[]];
      } catch (cause) {
        throw new BillingSourceError(
          classifyBigQueryError(cause),
          `billing export query failed: ${String(cause)}`,
          { cause },
        );
      }
      return rollUpLines(rows.flatMap((row) => billedLinesOfExportRow(row, period, options.ownerMapping)));
    },
  };
}
