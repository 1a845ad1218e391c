import type { BigQuery } from "@google-cloud/bigquery";
import { OAuth2Client } from "google-auth-library";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createBigQueryClient } from "#adapters/bigquery/bigquery-client.ts";
import { costRowInsertId } from "#adapters/bigquery/bigquery-rows.ts";
import { createBigQueryWarehouse } from "#adapters/bigquery/bigquery-warehouse.ts";
import type { CostRow, RejectedRow } from "#domain/cost-row.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";
import {
  apiError,
  type FakeBigQueryApi,
  type RecordedRequest,
  startFakeBigQueryApi,
} from "./fake-bigquery-api.ts";

// The real @google-cloud/bigquery client against a local HTTP server speaking the REST API (no network).

const PROJECT = "finops-test";
const DATASET = "finops";
const HOUR = 3_600_000;
const T0 = new Date("2026-03-01T10:00:00.000Z");

function costRow(overrides: Partial<CostRow> = {}): CostRow {
  return {
    event_id: "evt-1",
    event_source: "//inference/llm-gateway",
    event_type: "ai.cost.inference.v1",
    part: 0,
    event_time: new Date("2026-03-01T10:15:30.250Z"),
    ingested_at: new Date("2026-03-01T10:15:31.000Z"),
    basis: "estimate",
    team: "search",
    model: "llama-3-70b",
    model_version: "2026-02",
    business_unit: "consumer",
    cost_center: "cc-42",
    namespace: "serving",
    environment: "prod",
    cloud: "gcp",
    region: "europe-west4",
    labels: { tenant: "acme" },
    instance_type: "g2-standard-8",
    accelerator: "nvidia-l4",
    pricing_model: "on_demand",
    provider: null,
    gpu_count: 1,
    gpu_seconds: 0.01,
    input_tokens: 812,
    cached_input_tokens: 0,
    output_tokens: 97,
    cache_hit: false,
    request_fingerprint: "fp-1",
    job_id: null,
    job_phase: null,
    epoch: null,
    elapsed_seconds: null,
    cost_nanos: 1_234n,
    currency: "USD",
    components: {},
    price_source: "catalog:2026-03-01",
    ...overrides,
  };
}

function rows(count: number, prefix = "evt"): CostRow[] {
  return Array.from({ length: count }, (_, i) =>
    costRow({ event_id: `${prefix}-${i}`, cost_nanos: BigInt(i) }),
  );
}

interface InsertAllBody {
  rows: { insertId: string; json: Record<string, unknown> }[];
}

const insertBody = (request: RecordedRequest | undefined) => request?.body as InsertAllBody;

interface QueryParameterBody {
  name: string;
  parameterType: { type: string };
  parameterValue: { value: string };
}

interface JobsQueryBody {
  query: string;
  location?: string;
  useLegacySql: boolean;
  parameterMode?: string;
  queryParameters?: QueryParameterBody[];
  labels?: Record<string, string>;
}

const queryBody = (request: RecordedRequest | undefined) => request?.body as JobsQueryBody;

const micros = (iso: string) => String(BigInt(new Date(iso).getTime()) * 1000n);

/** The insertAll requests to cost_events (each batch also streams its marks to ingest_marks). */
const insertsTo = (api: FakeBigQueryApi, table: string) =>
  api.of("insertAll").filter((r) => r.path.includes(`/tables/${table}/`));

/** The query name the adapter labels a jobs.query request with. */
const queryLabel = (request: RecordedRequest | undefined) => queryBody(request)?.labels?.query;

describe("BigQuery warehouse against a fake BigQuery API (REST, insertAll)", () => {
  let api: FakeBigQueryApi;
  let client: BigQuery;
  let warehouse: Warehouse;

  beforeEach(async () => {
    // Prepare
    api = await startFakeBigQueryApi();
    client = createBigQueryClient({
      projectId: PROJECT,
      location: "EU",
      apiEndpoint: api.url,
      // A fixed token: no metadata server, no key file. The client sends it as a Bearer header.
      authClient: new OAuth2Client({
        credentials: { access_token: "test-token", expiry_date: Date.now() + HOUR },
      }),
      // One quick retry, so a transient fault is visible without slowing the suite.
      retry: { maxRetries: 1, retryDelayMultiplier: 0.01, maxRetryDelaySeconds: 1, totalTimeoutSeconds: 10 },
    });
    // The insertAll writer (the Storage Write API's is tested in bigquery-storage-write.test.ts).
    warehouse = createBigQueryWarehouse({
      client,
      dataset: DATASET,
      partitionExpirationDays: 90,
      writeApi: "insert-all",
    });
  });

  const eventInserts = () => insertsTo(api, "cost_events");

  afterEach(async () => {
    expect(api.unknown).toEqual([]);
    await warehouse.close();
    await api.close();
    vi.unstubAllEnvs();
  });

  describe("insertEvents", () => {
    it("streams rows with insertId and json, NUMERIC as 9-decimal strings, TIMESTAMP in RFC 3339 UTC", async () => {
      // Act
      const result = await warehouse.insertEvents([
        costRow({
          cost_nanos: 3_060_000_000n,
          components: { gpu: 2_000_000_001n, cpu: -5n },
          labels: { tenant: "acme", tier: "gold" },
        }),
        costRow({ event_id: "evt-2", cost_nanos: 1n, model_version: null }),
      ]);

      // Assess
      expect(result).toEqual({
        inserted: 2,
        duplicates: 0,
        duplicateRows: new Set(),
        conflictRows: new Map(),
      });
      const [request] = eventInserts();
      expect(request?.path).toBe(
        `/bigquery/v2/projects/${PROJECT}/datasets/${DATASET}/tables/cost_events/insertAll`,
      );
      expect(request?.headers.authorization).toBe("Bearer test-token");
      const body = insertBody(request);
      expect(Object.keys(body)).toEqual(["rows"]);
      expect(body.rows).toHaveLength(2);
      const [first, second] = body.rows;
      expect(Object.keys(first ?? {}).sort()).toEqual(["insertId", "json"]);
      expect(first?.insertId).toMatch(/^[0-9a-f]{64}$/);
      expect(first?.json).toMatchObject({
        event_id: "evt-1",
        event_source: "//inference/llm-gateway",
        part: 0,
        event_time: "2026-03-01T10:15:30.250Z",
        ingested_at: "2026-03-01T10:15:31.000Z",
        cost: "3.060000000",
        currency: "USD",
        labels: '{"tenant":"acme","tier":"gold"}',
        components: '{"gpu":"2.000000001","cpu":"-0.000000005"}',
        gpu_seconds: 0.01,
        input_tokens: 812,
        cache_hit: false,
        provider: null,
      });
      expect(second?.json.cost).toBe("0.000000001");
      expect(second?.json.model_version).toBeNull();
      expect(typeof second?.json.cost).toBe("string");
    });

    it("batches 1,200 rows into 3 requests of at most 500", async () => {
      // Act
      const result = await warehouse.insertEvents(rows(1_200));

      // Assess
      expect(result).toEqual({
        inserted: 1_200,
        duplicates: 0,
        duplicateRows: new Set(),
        conflictRows: new Map(),
      });
      const sizes = eventInserts().map((r) => insertBody(r).rows.length);
      expect(sizes).toEqual([500, 500, 200]);
      const ids = eventInserts().flatMap((r) => insertBody(r).rows.map((row) => row.json.event_id));
      expect(ids).toEqual(rows(1_200).map((r) => r.event_id));
    });

    it("splits requests by size as well as by count", async () => {
      // Prepare
      const sized = createBigQueryWarehouse({
        client,
        dataset: DATASET,
        insertLimits: { maxRows: 500, maxBytes: 20_000 },
        writeApi: "insert-all",
      });
      const big = rows(30).map((r) => ({ ...r, request_fingerprint: "x".repeat(1_500) }));

      // Act
      await sized.insertEvents(big);

      // Assess
      const requests = eventInserts();
      expect(requests.length).toBeGreaterThan(1);
      for (const r of requests) expect(Buffer.byteLength(JSON.stringify(r.body))).toBeLessThanOrEqual(20_000);
      expect(requests.reduce((n, r) => n + insertBody(r).rows.length, 0)).toBe(30);
    });

    it("sends a repeat inside the batch once and counts it as a duplicate", async () => {
      // Act
      const result = await warehouse.insertEvents([
        costRow({ event_id: "a" }),
        costRow({ event_id: "b" }),
        costRow({ event_id: "a", ingested_at: new Date("2026-03-01T11:00:00Z") }),
        costRow({ event_id: "a", part: 1 }),
      ]);

      // Assess
      expect(result).toEqual({
        inserted: 3,
        duplicates: 1,
        duplicateRows: new Set([2]),
        conflictRows: new Map(),
      });
      const sent = insertBody(eventInserts()[0]).rows.map((r) => [r.json.event_id, r.json.part]);
      expect(sent).toEqual([
        ["a", 0],
        ["b", 0],
        ["a", 1],
      ]);
    });

    it("keeps insertIds stable across retries and redeliveries", async () => {
      // Act: the same events delivered twice, the second time with a later ingest time.
      await warehouse.insertEvents(rows(3));
      await warehouse.insertEvents(
        rows(3).map((r) => ({ ...r, ingested_at: new Date("2026-03-02T00:00:00Z") })),
      );

      // Assess
      const [first, second] = eventInserts().map((r) => insertBody(r).rows.map((row) => row.insertId));
      expect(second).toEqual(first);
      expect(new Set(first).size).toBe(3);
      expect(first?.[0]).toBe(
        costRowInsertId({ event_source: "//inference/llm-gateway", event_id: "evt-0", part: 0 }),
      );
    });

    it("retries a 503 once and succeeds with the same request", async () => {
      // Prepare
      api.script("insertAll", apiError(503, "backendError", "Backend error"));

      // Act
      const result = await warehouse.insertEvents(rows(2));

      // Assess
      expect(result.inserted).toBe(2);
      const [failed, retried] = eventInserts();
      expect(eventInserts()).toHaveLength(2);
      expect(retried?.body).toEqual(failed?.body);
    });

    it("gives up after the short retry budget with WarehouseError unavailable", async () => {
      // Prepare
      api.script(
        "insertAll",
        apiError(503, "backendError", "Backend error"),
        apiError(503, "backendError", "Backend error"),
      );

      // Act
      const error = await warehouse.insertEvents(rows(1)).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(WarehouseError);
      expect(error).toMatchObject({ code: "unavailable" });
      expect((error as Error).cause).toBeDefined();
      expect(eventInserts()).toHaveLength(2);
    });

    it("turns a 400 into WarehouseError invalid without retrying", async () => {
      // Prepare
      api.script("insertAll", apiError(400, "invalid", "No such field: colour."));

      // Act
      const error = await warehouse.insertEvents(rows(1)).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(WarehouseError);
      expect(error).toMatchObject({ code: "invalid" });
      expect((error as Error).message).toContain("No such field: colour.");
      expect(eventInserts()).toHaveLength(1);
    });

    it("names the row and field of a partial failure, without resending", async () => {
      // Prepare: BigQuery refuses row 1's cost and stops the rest of the request.
      api.script("insertAll", {
        status: 200,
        body: {
          kind: "bigquery#tableDataInsertAllResponse",
          insertErrors: [
            { index: 0, errors: [{ reason: "stopped", location: "", message: "" }] },
            {
              index: 1,
              errors: [{ reason: "invalid", location: "cost", message: "Invalid NUMERIC value: 1e40" }],
            },
            { index: 2, errors: [{ reason: "stopped", location: "", message: "" }] },
          ],
        },
      });

      // Act
      const error = await warehouse
        .insertEvents([
          costRow({ event_id: "a" }),
          costRow({ event_id: "a" }),
          costRow({ event_id: "b" }),
          costRow({ event_id: "c" }),
        ])
        .catch((e: unknown) => e);

      // Assess: row 1 of the request is the caller's rows[2] (rows[1] was a repeat).
      expect(error).toBeInstanceOf(WarehouseError);
      expect(error).toMatchObject({ code: "invalid" });
      expect((error as Error).message).toContain("rows[2] (//inference/llm-gateway, b, 0).cost");
      expect((error as Error).message).toContain("Invalid NUMERIC value");
      expect(eventInserts()).toHaveLength(1);
    });

    it("sends again the rows of a request refused for transient reasons, and stores them", async () => {
      // Prepare
      const timeout = {
        status: 200,
        body: {
          insertErrors: [{ index: 1, errors: [{ reason: "timeout", location: "", message: "Timed out" }] }],
        },
      };
      api.script("insertAll", timeout);

      // Act
      const result = await warehouse.insertEvents(rows(2));

      // Assess: only the refused row went again, with its insertId; then the marks.
      expect(result.inserted).toBe(2);
      const [first, again] = eventInserts().map((r) => insertBody(r).rows.map((row) => row.json.event_id));
      expect(first).toEqual(["evt-0", "evt-1"]);
      expect(again).toEqual(["evt-1"]);
      expect(insertsTo(api, "ingest_marks")).toHaveLength(1);
    });

    it("fails as unavailable, writing no mark, when transient refusals outlast its retries", async () => {
      // Prepare
      const timeout = {
        status: 200,
        body: {
          insertErrors: [{ index: 0, errors: [{ reason: "timeout", location: "", message: "Timed out" }] }],
        },
      };
      api.script("insertAll", timeout, timeout, timeout, timeout);

      // Act
      const error = await warehouse.insertEvents(rows(1)).catch((e: unknown) => e);

      // Assess
      expect(error).toMatchObject({ name: "WarehouseError", code: "unavailable" });
      expect(insertsTo(api, "ingest_marks")).toHaveLength(0);
    });

    it("marks the event hours of a stored batch in ingest_marks, after the rows", async () => {
      // Act
      await warehouse.insertEvents([
        costRow({ event_id: "a", event_time: new Date("2026-03-01T10:15:00Z") }),
        costRow({ event_id: "b", event_time: new Date("2025-03-02T05:30:00Z") }),
      ]);

      // Assess
      const routes = api.of("insertAll").map((r) => r.path.split("/tables/")[1]);
      expect(routes).toEqual(["cost_events/insertAll", "ingest_marks/insertAll"]);
      const marks = insertBody(insertsTo(api, "ingest_marks")[0])
        .rows.map((r) => r.json.hour)
        .sort();
      expect(marks).toEqual(["2025-03-02T05:00:00.000Z", "2026-03-01T10:00:00.000Z"]);
    });

    it("reports a refused connection as unavailable", async () => {
      // Prepare: a server that is gone.
      const gone = await startFakeBigQueryApi();
      await gone.close();
      const offline = createBigQueryWarehouse({
        client: createBigQueryClient({
          projectId: PROJECT,
          apiEndpoint: gone.url,
          authClient: new OAuth2Client({
            credentials: { access_token: "t", expiry_date: Date.now() + HOUR },
          }),
          retry: { maxRetries: 0 },
        }),
        dataset: DATASET,
        writeApi: "insert-all",
      });

      // Act
      const error = await offline.insertEvents(rows(1)).catch((e: unknown) => e);

      // Assess
      expect(error).toMatchObject({ name: "WarehouseError", code: "unavailable" });
    });

    it("refuses money that does not fit NUMERIC before sending anything", async () => {
      // Act
      const error = await warehouse
        .insertEvents([costRow({ cost_nanos: 10n ** 38n })])
        .catch((e: unknown) => e);

      // Assess
      expect(error).toMatchObject({ name: "WarehouseError", code: "invalid" });
      expect((error as Error).message).toContain("rows[0] (//inference/llm-gateway, evt-1, 0).cost_nanos");
      expect(eventInserts()).toHaveLength(0);
    });

    it("sends nothing for an empty batch", async () => {
      expect(await warehouse.insertEvents([])).toEqual({
        inserted: 0,
        duplicates: 0,
        duplicateRows: new Set(),
        conflictRows: new Map(),
      });
      expect(api.requests).toHaveLength(0);
    });
  });

  describe("insertRejected", () => {
    it("streams rejected rows to rejected_events", async () => {
      // Prepare
      const rejected: RejectedRow = {
        rejected_at: new Date("2026-03-01T10:00:01.000Z"),
        event_source: "//training/launcher",
        event_id: "job-7-3",
        event_type: "ai.cost.training.v1",
        field: "data.elapsed_seconds",
        reason: "must be >= 0",
        payload: '{"elapsed_seconds":-1}',
      };

      // Act
      await warehouse.insertRejected([rejected, rejected]);

      // Assess
      const [request] = api.of("insertAll");
      expect(request?.path).toContain("/tables/rejected_events/insertAll");
      const body = insertBody(request);
      expect(body.rows[0]?.json).toEqual({
        ...rejected,
        rejected_at: "2026-03-01T10:00:01.000Z",
        rejection_key: null,
      });
      expect(body.rows[0]?.insertId).toBe(body.rows[1]?.insertId);
    });
  });

  describe("queries", () => {
    it("init creates the tables in the configured dataset with the partition expiration", async () => {
      // Act
      await warehouse.init();

      // Assess
      const body = queryBody(api.of("jobs.query")[0]);
      expect(body.query).toContain(`CREATE TABLE IF NOT EXISTS \`${PROJECT}.${DATASET}\`.cost_events`);
      expect(body.query).toContain("partition_expiration_days = 90");
      expect(body.query).toContain("require_partition_filter = TRUE");
      expect(body.query).not.toContain("{{");
      expect(body.queryParameters).toBeUndefined();
      expect(body.location).toBe("EU");
      expect(body.labels).toEqual({ app: "finops", query: "create_tables" });
    });

    it("init then creates the report views in the dataset, each after the views it selects from", async () => {
      // Act
      await warehouse.init();

      // Assess
      const body = queryBody(api.of("jobs.query")[1]);
      expect(body.labels).toEqual({ app: "finops", query: "create_views" });
      const created = [...body.query.matchAll(/CREATE OR REPLACE VIEW `([^`]+)`\.(\w+) AS/g)];
      expect(created.map((m) => m[1])).toEqual(created.map(() => `${PROJECT}.${DATASET}`));
      const names = created.map((m) => m[2]);
      expect(names).toEqual(expect.arrayContaining(["report_cost", "report_trend", "report_training"]));
      expect(names.indexOf("report_cost")).toBeLessThan(names.indexOf("report_trend"));
      expect(body.query).toContain(`FROM \`${PROJECT}.${DATASET}\`.report_cost`);
      expect(body.query).not.toContain("{{");
    });

    it("report binds named TIMESTAMP parameters and parses NUMERIC sums to exact nanos", async () => {
      // Prepare
      api.onQuery("report", {
        fields: [
          { name: "team", type: "STRING" },
          { name: "model", type: "STRING" },
          { name: "currency", type: "STRING" },
          { name: "total_cost", type: "NUMERIC" },
          { name: "row_count", type: "INTEGER" },
        ],
        rows: [
          ["search", "llama-3-70b", "USD", "12345678901234567890.123456789", "7"],
          ["search", null, "USD", "0.000000001", "1"],
          ["ads", "gemma", "EUR", "-0.5", "2"],
        ],
      });

      // Act
      const report = await warehouse.report({
        from: new Date("2026-03-01T00:00:00Z"),
        to: new Date("2026-03-02T00:00:00Z"),
        by: ["team", "model"],
        reads: "rollup",
      });

      // Assess
      expect(report).toEqual([
        {
          group: { team: "search", model: "llama-3-70b" },
          currency: "USD",
          cost_nanos: 12_345_678_901_234_567_890_123_456_789n,
          rows: 7,
        },
        { group: { team: "search", model: null }, currency: "USD", cost_nanos: 1n, rows: 1 },
        { group: { team: "ads", model: "gemma" }, currency: "EUR", cost_nanos: -500_000_000n, rows: 2 },
      ]);
      const body = queryBody(api.of("jobs.query")[0]);
      expect(body.useLegacySql).toBe(false);
      expect(body.parameterMode).toBe("named");
      expect(body.queryParameters).toEqual([
        {
          name: "from",
          parameterType: { type: "TIMESTAMP" },
          parameterValue: { value: "2026-03-01T00:00:00.000Z" },
        },
        {
          name: "to",
          parameterType: { type: "TIMESTAMP" },
          parameterValue: { value: "2026-03-02T00:00:00.000Z" },
        },
        // The rollup alone: the tail is one empty range, which prunes every partition of cost_events.
        ...["tail_from_0", "tail_to_0", "tail_lookback_0"].map((name) => ({
          name,
          parameterType: { type: "TIMESTAMP" },
          parameterValue: { value: "2026-03-01T00:00:00.000Z" },
        })),
      ]);
      expect(body.query).toContain("team, model, currency");
      expect(body.query).toContain(`FROM \`${PROJECT}.${DATASET}\`.cost_hourly`);
      expect(body.query).not.toContain("2026-03-01");
    });

    it("caps the bytes a query may bill when asked to", async () => {
      // Prepare
      const capped = createBigQueryWarehouse({ client, dataset: DATASET, maximumBytesBilled: 10n ** 10n });

      // Act
      await capped.report({
        from: T0,
        to: new Date(T0.getTime() + HOUR),
        by: ["business_unit"],
        reads: "rollup",
      });

      // Assess
      const body = queryBody(api.of("jobs.query")[0]) as JobsQueryBody & { maximumBytesBilled?: string };
      expect(body.maximumBytesBilled).toBe("10000000000");
      expect(body.query).toContain("GROUP BY business_unit, currency");
    });

    it("report refuses a dimension outside the allow-list without querying", async () => {
      // Act
      const error = await warehouse
        .report({ from: T0, to: T0, by: ["team; DROP TABLE x" as "team"], reads: "rollup" })
        .catch((e: unknown) => e);

      // Assess
      expect(error).toMatchObject({ name: "WarehouseError", code: "invalid" });
      expect(api.requests).toHaveLength(0);
    });

    it("refreshHourly runs the transaction over whole hours and polls getQueryResults until done", async () => {
      // Prepare: the script is still running when jobs.query returns, and once more after.
      api.onQuery("refresh_hourly", { fields: [], rows: [], pendingPolls: 2 });

      // Act
      await warehouse.refreshHourly({
        from: new Date("2026-03-01T10:20:00Z"),
        to: new Date("2026-03-01T12:00:00Z"),
      });

      // Assess
      const body = queryBody(api.of("jobs.query")[0]);
      expect(body.query).toContain("BEGIN TRANSACTION");
      expect(body.query).toContain("COMMIT TRANSACTION");
      const params = Object.fromEntries((body.queryParameters ?? []).map((p) => [p.name, p]));
      expect(params.from?.parameterValue.value).toBe("2026-03-01T10:00:00.000Z");
      expect(params.to?.parameterValue.value).toBe("2026-03-01T12:00:00.000Z");
      expect(params.lookback_from?.parameterValue.value).toBe("2026-02-22T10:00:00.000Z");
      expect(Object.values(params).every((p) => p.parameterType.type === "TIMESTAMP")).toBe(true);
      const polls = api.of("getQueryResults");
      expect(polls).toHaveLength(2);
      expect(polls[0]?.query.get("location")).toBe("EU");
    });

    it("refreshHourly also works through jobs.insert when the client's fast path is off", async () => {
      // Prepare
      vi.stubEnv("FAST_QUERY_PATH", "DISABLED");

      // Act
      await warehouse.refreshHourly({ from: T0, to: new Date(T0.getTime() + HOUR) });

      // Assess
      const [insert] = api.of("jobs.insert");
      const job = insert?.body as { configuration: { query: JobsQueryBody; labels: Record<string, string> } };
      expect(job.configuration.labels.query).toBe("refresh_hourly");
      expect(job.configuration.query.parameterMode).toBe("named");
      expect(job.configuration.query.queryParameters?.map((p) => p.name).sort()).toEqual([
        "from",
        "lookback_from",
        "to",
      ]);
      expect(api.of("getQueryResults")).toHaveLength(1);
      expect(api.of("jobs.query")).toHaveLength(0);
    });

    it("refreshPending rebuilds the marked hours since the low water, then advances it", async () => {
      // Prepare: the last refresh left the low water at T0; marks name a year-old hour and two recent ones.
      api.onQuery("ingest_marks_low_water", {
        fields: [{ name: "low_water", type: "TIMESTAMP" }],
        rows: [[micros(T0.toISOString())]],
      });
      api.onQuery("ingest_marks_hours", {
        fields: [{ name: "hour", type: "TIMESTAMP" }],
        rows: [
          [micros("2025-03-02T05:00:00Z")],
          [micros("2026-03-01T08:00:00Z")],
          [micros("2026-03-01T09:00:00Z")],
        ],
      });
      const now = new Date("2026-03-01T12:00:00Z");

      // Act
      const ranges = await warehouse.refreshPending(now);

      // Assess: one refresh per run of hours (a year-old day costs a scan of that day), then the advance.
      expect(ranges).toEqual([
        { from: new Date("2025-03-02T05:00:00Z"), to: new Date("2025-03-02T06:00:00Z") },
        { from: new Date("2026-03-01T08:00:00Z"), to: new Date("2026-03-01T10:00:00Z") },
      ]);
      const names = api.of("jobs.query").map((r) => queryLabel(r));
      expect(names).toEqual([
        "ingest_marks_low_water",
        "ingest_marks_hours",
        "training_job_ends",
        "training_job_ends",
        "refresh_hourly",
        "refresh_hourly",
        "ingest_marks_advance",
      ]);
      const hoursQuery = api.of("jobs.query")[1];
      const snapshot = (queryBody(hoursQuery).queryParameters ?? []).find((p) => p.name === "snapshot");
      expect(new Date(snapshot?.parameterValue?.value ?? "")).toEqual(new Date("2026-03-01T11:55:00Z"));
    });

    it("a live report reads every hour marked since the low water from the raw rows, each run a constant range", async () => {
      // Prepare: marks since the low water name a year-old hour and the two latest.
      api.onQuery("ingest_marks_low_water", {
        fields: [{ name: "low_water", type: "TIMESTAMP" }],
        rows: [[micros(T0.toISOString())]],
      });
      api.onQuery("ingest_marks_tail_hours", {
        fields: [{ name: "hour", type: "TIMESTAMP" }],
        rows: [
          [micros("2025-03-02T05:00:00Z")],
          [micros("2026-03-01T08:00:00Z")],
          [micros("2026-03-01T09:00:00Z")],
        ],
      });

      // Act: a report over the year, and one over the last day.
      await warehouse.report({
        from: new Date("2025-03-01T00:00:00Z"),
        to: new Date("2026-03-01T10:00:00Z"),
        by: [],
        reads: "live",
      });
      await warehouse.report({
        from: new Date("2026-03-01T09:00:00Z"),
        to: new Date("2026-03-01T10:00:00Z"),
        by: [],
        reads: "live",
      });

      // Assess: the low water, the marks since it (no settle margin), the runs' training job ends, then
      // the report binding one range per run inside the report's own range.
      const queries = api.of("jobs.query");
      expect(queries.map((r) => queryLabel(r))).toEqual([
        "ingest_marks_low_water",
        "ingest_marks_tail_hours",
        "training_job_ends",
        "training_job_ends",
        "report",
        "ingest_marks_low_water",
        "ingest_marks_tail_hours",
        "training_job_ends",
        "training_job_ends",
        "report",
      ]);
      const marks = queryBody(queries[1]).queryParameters ?? [];
      expect(marks.map((p) => [p.name, p.parameterValue?.value])).toEqual([["low_water", T0.toISOString()]]);
      const bound = (request: (typeof queries)[number] | undefined) =>
        Object.fromEntries(
          (queryBody(request).queryParameters ?? [])
            .filter((p) => p.name.startsWith("tail_"))
            .map((p) => [p.name, p.parameterValue?.value]),
        );
      expect(bound(queries[4])).toEqual({
        tail_from_0: "2025-03-02T05:00:00.000Z",
        tail_to_0: "2025-03-02T06:00:00.000Z",
        tail_lookback_0: "2025-02-23T05:00:00.000Z",
        tail_from_1: "2026-03-01T08:00:00.000Z",
        tail_to_1: "2026-03-01T10:00:00.000Z",
        tail_lookback_1: "2026-02-22T08:00:00.000Z",
      });
      expect(queryBody(queries[4]).query).toContain(
        "((event_time >= @tail_from_0 AND event_time < @tail_to_0) OR (event_time >= @tail_from_1 AND event_time < @tail_to_1))",
      );
      expect(bound(queries[9])).toEqual({
        tail_from_0: "2026-03-01T09:00:00.000Z",
        tail_to_0: "2026-03-01T10:00:00.000Z",
        tail_lookback_0: "2026-02-22T09:00:00.000Z",
      });
    });

    it("retries a 503 on jobs.query once", async () => {
      // Prepare
      api.script("jobs.query", apiError(503, "backendError", "Backend error"));

      // Act
      await warehouse.report({ from: T0, to: new Date(T0.getTime() + HOUR), by: [], reads: "rollup" });

      // Assess
      const [first, second] = api.of("jobs.query");
      expect(api.of("jobs.query")).toHaveLength(2);
      // Same requestId: BigQuery runs a retried jobs.query once.
      const requestIds = [first, second].map(
        (r) => (r?.body as { requestId?: string } | undefined)?.requestId,
      );
      expect(requestIds[0]).toMatch(/^[0-9a-f-]{36}$/);
      expect(requestIds[1]).toBe(requestIds[0]);
    });

    it("turns an invalid query into WarehouseError invalid", async () => {
      // Prepare
      api.script("jobs.query", apiError(400, "invalidQuery", "Unrecognized name: colour at [3:3]"));

      // Act
      const error = await warehouse
        .report({ from: T0, to: T0, by: [], reads: "rollup" })
        .catch((e: unknown) => e);

      // Assess
      expect(error).toMatchObject({ name: "WarehouseError", code: "invalid" });
      expect((error as Error).message).toContain("query report");
      expect(api.of("jobs.query")).toHaveLength(1);
    });
  });
});
