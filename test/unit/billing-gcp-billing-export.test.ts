import type { BigQuery, Query } from "@google-cloud/bigquery";
import { describe, expect, it } from "vitest";
import {
  billedLinesOfExportRow,
  createGcpBillingExportBillingSource,
} from "#adapters/gcp-billing-export/gcp-billing-export-billing-source.ts";
import { ownerMapping } from "#domain/billing/owner-mapping.ts";

/** Big.js-like NUMERIC, as the BigQuery client returns it. */
const numeric = (text: string) => ({ toFixed: () => text });

function fakeClient(rows: unknown[], requests: Query[] = []): Pick<BigQuery, "query"> {
  return {
    query: (async (request: Query) => {
      requests.push(request);
      return [rows];
    }) as unknown as BigQuery["query"],
  };
}

const ts = (iso: string) => ({ value: iso });

/** A query row: an hour of Compute Engine with GKE cost allocation's labels and a credit. */
const hourRow = (over: Record<string, unknown> = {}) => ({
  charge_start: ts("2024-09-10T10:00:00.000Z"),
  charge_end: ts("2024-09-10T11:00:00.000Z"),
  billing_account_id: "ABCDEF-123456-7890AB",
  project_id: "ml-prod",
  service_name: "Compute Engine",
  sku_id: "2E27-4F75-95CD",
  cost_type: "regular",
  currency: "USD",
  labels: JSON.stringify([
    { key: "k8s-namespace", value: "training" },
    { key: "k8s-label/owner", value: "research" },
    { key: "goog-k8s-cluster-name", value: "ml" },
  ]),
  cost: numeric("12.345678901"),
  credits: numeric("-2.000000001"),
  ...over,
});

const owners = {
  x_namespace: "training",
  x_team: "research",
  x_model: null,
  x_cost_center: null,
  x_environment: null,
};

describe("GCP billing export billing source", () => {
  it("runs billing_export_daily with typed parameters; cost and credits are lines of their own", async () => {
    const requests: Query[] = [];
    const source = createGcpBillingExportBillingSource({
      client: fakeClient([hourRow()], requests),
      table: "billing-proj.billing.gcp_billing_export_resource_v1_ABCDEF_123456_7890AB",
      invoiceMonth: "202409",
    });

    const lines = await source.billedLines({ start: "2024-09-10", end: "2024-09-11" });

    const common = {
      ChargePeriodStart: "2024-09-10",
      ChargePeriodEnd: "2024-09-11",
      ChargeClass: null,
      ChargeFrequency: null,
      ProviderName: "Google Cloud",
      BillingAccountId: "ABCDEF-123456-7890AB",
      SubAccountId: "ml-prod",
      ServiceName: "Compute Engine",
      SkuId: "2E27-4F75-95CD",
      BillingCurrency: "USD",
      Tags: { "k8s-namespace": "training", "k8s-label/owner": "research", "goog-k8s-cluster-name": "ml" },
      ...owners,
    };
    expect(lines).toEqual([
      { ...common, ChargeCategory: "Usage", BilledCost: 12_345_678_901n, EffectiveCost: 12_345_678_901n },
      { ...common, ChargeCategory: "Credit", BilledCost: -2_000_000_001n, EffectiveCost: -2_000_000_001n },
    ]);
    const [request] = requests;
    expect(request?.query).toContain(
      "FROM `billing-proj.billing.gcp_billing_export_resource_v1_ABCDEF_123456_7890AB`",
    );
    expect(request?.params).toEqual({
      start_date: "2024-09-10",
      end_date: "2024-09-11",
      partition_start: new Date("2024-08-09T00:00:00Z"),
      partition_end: new Date("2024-09-18T00:00:00Z"),
      invoice_month: "202409",
    });
    expect(request?.types).toMatchObject({
      start_date: "DATE",
      partition_start: "TIMESTAMP",
      partition_end: "TIMESTAMP",
      invoice_month: "STRING",
    });
  });

  it("spreads a row over the days of its usage period, keeping the period's days inside the one asked", () => {
    // A month of storage, 30 days: 1/30 each day, the remainder nano to the earliest days.
    const month = hourRow({
      charge_start: ts("2024-09-01T00:00:00.000Z"),
      charge_end: ts("2024-10-01T00:00:00.000Z"),
      cost: numeric("30.000000002"),
      credits: numeric("0"),
    });
    const lines = billedLinesOfExportRow(month, { start: "2024-09-01", end: "2024-10-01" });
    expect(lines).toHaveLength(30);
    expect(lines.reduce((sum, l) => sum + l.BilledCost, 0n)).toBe(30_000_000_002n);
    expect(lines.slice(0, 3).map((l) => [l.ChargePeriodStart, l.BilledCost])).toEqual([
      ["2024-09-01", 1_000_000_001n],
      ["2024-09-02", 1_000_000_001n],
      ["2024-09-03", 1_000_000_000n],
    ]);
    expect(lines[0]).toMatchObject({ x_ChargeStartDay: "2024-09-01", x_ChargeEndDay: "2024-10-01" });
    const week = billedLinesOfExportRow(month, { start: "2024-09-10", end: "2024-09-17" });
    expect(week.map((l) => l.ChargePeriodStart)).toEqual([
      "2024-09-10",
      "2024-09-11",
      "2024-09-12",
      "2024-09-13",
      "2024-09-14",
      "2024-09-15",
      "2024-09-16",
    ]);
  });

  it("maps cost types to charge categories and reads owners through the configured mapping", () => {
    const [tax] = billedLinesOfExportRow(hourRow({ cost_type: "tax", credits: numeric("0") }), {
      start: "2024-09-10",
      end: "2024-09-11",
    });
    expect(tax).toMatchObject({ ChargeCategory: "Tax", ChargeClass: null });
    const [adjustment] = billedLinesOfExportRow(hourRow({ cost_type: "adjustment", credits: numeric("0") }), {
      start: "2024-09-10",
      end: "2024-09-11",
    });
    expect(adjustment).toMatchObject({ ChargeCategory: "Adjustment", ChargeClass: "Correction" });
    const [mapped] = billedLinesOfExportRow(
      hourRow({
        labels: JSON.stringify([{ key: "squad", value: "team-data" }]),
        credits: numeric("0"),
      }),
      { start: "2024-09-10", end: "2024-09-11" },
      ownerMapping({ keys: { team: ["squad"] }, values: { team: { "team-data": "data" } } }),
    );
    expect(mapped).toMatchObject({ x_team: "data", x_namespace: null });
  });

  it("refuses a table path that is not an identifier, and maps BigQuery failures to the port's codes", async () => {
    const injected = createGcpBillingExportBillingSource({
      client: fakeClient([]),
      table: "p.d.t` WHERE 1=1 --",
    });
    await expect(injected.billedLines({ start: "2024-09-10", end: "2024-09-11" })).rejects.toMatchObject({
      code: "invalid",
    });

    const failing = (error: Error) =>
      createGcpBillingExportBillingSource({
        client: { query: (async () => Promise.reject(error)) as unknown as BigQuery["query"] },
        table: "p.d.t",
      });
    const notFound = Object.assign(new Error("Not found: Table p:d.t"), {
      code: 404,
      errors: [{ reason: "notFound" }],
    });
    await expect(
      failing(notFound).billedLines({ start: "2024-09-10", end: "2024-09-11" }),
    ).rejects.toMatchObject({ code: "invalid" });
    const limited = Object.assign(new Error("rate"), {
      code: 403,
      errors: [{ reason: "rateLimitExceeded" }],
    });
    await expect(
      failing(limited).billedLines({ start: "2024-09-10", end: "2024-09-11" }),
    ).rejects.toMatchObject({ code: "unavailable" });
  });

  it("rejects a row whose cost is a float (the nanos are already lost)", () => {
    expect(() =>
      billedLinesOfExportRow(hourRow({ cost: 0.1 }), { start: "2024-09-10", end: "2024-09-11" }),
    ).toThrow(expect.objectContaining({ code: "invalid" }));
  });
});
