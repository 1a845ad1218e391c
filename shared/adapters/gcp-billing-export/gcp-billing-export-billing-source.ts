import type { BigQuery, Query } from "@google-cloud/bigquery";
import { classifyBigQueryError } from "#adapters/bigquery/bigquery-errors.ts";
import { numericToNanos } from "#adapters/bigquery/bigquery-rows.ts";
import { loadSql } from "#adapters/sql/load-sql.ts";
import { addDays, type BilledLine, isBillingDay } from "#domain/billing/billed-line.ts";
import {
  type BillingPeriod,
  type BillingSource,
  BillingSourceError,
  checkBillingPeriod,
} from "#ports/billing-source.ts";

/** The label keys read into x_namespace / x_team / x_model (GKE cost allocation writes k8s-namespace). */
export interface ExportLabelKeys {
  namespace: string;
  team: string;
  model: string;
}

export const DEFAULT_EXPORT_LABEL_KEYS: ExportLabelKeys = {
  namespace: "k8s-namespace",
  team: "team",
  model: "model",
};

export interface GcpBillingExportBillingSourceOptions {
  client: Pick<BigQuery, "query">;
  /** `project.dataset.gcp_billing_export_resource_v1_<ACCOUNT>` (or the standard `_v1_` table). */
  table: string;
  labelKeys?: ExportLabelKeys;
  /** Partitions read after the period's end, for rows that arrive late (default 7 days). */
  lateDays?: number;
  /** Only this invoice month ("YYYYMM"), for reconciling with an invoice; default every month. */
  invoiceMonth?: string;
  location?: string;
  maximumBytesBilled?: number;
}

const TABLE = /^[A-Za-z0-9_-]+(?:[.:][A-Za-z0-9_-]+){1,2}$/;

/** A row of billing_export_daily.sql, as the BigQuery client returns it (DATE as `{ value }`). */
export type BillingExportDailyRow = Record<string, unknown>;

function text(row: BillingExportDailyRow, column: string): string | null {
  const value = row[column];
  if (value === null || value === undefined) return null;
  if (typeof value === "object" && "value" in value) return String((value as { value: unknown }).value);
  return String(value);
}

/** One billed line per query row: BilledCost and EffectiveCost are the net cost (cost + credits). */
export function billedLineOfExportRow(
  row: BillingExportDailyRow,
  labelKeys: ExportLabelKeys = DEFAULT_EXPORT_LABEL_KEYS,
): BilledLine {
  const day = text(row, "charge_day");
  const where = `billing export row ${JSON.stringify([day, text(row, "service_name"), text(row, "sku_id")])}`;
  const need = (column: string): string => {
    const value = text(row, column);
    if (value === null) throw new BillingSourceError("invalid", `${where}: no ${column}`);
    return value;
  };
  if (day === null || !isBillingDay(day))
    throw new BillingSourceError("invalid", `${where}: charge_day is not a day`);
  let net: bigint;
  try {
    net = numericToNanos(row.net_cost, "net_cost");
  } catch (cause) {
    throw new BillingSourceError("invalid", `${where}: net_cost is not NUMERIC`, { cause });
  }
  const x_namespace = text(row, "x_namespace");
  const x_team = text(row, "x_team");
  const x_model = text(row, "x_model");
  const tags: Record<string, string> = {};
  if (x_namespace !== null) tags[labelKeys.namespace] = x_namespace;
  if (x_team !== null) tags[labelKeys.team] = x_team;
  if (x_model !== null) tags[labelKeys.model] = x_model;
  const skuId = text(row, "sku_id");
  return {
    ChargePeriodStart: day,
    ChargePeriodEnd: addDays(day, 1),
    ProviderName: "Google Cloud",
    BillingAccountId: need("billing_account_id"),
    SubAccountId: text(row, "project_id"),
    ServiceName: need("service_name"),
    ...(skuId === null ? {} : { SkuId: skuId }),
    BilledCost: net,
    EffectiveCost: net,
    BillingCurrency: need("currency"),
    Tags: tags,
    x_namespace,
    x_team,
    x_model,
  };
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
  const keys = options.labelKeys ?? DEFAULT_EXPORT_LABEL_KEYS;
  const lateDays = options.lateDays ?? 7;
  const request: Query = {
    query: loadSql("bigquery", "billing_export_daily", { table: options.table }),
    params: {
      start_date: period.start,
      end_date: period.end,
      partition_end: new Date(`${addDays(period.end, lateDays)}T00:00:00Z`),
      invoice_month: options.invoiceMonth ?? null,
      namespace_label_key: keys.namespace,
      team_label_key: keys.team,
      model_label_key: keys.model,
    },
    types: {
      start_date: "DATE",
      end_date: "DATE",
      partition_end: "TIMESTAMP",
      invoice_month: "STRING",
      namespace_label_key: "STRING",
      team_label_key: "STRING",
      model_label_key: "STRING",
    },
    labels: { app: "finops", query: "billing_export_daily" },
  };
  if (options.location !== undefined) request.location = options.location;
  if (options.maximumBytesBilled !== undefined)
    request.maximumBytesBilled = String(options.maximumBytesBilled);
  return request;
}

/**
 * A BillingSource over the Cloud Billing export in BigQuery: daily net cost (cost + credits, as
 * NUMERIC) per project, service, SKU and the namespace/team/model labels, by usage day.
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
      return rows.map((row) => billedLineOfExportRow(row, options.labelKeys));
    },
  };
}
