import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import { createWarehouseReconciliationStore } from "#adapters/warehouse-reconciliation/warehouse-reconciliation-store.ts";
import { addDays } from "#domain/billing/billed-line.ts";
import type { CostRow } from "#domain/cost-row.ts";
import { decimalToNanos } from "#domain/money.ts";
import type { BilledDayLine } from "#domain/reconciliation/billed-day-line.ts";
import { reconcileDays } from "#domain/reconciliation/reconcile-days.ts";
import type { ReconciliationStore } from "#ports/reconciliation-store.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { costRow } from "../support/cost-row-builder.ts";

// The reconciliation store on the embedded warehouse (sql/duckdb/reconciliation.sql through its
// SqlRunner; the BigQuery twin is the same named queries, kept in step by test/unit/sql-twins.test.ts).

const u = decimalToNanos;
const DAY = "2026-11-20";
const at = (hour: number, minute = 0) => new Date(Date.UTC(2026, 10, 20, hour, minute));

let warehouse: Warehouse;
let store: ReconciliationStore;

beforeEach(async () => {
  warehouse = createDuckDbWarehouse({ path: ":memory:" });
  await warehouse.init();
  store = createWarehouseReconciliationStore({ sql: warehouse.sql, batchSize: 2 });
});

afterEach(async () => {
  await warehouse.close();
});

async function ingest(rows: CostRow[]): Promise<void> {
  await warehouse.insertEvents(rows);
  await warehouse.refreshHourly({ from: new Date(`${DAY}T00:00:00Z`), to: new Date("2026-11-22T00:00:00Z") });
}

const line = (over: Partial<BilledDayLine>): BilledDayLine => ({
  day: DAY,
  source: "gcp-billing-export",
  provider: "Google Cloud",
  billingAccountId: "01A2B3-C4D5E6-F7A8B9",
  subAccountId: "ml-prod",
  service: "Compute Engine",
  skuId: "sku-1",
  namespace: "search",
  team: "search-ranking",
  model: null,
  resourceId: null,
  chargeCategory: "Usage",
  chargeClass: null,
  chargeFrequency: null,
  chargeStartDay: DAY,
  chargeEndDay: addDays(DAY, 1),
  tags: {},
  costCenter: null,
  environment: null,
  billedCost: u("1.000000001"),
  effectiveCost: u("0.9"),
  currency: "USD",
  ...over,
});

describe("the daily estimates (estimates_daily)", () => {
  it("count each dollar once: allocations stand where they cover a namespace-hour's workloads", async () => {
    await ingest([
      // 10:00 in chat: the request estimates are covered by the cluster's allocation of that hour.
      costRow({
        event_time: at(10, 5),
        namespace: "chat",
        team: "chat",
        accelerator: "nvidia-a100-80gb",
        cost_nanos: u("3"),
      }),
      costRow({
        event_source: "//finops/collect-allocations",
        event_type: "ai.cost.allocation.v1",
        basis: "allocation",
        event_time: at(10),
        namespace: "chat",
        team: "chat",
        accelerator: null,
        instance_type: null,
        labels: { cluster: "serving", node: "gke-serving-a100-1" },
        cost_nanos: u("5"),
      }),
      // 11:00 in chat: no allocation, the estimate stands; an AWS one elsewhere, by instance type.
      // Each keeps the resource its labels name (GKE's node pool label is read as the node pool).
      costRow({
        event_time: at(11, 5),
        namespace: "chat",
        team: "chat",
        accelerator: "nvidia-a100-80gb",
        labels: { cluster: "serving", "cloud.google.com/gke-nodepool": "a100-pool" },
        cost_nanos: u("2"),
      }),
      costRow({
        event_time: at(11, 6),
        namespace: "search",
        team: "search",
        accelerator: null,
        instance_type: "p3.2xlarge",
        cloud: "aws",
        cost_nanos: u("7"),
      }),
      // An allocation that names no cloud cannot meet a bill: the estimate it covers stands instead.
      costRow({
        event_source: "//finops/collect-allocations",
        event_type: "ai.cost.allocation.v1",
        basis: "allocation",
        event_time: at(12),
        namespace: "notebooks",
        team: "unallocated",
        cloud: null,
        accelerator: null,
        instance_type: null,
        cost_nanos: u("4"),
      }),
      costRow({ event_time: at(12, 5), namespace: "notebooks", team: "lab", cost_nanos: u("1.25") }),
      // A provider API call has no cloud and no bill to reconcile against.
      costRow({
        event_time: at(12),
        cloud: null,
        accelerator: null,
        instance_type: null,
        provider: "openai",
        cost_nanos: u("9"),
      }),
      // The next day.
      costRow({
        event_time: new Date("2026-11-21T00:30:00Z"),
        namespace: "chat",
        team: "chat",
        cost_nanos: u("1"),
      }),
    ]);

    const estimates = await store.dailyEstimates({ start: DAY, end: "2026-11-22" });

    const row = (day: string, cloud: string, owner: string, family: string | null, usd: string) => ({
      day,
      cloud,
      namespace: owner,
      team: owner,
      family,
      cluster: null,
      nodePool: null,
      node: null,
      currency: "USD",
      nanos: u(usd),
    });
    expect(estimates).toEqual([
      row(DAY, "aws", "search", "p3.2xlarge", "7"),
      { ...row(DAY, "gcp", "chat", "nvidia-a100-80gb", "2"), cluster: "serving", nodePool: "a100-pool" },
      { ...row(DAY, "gcp", "chat", null, "5"), cluster: "serving", node: "gke-serving-a100-1" },
      { ...row(DAY, "gcp", "notebooks", "nvidia-l4", "1.25"), team: "lab" },
      row("2026-11-21", "gcp", "chat", "nvidia-l4", "1"),
    ]);
  });
});

describe("the stored bill", () => {
  it("replaces a source's days whole, in batches, and leaves other sources and days alone", async () => {
    const period = { start: DAY, end: "2026-11-22" };
    const first = [1, 2, 3, 4, 5].map((n) => line({ skuId: `sku-${n}` }));
    await store.replaceBilledLines("gcp-billing-export", period, first, at(12));
    await store.replaceBilledLines("focus", period, [line({ source: "focus", provider: "Acme DC" })], at(12));
    await store.replaceBilledLines(
      "gcp-billing-export",
      { start: "2026-11-19", end: DAY },
      [line({ day: "2026-11-19" })],
      at(12),
    );

    // The export changed after the fact: two lines now, where there were five.
    const again = [
      line({ skuId: "sku-1", billedCost: u("2") }),
      line({ skuId: "sku-9", namespace: null, team: null }),
    ];
    await store.replaceBilledLines("gcp-billing-export", period, again, at(13));

    const stored = await store.billedLines({ start: "2026-11-19", end: "2026-11-22" });
    expect(stored).toEqual([
      line({ day: "2026-11-19" }),
      line({ source: "focus", provider: "Acme DC" }),
      line({ skuId: "sku-1", billedCost: u("2") }),
      line({ skuId: "sku-9", namespace: null, team: null }),
    ]);
  });

  it("refuses a line outside the days it replaces", async () => {
    await expect(
      store.replaceBilledLines("s", { start: DAY, end: "2026-11-21" }, [line({ day: "2026-11-21" })], at(1)),
    ).rejects.toThrow(/outside the days replaced/);
  });

  it("keeps what each line is: charge category, class, frequency, the whole charge's days, resource, owner and tags", async () => {
    const period = { start: DAY, end: "2026-11-21" };
    const storage = line({
      resourceId: "projects/_/buckets/weights",
      chargeCategory: "Usage",
      chargeFrequency: "Recurring",
      chargeStartDay: "2026-11-01",
      chargeEndDay: "2026-12-01",
      costCenter: "cc-1",
      environment: "prod",
      tags: { owner: "search-ranking", "cost-center": "cc-1", environment: "prod" },
    });
    const purchase = line({
      skuId: "sku-cud",
      chargeCategory: "Purchase",
      chargeFrequency: "One-Time",
      namespace: null,
      team: null,
      effectiveCost: 0n,
    });
    const correction = line({
      skuId: "sku-fix",
      chargeClass: "Correction",
      billedCost: u("-1"),
      effectiveCost: u("-1"),
    });
    await store.replaceBilledLines("gcp-billing-export", period, [storage, purchase, correction], at(12));
    expect(await store.billedLines(period)).toEqual(
      [storage, correction, purchase].sort((a, b) => ((a.skuId ?? "") < (b.skuId ?? "") ? -1 : 1)),
    );
  });
});

describe("the stored reconciliation", () => {
  const reconcile = (billed: string) =>
    reconcileDays({
      days: ["2026-11-18", DAY],
      estimates: [
        {
          day: "2026-11-18",
          cloud: "gcp",
          namespace: "search",
          team: "search",
          family: "nvidia-l4",
          nanos: u("10"),
        },
        { day: DAY, cloud: "gcp", namespace: "search", team: "search", family: "nvidia-l4", nanos: u("20") },
        { day: DAY, cloud: "gcp", namespace: "x", team: "y", family: null, nanos: u("1") },
      ],
      billed: [
        { day: "2026-11-18", key: { cloud: "gcp", namespace: "search", team: "search" }, nanos: u("11") },
        { day: DAY, key: { cloud: "gcp", namespace: "search", team: "search" }, nanos: u(billed) },
        { day: DAY, key: { cloud: "gcp", namespace: null, team: null }, nanos: u("3") },
      ],
      keys: ["cloud", "namespace", "team"],
      calibration: { lookbackDays: 7, minDays: 1 },
    });

  it("replaces a day's rows and factors on a re-run, never adds to them", async () => {
    const [, first] = reconcile("21");
    if (!first) throw new Error("no day");
    await store.replaceDay(first, "USD", at(9));
    const [, second] = reconcile("22.5");
    if (!second) throw new Error("no day");
    await store.replaceDay(second, "USD", at(10));

    const rows = await store.reconciliationRows({ start: DAY, end: "2026-11-21" });
    expect(rows.map((r) => [r.label, r.status, r.estimated, r.reconciled, r.billed, r.drift])).toEqual([
      ["cloud=gcp,namespace=-,team=-", "unattributed", 0n, 0n, u("3"), u("3")],
      ["cloud=gcp,namespace=search,team=search", "matched", u("20"), u("22"), u("22.5"), u("2.5")],
      ["cloud=gcp,namespace=x,team=y", "over-estimated", u("1"), u("1"), 0n, u("-1")],
    ]);
    expect(rows[1]).toMatchObject({
      day: DAY,
      keys: ["cloud", "namespace", "team"],
      key: { cloud: "gcp", namespace: "search", team: "search" },
      currency: "USD",
      reconciledAt: at(10),
    });
    expect(await store.calibrationFactors({ start: DAY, end: "2026-11-21" })).toEqual([
      {
        learnedForDay: DAY,
        cloud: "gcp",
        family: "nvidia-l4",
        factor: { num: 11n, den: 10n },
        clamped: null,
        daysUsed: 1,
        estimated: u("10"),
        billed: u("11"),
      },
    ]);
  });
});
