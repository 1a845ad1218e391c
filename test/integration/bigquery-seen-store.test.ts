import type { BigQuery } from "@google-cloud/bigquery";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createBigQuerySeenStore } from "#adapters/bigquery-seen-store/bigquery-seen-store.ts";
import { SeenStoreError } from "#ports/seen-store.ts";
import { apiError, type FakeBigQueryApi, fakeApiClient, startFakeBigQueryApi } from "./fake-bigquery-api.ts";

describe("BigQuery seen-store against a fake BigQuery API", () => {
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

  const body = (i: number) =>
    api.of("jobs.query")[i]?.body as {
      query: string;
      queryParameters?: Array<{
        name: string;
        parameterType: { type: string };
        parameterValue: { value: string };
      }>;
    };

  it("creates its table once, claims in one transaction and reads the previous value exactly", async () => {
    api.onQuery("seen_keys_claim", {
      fields: [{ name: "previous", type: "STRING" }],
      rows: [["9007199254740993"]],
    });
    const seen = createBigQuerySeenStore({ client, dataset: "finops-test.finops" });

    expect(await seen.claim("gcp-budget:b:2026-11-01T07:00:00Z:actual", 1_000_000_000n)).toBe(
      9_007_199_254_740_993n,
    );
    api.onQuery("seen_keys_claim", { fields: [{ name: "previous", type: "STRING" }], rows: [[null]] });
    expect(await seen.claim("sns:m-1", 1n)).toBeUndefined();

    expect(body(0).query).toContain("CREATE TABLE IF NOT EXISTS `finops-test.finops.seen_keys`");
    expect(body(1).query).toContain("BEGIN TRANSACTION");
    const params = Object.fromEntries(
      (body(1).queryParameters ?? []).map((p) => [p.name, [p.parameterType.type, p.parameterValue.value]]),
    );
    expect(params.key).toEqual(["STRING", "gcp-budget:b:2026-11-01T07:00:00Z:actual"]);
    expect(params.value).toEqual(["INT64", "1000000000"]);
    expect(api.of("jobs.query")).toHaveLength(3);
  });

  it("releases a claim by restoring or forgetting, and names a transient failure", async () => {
    const seen = createBigQuerySeenStore({ client, dataset: "finops-test.finops" });
    await seen.release("k", 5n, 3n);
    await seen.release("k", 5n, undefined);
    expect(body(1).query).toContain("UPDATE");
    expect(body(2).query).toContain("DELETE");

    api.script("jobs.query", apiError(503, "backendError", "try later"));
    const failure = await seen.release("k", 5n, undefined).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SeenStoreError);
    expect((failure as SeenStoreError).retryable).toBe(true);
  });
});
