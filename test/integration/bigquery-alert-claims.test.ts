import type { BigQuery } from "@google-cloud/bigquery";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createBigQueryAlertClaims } from "#adapters/bigquery-alert-claims/bigquery-alert-claims.ts";
import { AlertClaimsError } from "#ports/alert-claims.ts";
import { apiError, type FakeBigQueryApi, fakeApiClient, startFakeBigQueryApi } from "./fake-bigquery-api.ts";

describe("BigQuery alert claims against a fake BigQuery API", () => {
  let api: FakeBigQueryApi;
  let client: BigQuery;

  beforeEach(async () => {
    api = await startFakeBigQueryApi();
    client = fakeApiClient(api);
  });
  afterEach(async () => {
    expect(api.unknown).toEqual([]);
    await api.close();
  });

  it("runs the MERGE with typed parameters and answers whose token the key holds", async () => {
    api.onQuery("alert_claims", { fields: [{ name: "claimed", type: "BOOLEAN" }], rows: [["true"]] });
    const claims = createBigQueryAlertClaims({ client, dataset: "finops-test.finops" });

    expect(await claims.claim("budget:nlp:2026-11-01:80")).toBe(true);

    const [request] = api.of("jobs.query");
    const body = request?.body as {
      query: string;
      queryParameters: Array<{ name: string; parameterType: { type: string } }>;
    };
    expect(body.query).toContain("MERGE `finops-test.finops.alert_claims`");
    expect(Object.fromEntries(body.queryParameters.map((p) => [p.name, p.parameterType.type]))).toEqual({
      claim_key: "STRING",
      claim_token: "STRING",
      claimed_at: "TIMESTAMP",
    });
  });

  it("answers false when another caller holds the key, and names a transient failure", async () => {
    api.onQuery("alert_claims", { fields: [{ name: "claimed", type: "BOOLEAN" }], rows: [["false"]] });
    const claims = createBigQueryAlertClaims({ client, dataset: "finops-test.finops" });
    expect(await claims.claim("k")).toBe(false);

    api.script("jobs.query", apiError(503, "backendError", "try later"));
    const failure = await claims.claim("k").catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AlertClaimsError);
    expect((failure as AlertClaimsError).retryable).toBe(true);
  });
});
