import type { BigQuery, Query } from "@google-cloud/bigquery";
import { createBigQueryWarehouse } from "#adapters/bigquery/bigquery-warehouse.ts";
import { createBigQueryAlertClaims } from "#adapters/bigquery-alert-claims/bigquery-alert-claims.ts";
import { createBigQueryAlertLog } from "#adapters/bigquery-alert-log/bigquery-alert-log.ts";
import { createBigQuerySeenStore } from "#adapters/bigquery-seen-store/bigquery-seen-store.ts";
import { createGcpBillingExportBillingSource } from "#adapters/gcp-billing-export/gcp-billing-export-billing-source.ts";
import { createWarehouseReconciliationStore } from "#adapters/warehouse-reconciliation/warehouse-reconciliation-store.ts";
import { createFocusExport } from "#app/focus-export.ts";
import { createReportViews } from "#app/report-views.ts";
import { createScorecard } from "#app/scorecard.ts";
import { addDays } from "#domain/billing/billed-line.ts";
import { GROUP_KEYS } from "#domain/cost-row.ts";
import { reconcileDays } from "#domain/reconciliation/reconcile-days.ts";
import { DEFAULT_SCORECARD_SETTINGS } from "#domain/scorecard/scorecard-settings.ts";
import { fixedClock } from "#ports/clock.ts";
import { shippedCatalog, USD } from "./scorecard-builders.ts";

/**
 * Every BigQuery statement the project sends, as the adapters send it: the real adapters (warehouse,
 * its SqlRunner under the use cases that call it, alert log, alert claims, seen store, billing
 * export) run against a client that records each request instead of calling BigQuery. The text is
 * what loadSql made of the file (includes, `{{dataset}}`, `{{dimensions}}`, `-- query:` sections) and
 * the parameter types are those the adapter bound, so nothing here restates either.
 */

export const PROJECT = "finops-test";
export const DATASET = "finops";
/** What `{{dataset}}` becomes: `project.dataset`, as the warehouse and compose.ts build it. */
export const DATASET_PATH = `${PROJECT}.${DATASET}`;
/** The Cloud Billing export table the billing source reads (`{{table}}`). */
export const BILLING_EXPORT_TABLE =
  "billing-admin.billing_export.gcp_billing_export_resource_v1_0A1B2C_3D4E5F_6A7B8C";

/**
 * The Cloud Billing export table, which Google creates and this project only reads: the columns of
 * the standard usage cost export as documented ("Understand the Cloud Billing data tables in
 * BigQuery"; the detailed export adds resource columns). The table is partitioned on ingestion
 * time, so it also has the _PARTITIONTIME and _PARTITIONDATE pseudo-columns, which DDL cannot declare.
 */
export const BILLING_EXPORT_DDL = `CREATE TABLE \`${BILLING_EXPORT_TABLE}\` (
  billing_account_id STRING,
  service STRUCT<id STRING, description STRING>,
  sku STRUCT<id STRING, description STRING>,
  usage_start_time TIMESTAMP,
  usage_end_time TIMESTAMP,
  project STRUCT<id STRING, number STRING, name STRING, labels ARRAY<STRUCT<key STRING, value STRING>>,
    ancestry_numbers STRING, ancestors ARRAY<STRUCT<resource_name STRING, display_name STRING>>>,
  labels ARRAY<STRUCT<key STRING, value STRING>>,
  system_labels ARRAY<STRUCT<key STRING, value STRING>>,
  location STRUCT<location STRING, country STRING, region STRING, zone STRING>,
  tags ARRAY<STRUCT<key STRING, value STRING, inherited BOOL, namespace STRING>>,
  export_time TIMESTAMP,
  cost FLOAT64,
  currency STRING,
  currency_conversion_rate FLOAT64,
  usage STRUCT<amount FLOAT64, unit STRING, amount_in_pricing_units FLOAT64, pricing_unit STRING>,
  credits ARRAY<STRUCT<name STRING, amount FLOAT64, full_name STRING, id STRING, type STRING>>,
  invoice STRUCT<month STRING, publisher_type STRING>,
  cost_type STRING,
  adjustment_info STRUCT<id STRING, description STRING, mode STRING, type STRING>,
  cost_at_list FLOAT64,
  transaction_type STRING,
  seller_name STRING
)`;
export const BILLING_EXPORT_PSEUDO_COLUMNS = { _PARTITIONTIME: "TIMESTAMP", _PARTITIONDATE: "DATE" } as const;

export interface RecordedQuery {
  /** The job label the adapter set (labels.query), which names the file and section. */
  label: string;
  sql: string;
  /** Bound parameters by name, with the type the adapter declared; `undefined` when it declared none. */
  params: Record<string, string | undefined>;
}

const HOUR = 3_600_000;
const NOW = new Date("2026-11-20T12:00:00Z");
const FROM = new Date("2026-11-19T00:00:00Z");
const TO = new Date("2026-11-20T00:00:00Z");

/** Rows the recording client answers for a label (a query whose rows drive the adapter's next step). */
const ANSWERS: Record<string, Record<string, unknown>[]> = {
  // refreshPending rebuilds the hours it reads, which runs training_job_ends and refresh_hourly.
  ingest_marks_hours: [{ hour: "2026-11-19T10:00:00.000Z" }],
  ingest_marks_tail_hours: [{ hour: "2026-11-19T10:00:00.000Z" }, { hour: "2026-11-19T14:00:00.000Z" }],
};

function recordingClient(recorded: RecordedQuery[]): BigQuery {
  const table = { insert: async () => [{}] };
  const client = {
    projectId: PROJECT,
    location: "US",
    dataset: () => ({ table: () => table }),
    async query(request: Query) {
      const label = request.labels?.query;
      if (typeof label !== "string" || request.query === undefined) {
        throw new Error(`a query without a job label or text: ${JSON.stringify(request).slice(0, 200)}`);
      }
      const types = (request.types ?? {}) as Record<string, unknown>;
      const params = Object.fromEntries(
        Object.keys(request.params ?? {}).map((name) => {
          const type = types[name];
          return [name, typeof type === "string" ? type : undefined];
        }),
      );
      recorded.push({ label, sql: request.query, params });
      return [ANSWERS[label] ?? []];
    },
  };
  return client as unknown as BigQuery;
}

/** Runs every adapter path that sends SQL to BigQuery; the requests in the order they were sent. */
export async function recordBigQueryStatements(): Promise<RecordedQuery[]> {
  const recorded: RecordedQuery[] = [];
  const client = recordingClient(recorded);
  const target = { client, dataset: DATASET_PATH, location: "US" };

  // The warehouse: init first (tables, then views), as a fresh dataset gets them.
  const warehouse = createBigQueryWarehouse({ client, projectId: PROJECT, dataset: DATASET });
  await warehouse.init();
  await warehouse.refreshHourly({ from: FROM, to: TO });
  await warehouse.refreshPending(NOW);
  await warehouse.knownRejections(["rejection-key"]);
  // {{dimensions}}: every group key, and none (one total per currency).
  await warehouse.report({ by: [...GROUP_KEYS], from: FROM, to: TO, reads: "rollup" });
  // Live: the tail's two runs of marked hours become two ranges of the raw rows.
  await warehouse.report({ by: [], from: FROM, to: TO, reads: "live" });
  await warehouse.trainingJobs({ from: FROM, to: TO, now: NOW, silenceSeconds: 1800 });

  // The use cases that run named queries through the warehouse's SqlRunner.
  const focusExport = createFocusExport({ warehouse });
  for await (const _day of focusExport({
    granularity: "hour",
    from: FROM,
    to: new Date(FROM.getTime() + HOUR),
    billingAccountId: "acct",
    billingAccountName: null,
  })) {
    // Each day runs focus_export#costs and #parts; the rows are not needed.
  }
  await createScorecard({
    warehouse,
    catalog: shippedCatalog(),
    settings: DEFAULT_SCORECARD_SETTINGS,
    clock: fixedClock(NOW),
  })({ team: "search" });
  await createReportViews({
    warehouse,
    trainingCosts: { report: () => Promise.reject(new Error("the inference view reads no training costs")) },
    reconciliationView: async () => [],
  })({ view: "inference", by: [], from: FROM, to: TO });

  const store = createWarehouseReconciliationStore({ sql: warehouse.sql });
  const period = { start: "2026-11-19", end: "2026-11-20" };
  await store.dailyEstimates(period);
  await store.replaceBilledLines(
    "gcp-billing-export",
    period,
    [
      {
        day: "2026-11-19",
        source: "gcp-billing-export",
        provider: "Google Cloud",
        billingAccountId: "acct",
        subAccountId: "proj",
        service: "Compute Engine",
        skuId: "sku",
        namespace: "search",
        team: "search",
        model: null,
        resourceId: null,
        chargeCategory: "Usage",
        chargeClass: null,
        chargeFrequency: null,
        chargeStartDay: "2026-11-19",
        chargeEndDay: addDays("2026-11-19", 1),
        tags: {},
        costCenter: null,
        environment: null,
        billedCost: 3n * USD,
        effectiveCost: 3n * USD,
        currency: "USD",
      },
    ],
    NOW,
  );
  await store.billedLines(period);
  const [day] = reconcileDays({
    days: ["2026-11-19"],
    estimates: [
      { day: "2026-11-19", cloud: "gcp", namespace: "search", team: "search", family: "l4", nanos: USD },
    ],
    billed: [
      { day: "2026-11-19", key: { cloud: "gcp", namespace: "search", team: "search" }, nanos: 2n * USD },
    ],
    keys: ["cloud", "namespace", "team"],
    calibration: { lookbackDays: 7, minDays: 1 },
  });
  if (day === undefined) throw new Error("reconcileDays gave no day");
  await store.replaceDay(day, "USD", NOW);
  await store.reconciliationRows(period);
  await store.calibrationFactors(period);

  // No BigQuery caller reads raw rows back yet (the DuckDB warehouse's readEvents/readRejected do):
  // through the SqlRunner, with the Dates those methods bind.
  await warehouse.sql.query("read_events", { from: FROM, to: TO });
  await warehouse.sql.query("read_rejected", { from: FROM, to: TO });

  // The stores beside the warehouse, each creating its table first as it does on first use.
  const alertLog = createBigQueryAlertLog({ client, projectId: PROJECT, dataset: DATASET });
  await alertLog.init();
  const delivery = {
    idempotency_key: "budget.threshold:team=search:USD:2026-11",
    thread_key: "budget:team=search",
    kind: "budget.threshold",
    severity: "warning",
    title: "Budget search reached 80%",
    scope: { team: "search" },
    channel: "C123",
    ts: "1763640000.000100",
    action: "posted",
    delivered_at: NOW,
  } as const;
  await alertLog.record(delivery);
  await alertLog.find(delivery.idempotency_key);
  await alertLog.findThread(delivery.thread_key);
  await alertLog.recent({ since: FROM, until: NOW, limit: 20 });

  await createBigQueryAlertClaims({ ...target, clock: fixedClock(NOW) }).claim("budget:search:80");

  const seen = createBigQuerySeenStore({ ...target, now: () => NOW });
  await seen.claim("gcp-budget:acct:2026-11", 80n);
  await seen.release("gcp-budget:acct:2026-11", 80n, 50n);
  await seen.release("gcp-budget:acct:2026-11", 80n, undefined);

  // The billing export, with and without an invoice month (NULL, typed STRING, when absent).
  for (const invoiceMonth of ["202611", undefined]) {
    await createGcpBillingExportBillingSource({
      client,
      table: BILLING_EXPORT_TABLE,
      ...(invoiceMonth === undefined ? {} : { invoiceMonth }),
    }).billedLines({ start: "2026-11-01", end: "2026-11-02" });
  }
  return recorded;
}
