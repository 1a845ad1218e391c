import type { BigQuery, Query } from "@google-cloud/bigquery";
import { describe, expect, it } from "vitest";
import {
  billedLineOfExportRow,
  createGcpBillingExportBillingSource,
} from "#adapters/gcp-billing-export/gcp-billing-export-billing-source.ts";

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

describe("GCP billing export billing source", () => {
  it("runs billing_export_daily with typed parameters and maps rows to billed lines", async () => {
    const requests: Query[] = [];
    const source = createGcpBillingExportBillingSource({
      client: fakeClient(
        [
          {
            charge_day: { value: "2024-09-10" },
            billing_account_id: "ABCDEF-123456-7890AB",
            project_id: "ml-prod",
            service_name: "Compute Engine",
            sku_id: "2E27-4F75-95CD",
            currency: "USD",
            x_namespace: "training",
            x_team: "research",
            x_model: null,
            cost: numeric("12.345678901"),
            credits: numeric("-2.000000001"),
            net_cost: numeric("10.3456789"),
          },
        ],
        requests,
      ),
      table: "billing-proj.billing.gcp_billing_export_resource_v1_ABCDEF_123456_7890AB",
      invoiceMonth: "202409",
    });

    const lines = await source.billedLines({ start: "2024-09-10", end: "2024-09-11" });

    expect(lines).toEqual([
      {
        ChargePeriodStart: "2024-09-10",
        ChargePeriodEnd: "2024-09-11",
        ProviderName: "Google Cloud",
        BillingAccountId: "ABCDEF-123456-7890AB",
        SubAccountId: "ml-prod",
        ServiceName: "Compute Engine",
        SkuId: "2E27-4F75-95CD",
        BilledCost: 10_345_678_900n,
        EffectiveCost: 10_345_678_900n,
        BillingCurrency: "USD",
        Tags: { "k8s-namespace": "training", team: "research" },
        x_namespace: "training",
        x_team: "research",
        x_model: null,
      },
    ]);
    const [request] = requests;
    expect(request?.query).toContain(
      "FROM `billing-proj.billing.gcp_billing_export_resource_v1_ABCDEF_123456_7890AB`",
    );
    expect(request?.params).toEqual({
      start_date: "2024-09-10",
      end_date: "2024-09-11",
      partition_end: new Date("2024-09-18T00:00:00Z"),
      invoice_month: "202409",
      namespace_label_key: "k8s-namespace",
      team_label_key: "team",
      model_label_key: "model",
    });
    expect(request?.types).toMatchObject({
      start_date: "DATE",
      partition_end: "TIMESTAMP",
      invoice_month: "STRING",
    });
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

  it("rejects a row whose net cost is a float (the nanos are already lost)", () => {
    expect(() =>
      billedLineOfExportRow({
        charge_day: "2024-09-10",
        billing_account_id: "a",
        service_name: "s",
        currency: "USD",
        net_cost: 0.1,
      }),
    ).toThrow(expect.objectContaining({ code: "invalid" }));
  });
});
