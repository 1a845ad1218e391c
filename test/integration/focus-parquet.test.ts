import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFocusFile } from "#adapters/focus-file/focus-file-billing-source.ts";
import { BillingSourceError } from "#ports/billing-source.ts";

// A FOCUS export as Parquet (what FinOps tools and the clouds' FOCUS exports write): typed columns,
// timestamps with a time zone, exact decimals and Tags as a MAP, made here by DuckDB's COPY.
const dir = mkdtempSync(join(tmpdir(), "finops-focus-parquet-"));
const file = join(dir, "bill.parquet");

beforeAll(async () => {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  await connection.run(`COPY (
    SELECT * FROM (VALUES
      (TIMESTAMPTZ '2026-11-20 10:00:00+00', TIMESTAMPTZ '2026-11-20 11:00:00+00', 'Acme DC', 'acct-1', NULL,
       'GPU Hosting', 'h100-hour', CAST('3.500000001' AS DECIMAL(38, 9)), CAST('3.25' AS DECIMAL(38, 9)), 'USD',
       MAP {'k8s-namespace': 'search', 'team': 'search-ranking'}),
      (TIMESTAMPTZ '2026-11-20 11:00:00+00', TIMESTAMPTZ '2026-11-20 12:00:00+00', 'Acme DC', 'acct-1', NULL,
       'GPU Hosting', 'h100-hour', CAST('1.5' AS DECIMAL(38, 9)), CAST('1.25' AS DECIMAL(38, 9)), 'USD',
       MAP {'k8s-namespace': 'search', 'team': 'search-ranking'})
    ) AS t(ChargePeriodStart, ChargePeriodEnd, ProviderName, BillingAccountId, SubAccountId, ServiceName,
           SkuId, BilledCost, EffectiveCost, BillingCurrency, Tags)
  ) TO '${file}' (FORMAT parquet)`);
  connection.closeSync();
  instance.closeSync();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("readFocusFile on FOCUS Parquet", () => {
  it("reads the typed columns exactly and sums a resource's hours into its day", async () => {
    expect(await readFocusFile(file)).toEqual([
      {
        ChargePeriodStart: "2026-11-20",
        ChargePeriodEnd: "2026-11-21",
        ChargeCategory: "Usage",
        ChargeClass: null,
        ChargeFrequency: null,
        ProviderName: "Acme DC",
        BillingAccountId: "acct-1",
        SubAccountId: null,
        ServiceName: "GPU Hosting",
        SkuId: "h100-hour",
        BilledCost: 5_000_000_001n,
        EffectiveCost: 4_500_000_000n,
        BillingCurrency: "USD",
        Tags: { "k8s-namespace": "search", team: "search-ranking" },
        x_namespace: "search",
        x_team: "search-ranking",
        x_model: null,
        x_cost_center: null,
        x_environment: null,
      },
    ]);
  });

  it("names the file it cannot read", async () => {
    const missing = join(dir, "missing.parquet");
    const error = await readFocusFile(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BillingSourceError);
    expect((error as BillingSourceError).message).toContain(missing);
  });
});
