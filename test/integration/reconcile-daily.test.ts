import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CostExplorerClient,
  GetCostAndUsageCommand,
  type GetCostAndUsageCommandOutput,
} from "@aws-sdk/client-cost-explorer";
import {
  type DuckDBConnection,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBTimestampTZValue,
  type DuckDBValue,
} from "@duckdb/node-api";
import type { Query } from "@google-cloud/bigquery";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsCostExplorerBillingSource } from "#adapters/aws-cost-explorer/aws-cost-explorer-billing-source.ts";
import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import { formatFocusCsv } from "#adapters/focus-file/focus-csv.ts";
import { readFocusFile } from "#adapters/focus-file/focus-file-billing-source.ts";
import { createGcpBillingExportBillingSource } from "#adapters/gcp-billing-export/gcp-billing-export-billing-source.ts";
import { createMemoryAlertClaims } from "#adapters/memory-alert-claims/memory-alert-claims.ts";
import { createMemoryAlertLog } from "#adapters/memory-alert-log/memory-alert-log.ts";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import { loadSql } from "#adapters/sql/load-sql.ts";
import { createWarehouseReconciliationStore } from "#adapters/warehouse-reconciliation/warehouse-reconciliation-store.ts";
import { createImportBill } from "#app/import-bill.ts";
import { createNotifyAlert } from "#app/notify-alert.ts";
import { createReconcileDaily, type NamedBillingSource } from "#app/reconcile-daily.ts";
import { createReconciliationView } from "#app/reconciliation-view.ts";
import { parseAlertRouting } from "#domain/alerts/alert-routing.ts";
import type { SlackMessage } from "#domain/alerts/slack-message.ts";
import { addDays, type BilledLine } from "#domain/billing/billed-line.ts";
import { DEFAULT_OWNER_MAPPING, ownerMapping } from "#domain/billing/owner-mapping.ts";
import type { CostRow } from "#domain/cost-row.ts";
import { decimalToNanos } from "#domain/money.ts";
import { ratio } from "#domain/reconciliation/ratio.ts";
import { reconciliationSettings } from "#domain/reconciliation/reconciliation-settings.ts";
import { TOPICS } from "#ports/bus.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import type { ReconciliationStore } from "#ports/reconciliation-store.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { costRow } from "../support/cost-row-builder.ts";

// reconcileDaily end to end on the embedded warehouse: the estimates of a test day in the rollup,
// the bill from the real billing sources (the Cloud Billing export fixture through the adapter and
// the DuckDB twin of its query; the Cost Explorer fixture through aws-sdk-client-mock), drift alerts
// through the memory bus to notifyAlert, and calibration from a FOCUS bill imported by file.

const u = decimalToNanos;
const DAY = "2026-11-20";
/** Three days after DAY: DAY is settled (two days old) and in the trailing window. */
const NOW = new Date("2026-11-23T06:30:00Z");
const at = (day: string, hour: number) => new Date(`${day}T${String(hour).padStart(2, "0")}:10:00Z`);

/** An inference estimate of `usd` on `day`, for an owner. */
function estimate(day: string, owner: Partial<CostRow>, usd: string, hour = 10): CostRow {
  return costRow({ event_time: at(day, hour), ingested_at: at(day, hour), cost_nanos: u(usd), ...owner });
}

async function rollUp(warehouse: Warehouse, rows: CostRow[]): Promise<void> {
  await warehouse.insertEvents(rows);
  await warehouse.refreshHourly({
    from: new Date("2026-11-01T00:00:00Z"),
    to: new Date("2026-11-23T00:00:00Z"),
  });
}

// --- The Cloud Billing export: Google's example rows (labels app and environment) on DAY, in a table
// with the export's columns, read by the adapter through the DuckDB twin of its query.

const EXPORT_TABLE = `CREATE TABLE billing_export (
  billing_account_id VARCHAR, invoice STRUCT(month VARCHAR), project STRUCT(id VARCHAR),
  service STRUCT(id VARCHAR, description VARCHAR), sku STRUCT(id VARCHAR, description VARCHAR),
  usage_start_time TIMESTAMPTZ, labels STRUCT(key VARCHAR, value VARCHAR)[],
  credits STRUCT(name VARCHAR, amount DOUBLE)[], cost DOUBLE, currency VARCHAR, _PARTITIONTIME TIMESTAMP,
  usage_end_time TIMESTAMPTZ, cost_type VARCHAR
)`;

async function billingExport(): Promise<DuckDBConnection> {
  const fixture = JSON.parse(
    readFileSync(new URL("../fixtures/billing/bq-examples.labels-rows.docs.json", import.meta.url), "utf8"),
  ) as { rows: { "sku.description": string; labels: string; cost: string }[] };
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  await connection.run(EXPORT_TABLE);
  for (const row of fixture.rows) {
    const insert = await connection.prepare(`INSERT INTO billing_export VALUES (
      'ABCDEF-123456-7890AB', {'month': '202611'}, {'id': 'ml-prod'},
      {'id': '6F81-5844-456A', 'description': 'Compute Engine'}, {'id': $sku, 'description': $sku},
      TIMESTAMPTZ '${DAY} 10:00:00+00', from_json($labels, '[{"key":"VARCHAR","value":"VARCHAR"}]'), [],
      CAST($cost AS DOUBLE), 'USD', TIMESTAMP '${DAY} 00:00:00', TIMESTAMPTZ '${DAY} 11:00:00+00', 'regular')`);
    insert.bindVarchar(1, row["sku.description"]);
    insert.bindVarchar(2, row.labels);
    insert.bindVarchar(3, row.cost.replace("$", ""));
    await insert.run();
  }
  return connection;
}

/** A BigQuery client whose query runs sql/duckdb/billing_export_daily.sql with the request's parameters. */
function exportClient(connection: DuckDBConnection, requests: Query[]) {
  const value = (v: DuckDBValue): unknown =>
    v instanceof DuckDBDateValue
      ? { value: v.toString() }
      : v instanceof DuckDBTimestampTZValue
        ? { value: new Date(Number(v.micros / 1000n)).toISOString() }
        : v instanceof DuckDBDecimalValue
          ? v.toString()
          : v;
  return {
    async query(request: Query) {
      requests.push(request);
      const params = request.params as Record<string, string | Date | null>;
      const prepared = await connection.prepare(
        loadSql("duckdb", "billing_export_daily", { table: "billing_export" }),
      );
      for (let p = 1; p <= prepared.parameterCount; p++) {
        const param = params[prepared.parameterName(p)];
        if (param === null || param === undefined) prepared.bindNull(p);
        else prepared.bindVarchar(p, param instanceof Date ? param.toISOString() : param);
      }
      const rows = (await prepared.runAndReadAll()).getRowObjects();
      return [rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, value(v)])))];
    },
  } as never;
}

// --- Cost Explorer: the AWS CLI's documented answer (SERVICE and TAG Environment) as DAY's page,
// with AmortizedCost next to UnblendedCost as our request asks for both.

function costExplorerPage(): GetCostAndUsageCommandOutput {
  const page = JSON.parse(
    readFileSync(
      new URL("../fixtures/billing/get-cost-and-usage.monthly-groupby-service-tag.json", import.meta.url),
      "utf8",
    ),
  ) as GetCostAndUsageCommandOutput;
  const amortized = ["38.1", "0.2682364644"];
  for (const result of page.ResultsByTime ?? []) {
    result.TimePeriod = { Start: DAY, End: "2026-11-21" };
    (result.Groups ?? []).forEach((group, i) => {
      group.Metrics = { ...group.Metrics, AmortizedCost: { Amount: amortized[i] ?? "0", Unit: "USD" } };
    });
  }
  return page;
}

describe("reconcileDaily with the billing export and Cost Explorer", () => {
  const ce = mockClient(CostExplorerClient);
  const settings = reconciliationSettings({ minAbsoluteDrift: "1" });
  let warehouse: Warehouse;
  let store: ReconciliationStore;
  let exportConnection: DuckDBConnection;
  const exportRequests: Query[] = [];
  const bus = createMemoryBus({ logger: silentLogger });
  const claims = createMemoryAlertClaims();
  const posted: { channel: string; message: SlackMessage }[] = [];

  beforeAll(async () => {
    warehouse = createDuckDbWarehouse({ path: ":memory:" });
    await warehouse.init();
    store = createWarehouseReconciliationStore({ sql: warehouse.sql });
    exportConnection = await billingExport();
    ce.on(GetCostAndUsageCommand).resolves(costExplorerPage());
    const gcp = (team: string, namespace: string) => ({ cloud: "gcp", team, namespace });
    await rollUp(warehouse, [
      estimate(DAY, gcp("prod", "chocolate-masher"), "6.5"),
      estimate(DAY, gcp("prod", "grapefruit-squeezer"), "8"),
      estimate(DAY, gcp("dev", "chocolate-masher"), "2"),
      estimate(DAY, gcp("dev", "grapefruit-squeezer"), "3.3"),
      estimate(DAY, gcp("prod", "orphan"), "1.5"),
      estimate(
        DAY,
        { cloud: "aws", team: "Dev", namespace: null, instance_type: "g4dn.xlarge", accelerator: null },
        "0.25",
      ),
      estimate(DAY, { cloud: null, provider: "openai", accelerator: null, instance_type: null }, "5"),
    ]);
    const notifyAlert = createNotifyAlert({
      notifier: {
        async post(channel, message) {
          posted.push({ channel, message });
          return { channel, ts: String(posted.length) };
        },
        async update(channel, ts) {
          return { channel, ts };
        },
      },
      alertLog: createMemoryAlertLog(),
      routing: parseAlertRouting({ fallbackChannel: "#finops-alerts" }),
      logger: silentLogger,
      clock: fixedClock(NOW),
    });
    await bus.subscribe(TOPICS.alerts, "notify-slack", async (m) => {
      await notifyAlert.notifyMessage(m.data);
    });
  });

  afterAll(async () => {
    ce.restore();
    exportConnection.closeSync();
    await bus.close();
    await warehouse.close();
  });

  function reconciler() {
    const sources: NamedBillingSource[] = [
      {
        name: "gcp-billing-export",
        source: createGcpBillingExportBillingSource({
          client: exportClient(exportConnection, exportRequests),
          table: "billing-project.billing.gcp_billing_export_resource_v1_ABCDEF",
          ownerMapping: ownerMapping({ keys: { namespace: ["app"], team: ["environment"] } }),
        }),
      },
      {
        name: "aws-cost-explorer",
        source: createAwsCostExplorerBillingSource({
          client: new CostExplorerClient({ region: "us-east-1" }),
          billingAccountId: "123456789012",
          groupByTag: "Environment",
          ownerMapping: ownerMapping({ keys: { team: ["Environment"] } }),
        }),
      },
    ];
    return createReconcileDaily({
      store,
      sources,
      bus,
      claims,
      clock: fixedClock(NOW),
      settings,
      logger: silentLogger,
    });
  }

  it("reconciles the day's estimates to the expected drift table, alerting once per scope past 10%", async () => {
    const result = await reconciler().reconcile();
    await bus.drain();

    expect(result.days.map((d) => [d.day, d.settled])).toEqual(
      ["2026-11-15", "2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21"].map(
        (d) => [d, true],
      ),
    );
    expect(result.imported).toEqual([
      { source: "gcp-billing-export", lines: 7, period: { start: "2026-11-15", end: "2026-11-22" } },
      { source: "aws-cost-explorer", lines: 2, period: { start: "2026-11-15", end: "2026-11-22" } },
    ]);
    // One query per source for the whole window, each over its days.
    expect(ce.commandCalls(GetCostAndUsageCommand)).toHaveLength(1);
    expect(ce.commandCalls(GetCostAndUsageCommand)[0]?.args[0].input.TimePeriod).toEqual({
      Start: "2026-11-15",
      End: "2026-11-22",
    });
    expect(exportRequests[0]?.params).toMatchObject({ start_date: "2026-11-15", end_date: "2026-11-22" });

    const day = result.days.find((d) => d.day === DAY);
    expect(
      day?.rows.map((r) => [r.label, r.status, r.estimated, r.billed, r.drift, r.relativePercent]),
    ).toEqual([
      ["cloud=aws,namespace=-,team=-", "unattributed", 0n, u("38.1"), u("38.1"), "100.00"],
      ["cloud=gcp,namespace=-,team=-", "unattributed", 0n, u("4"), u("4"), "100.00"],
      ["cloud=gcp,namespace=orphan,team=prod", "over-estimated", u("1.5"), 0n, u("-1.5"), null],
      ["cloud=gcp,namespace=chocolate%2Dmasher,team=prod", "matched", u("6.5"), u("7"), u("0.5"), "7.14"],
      [
        "cloud=gcp,namespace=grapefruit%2Dsqueezer,team=dev",
        "matched",
        u("3.3"),
        u("3"),
        u("-0.3"),
        "-10.00",
      ],
      ["cloud=aws,namespace=-,team=Dev", "matched", u("0.25"), u("0.2682364644"), u("0.0182364644"), "6.80"],
      ["cloud=gcp,namespace=chocolate%2Dmasher,team=dev", "matched", u("2"), u("2"), 0n, "0.00"],
      ["cloud=gcp,namespace=grapefruit%2Dsqueezer,team=prod", "matched", u("8"), u("8"), 0n, "0.00"],
    ]);
    // The provider API call has no cloud: no bill to compare it with, so it is not in the table.
    expect(day?.totals).toMatchObject({ estimated: u("21.55"), billed: u("62.3682364644") });
    expect(day?.factors).toEqual([]);

    // Scopes are (cloud, team): gcp/prod drifts -6.25% and gcp/dev -5.66%, under 10%; the untagged
    // bill of each cloud is all drift. Two alerts, each posted once.
    expect(result.published.map((p) => p.key).sort()).toEqual([
      "reconcile:2026-11-20:cloud=aws,team=-",
      "reconcile:2026-11-20:cloud=gcp,team=-",
    ]);
    expect(posted.map((p) => p.channel)).toEqual(["#finops-alerts", "#finops-alerts"]);
    expect(JSON.stringify(posted[0]?.message)).toMatch(/Reconciliation drift 100\.00% on 2026-11-20/);
  });

  it("changes nothing on a re-run: the same rows and bill, no second alert", async () => {
    const period = { start: "2026-11-15", end: "2026-11-22" };
    const rowsBefore = await store.reconciliationRows(period);
    const billBefore = await store.billedLines(period);

    const again = await reconciler().reconcile();
    await bus.drain();

    expect(again.published).toEqual([]);
    expect(again.alreadySent).toBe(2);
    expect(posted).toHaveLength(2);
    const strip = (rows: typeof rowsBefore) => rows.map(({ reconciledAt: _, ...row }) => row);
    expect(strip(await store.reconciliationRows(period))).toEqual(strip(rowsBefore));
    expect(rowsBefore).toHaveLength(8);
    expect(await store.billedLines(period)).toEqual(billBefore);
  });

  it("shows estimated, reconciled and billed per day and team", async () => {
    const view = createReconciliationView({ store });
    const rows = await view({ from: DAY, to: "2026-11-21", by: "team" });
    expect(rows.map((r) => [r.value, r.estimated, r.reconciled, r.billed, r.drift])).toEqual([
      ["Dev", u("0.25"), u("0.25"), u("0.2682364644"), u("0.0182364644")],
      ["dev", u("5.3"), u("5.3"), u("5"), u("-0.3")],
      ["prod", u("16"), u("16"), u("15"), u("-1")],
      [null, 0n, 0n, u("42.1"), u("42.1")],
    ]);
    await expect(view({ from: DAY, to: DAY })).rejects.toThrow(/^to: must be after from/);
  });
});

/** An in-memory warehouse and its reconciliation store, closed after `use`. */
async function withStore(use: (warehouse: Warehouse, store: ReconciliationStore) => Promise<void>) {
  const warehouse = createDuckDbWarehouse({ path: ":memory:" });
  try {
    await warehouse.init();
    await use(warehouse, createWarehouseReconciliationStore({ sql: warehouse.sql }));
  } finally {
    await warehouse.close();
  }
}

/** A FOCUS file imported as `finops billing import` does. */
function importFocusFile(store: ReconciliationStore, file: string) {
  return createImportBill({
    store,
    clock: fixedClock(NOW),
    readBill: (path) => readFocusFile(path),
    ownerMapping: DEFAULT_OWNER_MAPPING,
  }).importFile(file);
}

/** reconcileDaily over the stored bill alone (no source to pull), drift alerts out of reach. */
function reconcileStored(store: ReconciliationStore, days: string[]) {
  return createReconcileDaily({
    store,
    sources: [],
    bus: createMemoryBus({ logger: silentLogger }),
    claims: createMemoryAlertClaims(),
    clock: fixedClock(NOW),
    settings: reconciliationSettings({ minAbsoluteDrift: "1000" }),
  }).reconcile({ days });
}

describe("calibration from a FOCUS bill imported by file", () => {
  const dir = mkdtempSync(join(tmpdir(), "finops-calibration-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("learns each family's price from the days before and cuts the next day's drift", async () => {
    await withStore(async (warehouse, store) => {
      const days = ["2026-11-17", "2026-11-18", "2026-11-19", DAY];
      // Requests priced by the catalog; the bill charges search's A100s about 5% more and ads' L4s 2% less.
      const search = { cloud: "gcp", team: "search", namespace: "search", accelerator: "nvidia-tesla-a100" };
      const ads = { cloud: "gcp", team: "ads", namespace: "ads", accelerator: "nvidia-l4" };
      await rollUp(
        warehouse,
        days.flatMap((day) => [
          estimate(day, search, day === DAY ? "200" : "100"),
          estimate(day, ads, "50", 11),
        ]),
      );
      const billed: Record<string, [string, string]> = {
        "2026-11-17": ["105", "49"],
        "2026-11-18": ["106", "49"],
        "2026-11-19": ["105", "49"],
        [DAY]: ["210", "49"],
      };
      const line = (day: string, team: string, usd: string): BilledLine => ({
        ChargePeriodStart: day,
        ChargePeriodEnd: addDays(day, 1),
        ChargeCategory: "Usage",
        ChargeClass: null,
        ChargeFrequency: null,
        ProviderName: "Google Cloud",
        BillingAccountId: "01A2B3-C4D5E6-F7A8B9",
        SubAccountId: "ml-prod",
        ServiceName: "Compute Engine",
        BilledCost: u(usd),
        EffectiveCost: u(usd),
        BillingCurrency: "USD",
        Tags: { "k8s-namespace": team, team },
        x_namespace: team,
        x_team: team,
        x_model: null,
        x_cost_center: null,
        x_environment: null,
      });
      const lines = days.flatMap((day) => {
        const [a100, l4] = billed[day] ?? ["0", "0"];
        return [line(day, "search", a100), line(day, "ads", l4)];
      });
      const file = join(dir, "gcp-november.csv");
      writeFileSync(file, formatFocusCsv(lines));
      const imported = await importFocusFile(store, file);
      expect(imported).toEqual({
        source: "gcp-november.csv",
        lines: 8,
        period: { start: "2026-11-17", end: "2026-11-21" },
        currencies: { USD: 8 },
        attribution: [{ currency: "USD", usage: u("722"), attributed: u("722"), unmappedKeys: [] }],
      });

      const result = await reconcileStored(store, days);

      const [, , third, fourth] = result.days;
      // Two billed days before 2026-11-19: fewer than minDays (3), no factor yet.
      expect(third?.factors).toEqual([]);
      // DAY learns from the three days before it, never from itself: 316 / 300 and 147 / 150.
      expect(fourth?.factors.map((f) => [f.family, f.factor, f.days.length])).toEqual([
        ["nvidia-l4", ratio(49n, 50n), 3],
        ["nvidia-tesla-a100", ratio(79n, 75n), 3],
      ]);
      expect(fourth?.rows.map((r) => [r.label, r.estimated, r.reconciled, r.billed])).toEqual([
        ["cloud=gcp,namespace=search,team=search", u("200"), u("210.666666667"), u("210")],
        ["cloud=gcp,namespace=ads,team=ads", u("50"), u("49"), u("49")],
      ]);
      // Key by key, the estimate was 11 USD off the bill; calibrated, 0.67.
      expect(fourth?.totals).toMatchObject({ absDrift: u("11"), absReconciledDrift: u("0.666666667") });
      const stored = await store.calibrationFactors({ start: DAY, end: "2026-11-21" });
      expect(stored.map((f) => [f.family, f.factor, f.daysUsed])).toEqual([
        ["nvidia-l4", { num: 49n, den: 50n }, 3],
        ["nvidia-tesla-a100", { num: 79n, den: 75n }, 3],
      ]);
    });
  });
});

describe("a bill line naming a node pool", () => {
  const dir = mkdtempSync(join(tmpdir(), "finops-node-pool-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is matched to the teams running on it, split by their estimates to the nano", async () => {
    await withStore(async (warehouse, store) => {
      // Two teams share the cluster's L4 pool (GKE's node pool label on their events); a third runs
      // on its A100 pool.
      const onPool = (team: string, pool: string) => ({
        cloud: "gcp",
        team,
        namespace: team,
        accelerator: pool === "l4-pool" ? "nvidia-l4" : "nvidia-tesla-a100",
        labels: { cluster: "serving", "cloud.google.com/gke-nodepool": pool },
      });
      await rollUp(warehouse, [
        estimate(DAY, onPool("search", "l4-pool"), "30"),
        estimate(DAY, onPool("ads", "l4-pool"), "10", 11),
        estimate(DAY, onPool("vision", "a100-pool"), "50", 12),
      ]);
      // The pool's usage as the Cloud Billing export has it: cluster and node pool labels, no owner.
      const pool: BilledLine = {
        ChargePeriodStart: DAY,
        ChargePeriodEnd: addDays(DAY, 1),
        ChargeCategory: "Usage",
        ChargeClass: null,
        ChargeFrequency: "Usage-Based",
        ProviderName: "Google Cloud",
        BillingAccountId: "01A2B3-C4D5E6-F7A8B9",
        SubAccountId: "ml-prod",
        ServiceName: "Compute Engine",
        ResourceId: "//compute.googleapis.com/projects/ml-prod/zones/us-central1-a/instanceGroups/l4-pool",
        BilledCost: u("41.000000001"),
        EffectiveCost: u("41.000000001"),
        BillingCurrency: "USD",
        Tags: { "goog-k8s-cluster-name": "serving", "goog-k8s-node-pool-name": "l4-pool" },
        x_namespace: null,
        x_team: null,
        x_model: null,
        x_cost_center: null,
        x_environment: null,
      };
      const vision: BilledLine = {
        ...pool,
        BilledCost: u("50"),
        EffectiveCost: u("50"),
        Tags: { "k8s-namespace": "vision", team: "vision" },
        x_namespace: "vision",
        x_team: "vision",
      };
      const file = join(dir, "gcp-pools.csv");
      writeFileSync(file, formatFocusCsv([pool, vision]));
      await importFocusFile(store, file);

      const result = await reconcileStored(store, [DAY]);

      // 41.000000001 over 30 : 10 is 30.75000000075 and 10.25000000025: the odd nano goes to the
      // larger remainder.
      expect(result.days[0]?.rows.map((r) => [r.label, r.status, r.estimated, r.billed])).toEqual([
        ["cloud=gcp,namespace=search,team=search", "matched", u("30"), u("30.750000001")],
        ["cloud=gcp,namespace=ads,team=ads", "matched", u("10"), u("10.25")],
        ["cloud=gcp,namespace=vision,team=vision", "matched", u("50"), u("50")],
      ]);
      expect(result.days[0]?.totals.counts).toEqual({ matched: 3, unattributed: 0, "over-estimated": 0 });
    });
  });
});
