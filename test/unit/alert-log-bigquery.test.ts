import { OAuth2Client } from "google-auth-library";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createBigQueryClient } from "#adapters/bigquery/bigquery-client.ts";
import { createBigQueryAlertLog } from "#adapters/bigquery-alert-log/bigquery-alert-log.ts";
import type { AlertLog } from "#ports/alert-log.ts";
import { apiError, type FakeBigQueryApi, startFakeBigQueryApi } from "../integration/fake-bigquery-api.ts";

// The BigQuery alert log through the real @google-cloud/bigquery client, against the local stand-in
// of the REST API: the SQL it sends, its typed parameters, and how it reads rows and faults.

const FIELDS = [
  "idempotency_key",
  "thread_key",
  "kind",
  "severity",
  "channel",
  "ts",
  "action",
  "routed_channel",
  "title",
  "team",
  "model",
  "business_unit",
].map((name) => ({ name, type: "STRING" }));

let api: FakeBigQueryApi;
let log: AlertLog;

beforeEach(async () => {
  api = await startFakeBigQueryApi();
  const client = createBigQueryClient({
    projectId: "finops-test",
    location: "EU",
    apiEndpoint: api.url,
    authClient: new OAuth2Client({
      credentials: { access_token: "test-token", expiry_date: Date.now() + 3_600_000 },
    }),
    retry: { maxRetries: 0 },
  });
  log = createBigQueryAlertLog({ client, dataset: "finops" });
});

afterEach(async () => {
  expect(api.unknown).toEqual([]);
  await log.close();
  await api.close();
});

const sent = () =>
  [...api.of("jobs.query"), ...api.of("jobs.insert")].map((r) => {
    const body = r.body as {
      query?: string;
      queryParameters?: unknown[];
      configuration?: { query: { query: string; queryParameters?: unknown[] } };
    };
    return body.configuration?.query ?? body;
  });

describe("BigQuery alert log", () => {
  it("creates its table in the dataset, and adds the title and scope columns to a table made before", async () => {
    await log.init();
    const query = sent()[0]?.query;
    expect(query).toMatch(/^CREATE TABLE IF NOT EXISTS `finops-test\.finops`\.alert_log/);
    expect(query).toMatch(
      /ALTER TABLE `finops-test\.finops`\.alert_log\s+ADD COLUMN IF NOT EXISTS title STRING,[\s\S]*ADD COLUMN IF NOT EXISTS business_unit STRING;/,
    );
  });

  it("records with MERGE and typed parameters, nulls included", async () => {
    api.onQuery("alert_log-record", { fields: [{ name: "inserted", type: "BOOLEAN" }], rows: [["true"]] });
    const recorded = await log.record({
      idempotency_key: "k1",
      kind: "budget.threshold",
      severity: "critical",
      title: "Budget nlp-monthly exceeded",
      scope: { team: "nlp" },
      channel: "C1H9RESGL",
      ts: "1503435956.000247",
      action: "posted",
      delivered_at: new Date("2026-11-20T10:00:00.123Z"),
    });
    expect(recorded).toBe(true);
    const [request] = sent();
    expect(request?.query).toContain("MERGE `finops-test.finops`.alert_log");
    expect(request?.queryParameters).toContainEqual({
      name: "delivered_at_ms",
      parameterType: { type: "INT64" },
      parameterValue: { value: "1795168800123" },
    });
    expect(request?.queryParameters).toContainEqual(
      expect.objectContaining({ name: "thread_key", parameterType: { type: "STRING" } }),
    );
    expect(request?.queryParameters).toContainEqual({
      name: "team",
      parameterType: { type: "STRING" },
      parameterValue: { value: "nlp" },
    });
    expect(request?.queryParameters).toContainEqual(
      expect.objectContaining({ name: "business_unit", parameterType: { type: "STRING" } }),
    );
  });

  it("reads a delivery back", async () => {
    api.onQuery("alert_log-find", {
      fields: [...FIELDS, { name: "delivered_at_ms", type: "INTEGER" }],
      rows: [
        [
          ...["k1", "t1", "aws.anomaly", "warning", "C1", "1.000001", "posted", null],
          ...["AWS anomaly", "nlp", null, "research", "1795168800123"],
        ],
      ],
    });
    expect(await log.find("k1")).toEqual({
      idempotency_key: "k1",
      thread_key: "t1",
      kind: "aws.anomaly",
      severity: "warning",
      channel: "C1",
      ts: "1.000001",
      action: "posted",
      routed_channel: undefined,
      title: "AWS anomaly",
      scope: { team: "nlp", business_unit: "research" },
      delivered_at: new Date("2026-11-20T10:00:00.123Z"),
    });
    expect(await log.findThread("none")).toBeUndefined();
  });

  it("lists recent deliveries with a bounded range and limit as INT64 parameters", async () => {
    // Prepare
    api.onQuery("alert_log-recent", {
      fields: [...FIELDS, { name: "delivered_at_ms", type: "INTEGER" }],
      rows: [
        [
          ...["k2", null, "budget.threshold", "critical", "C1", "2.000001", "posted", null],
          ...[null, null, null, null, "1795168800123"],
        ],
      ],
    });

    // Act
    const found = await log.recent({
      since: new Date("2026-11-01T00:00:00Z"),
      until: new Date("2026-12-01T00:00:00Z"),
      limit: 20,
    });

    // Assess
    expect(found.map((d) => [d.idempotency_key, d.severity, d.title, d.scope])).toEqual([
      ["k2", "critical", undefined, {}],
    ]);
    const [request] = sent();
    expect(request?.query).toMatch(/ORDER BY delivered_at DESC, ts DESC, idempotency_key\s+LIMIT @limit/);
    expect(request?.queryParameters).toContainEqual({
      name: "limit",
      parameterType: { type: "INT64" },
      parameterValue: { value: "20" },
    });
    expect(request?.queryParameters).toContainEqual({
      name: "since_ms",
      parameterType: { type: "INT64" },
      parameterValue: { value: String(Date.parse("2026-11-01T00:00:00Z")) },
    });
  });

  it("passes a 503 on as transient, a 400 as invalid", async () => {
    api.script("jobs.query", apiError(503, "backendError", "try later"));
    await expect(log.find("k1")).rejects.toMatchObject({ name: "AlertLogError", code: "unavailable" });
    api.script("jobs.query", apiError(400, "invalidQuery", "bad"));
    await expect(log.find("k1")).rejects.toMatchObject({ code: "invalid" });
  });
});
