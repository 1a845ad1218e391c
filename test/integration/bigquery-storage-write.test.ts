import { managedwriter } from "@google-cloud/bigquery-storage";
import * as grpc from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createBigQueryWarehouse } from "#adapters/bigquery/bigquery-warehouse.ts";
import { createStorageWriteWriter } from "#adapters/bigquery-storage-write/storage-write-writer.ts";
import { createIngestEvents } from "#app/ingest-events.ts";
import { silentLogger } from "#ports/logger.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";
import { costRow } from "../support/cost-row-builder.ts";
import { demoCostRows } from "../support/demo-warehouse.ts";
import { inferenceEvent, NOW, testPricer } from "../support/ingest-builders.ts";
import {
  Code,
  type LocalStorageWriteServer,
  startLocalStorageWriteServer,
} from "../support/local-storage-write-server.ts";
import { type FakeBigQueryApi, fakeApiClient, startFakeBigQueryApi } from "./fake-bigquery-api.ts";

// Google's real @google-cloud/bigquery-storage client against a local gRPC server speaking AppendRows.

const PROJECT = "finops-test";
const DATASET = "finops";

const micros = (date: Date) => String(BigInt(date.getTime()) * 1000n);

function writerClient(server: LocalStorageWriteServer): managedwriter.WriterClient {
  return new managedwriter.WriterClient({
    servicePath: "127.0.0.1",
    port: server.port,
    sslCreds: grpc.credentials.createInsecure(),
    projectId: PROJECT,
    // Said outright, so the client does not look for credentials (and a metadata server) to learn it.
    universeDomain: "googleapis.com",
  });
}

describe("BigQuery warehouse through the Storage Write API (local AppendRows server)", () => {
  let server: LocalStorageWriteServer;
  let api: FakeBigQueryApi;
  let warehouse: Warehouse;

  function open(retry = { maxRetries: 2, firstDelayMs: 1, attemptTimeoutMs: 2_000 }): Warehouse {
    return createBigQueryWarehouse({
      client: fakeApiClient(api, PROJECT),
      projectId: PROJECT,
      dataset: DATASET,
      writerClient: writerClient(server),
      appendRetry: retry,
    });
  }

  beforeEach(async () => {
    // Prepare
    server = await startLocalStorageWriteServer({ project: PROJECT, dataset: DATASET });
    api = await startFakeBigQueryApi();
    warehouse = open();
  });

  afterEach(async () => {
    await warehouse.close();
    await server.close();
    await api.close();
  });

  it("appends every column to the default stream, decoded exactly: NUMERIC text to the nano, TIMESTAMP in µs", async () => {
    // Prepare
    const row = costRow({
      event_id: "evt-exact",
      event_time: new Date("2026-03-01T10:15:30.250Z"),
      ingested_at: new Date("2026-03-01T10:15:31.007Z"),
      labels: { tenant: "acme", "team.name": "search" },
      input_tokens: 2 ** 40,
      gpu_seconds: 0.1,
      cache_hit: true,
      epoch: null,
      cost_nanos: 123_456_789_012_345_678_901n,
      components: { gpu: 1n, tokens: 123_456_789_012_345_678_900n },
      payload_hash: "Zm9vYmFyYmF6cXV4cXV1eA",
    });

    // Act
    const result = await warehouse.insertEvents([row]);

    // Assess
    expect(result).toMatchObject({ inserted: 1, duplicates: 0 });
    expect(server.streamLookups).toEqual([
      `projects/${PROJECT}/datasets/${DATASET}/tables/cost_events/streams/_default`,
      `projects/${PROJECT}/datasets/${DATASET}/tables/ingest_marks/streams/_default`,
    ]);
    const [stored] = server.rows("cost_events");
    expect(stored).toEqual({
      event_id: "evt-exact",
      event_source: row.event_source,
      event_type: "ai.cost.inference.v1",
      part: "0",
      event_time: micros(row.event_time),
      ingested_at: micros(row.ingested_at),
      basis: "estimate",
      team: "risk",
      model: "fraud-scorer",
      model_version: "v7",
      business_unit: "payments",
      cost_center: "cc-100",
      namespace: "serving",
      environment: "prod",
      cloud: "gcp",
      region: "us-central1",
      labels: '{"tenant":"acme","team.name":"search"}',
      instance_type: "g2-standard-8",
      accelerator: "nvidia-l4",
      pricing_model: "on_demand",
      gpu_count: 1,
      gpu_seconds: 0.1,
      input_tokens: String(2 ** 40),
      cached_input_tokens: "0",
      output_tokens: "300",
      cache_hit: true,
      cost: "123456789012.345678901",
      currency: "USD",
      components: '{"gpu":"0.000000001","tokens":"123456789012.345678900"}',
      price_source: "catalog:test-1",
      payload_hash: "Zm9vYmFyYmF6cXV4cXV1eA",
    });
    expect(api.requests).toEqual([]); // nothing through insertAll
  });

  it("marks the batch's event hours in ingest_marks after its rows are committed", async () => {
    // Prepare
    const rows = [
      costRow({ event_time: new Date("2026-03-01T10:05:00.000Z") }),
      costRow({ event_time: new Date("2026-03-01T12:59:59.999Z") }),
    ];

    // Act
    await warehouse.insertEvents(rows);

    // Assess
    expect(server.appends.map((a) => [a.table, a.outcome])).toEqual([
      ["cost_events", "committed"],
      ["ingest_marks", "committed"],
    ]);
    const marks = server.rows("ingest_marks");
    expect(marks.map((m) => m.hour)).toEqual([
      micros(new Date("2026-03-01T10:00:00.000Z")),
      micros(new Date("2026-03-01T12:00:00.000Z")),
    ]);
    expect(new Set(marks.map((m) => m.batch_id)).size).toBe(1);
  });

  it("refuses a batch with a row error whole, naming the row and the field; nothing stored, no mark", async () => {
    // Prepare
    const rows = [costRow({ event_id: "evt-ok" }), costRow({ event_id: "evt-bad" })];
    server.refuseRows((row) =>
      row.event_id === "evt-bad" ? "Field cost: Invalid NUMERIC value: 1e40" : undefined,
    );

    // Act
    const failure = await warehouse.insertEvents(rows).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(WarehouseError);
    expect(failure).toMatchObject({ code: "invalid" });
    expect((failure as Error).message).toBe(
      "BigQuery refused rows for cost_events: rows[1] (//inference/fraud-scorer, evt-bad, 0): FIELDS_ERROR: Field cost: Invalid NUMERIC value: 1e40",
    );
    expect(server.rows("cost_events")).toEqual([]);
    expect(server.appends.map((a) => a.table)).toEqual(["cost_events"]);
  });

  it("through ingest: the other events of the body are stored, the refused one is a rejection naming the field", async () => {
    // Prepare
    const { ingest } = createIngestEvents({
      warehouse,
      pricer: testPricer(),
      clock: { now: () => NOW },
      logger: silentLogger,
    });
    // Its cost row, not its rejection (which has no cost).
    server.refuseRows((row) =>
      row.event_id === "req-bad" && "cost" in row ? "Field cost: Invalid NUMERIC value: 1e40" : undefined,
    );
    const body = JSON.stringify(["req-1", "req-bad", "req-3"].map((id) => inferenceEvent({ id })));

    // Act
    const summary = await ingest(body, "application/cloudevents-batch+json");

    // Assess
    expect(summary).toMatchObject({ received: 3, accepted: 2 });
    expect(summary.rejected).toEqual([
      expect.objectContaining({
        index: 1,
        id: "req-bad",
        reason: expect.stringContaining(
          "rows[0] (//inference/fraud-scorer, req-bad, 0): FIELDS_ERROR: Field cost: Invalid NUMERIC value: 1e40",
        ),
      }),
    ]);
    expect(server.rows("cost_events").map((r) => r.event_id)).toEqual(["req-1", "req-3"]);
    expect(server.rows("rejected_events").map((r) => r.event_id)).toEqual(["req-bad"]);
  });

  it("turns BigQuery's own row check into a refusal naming the field (a REQUIRED column left out)", async () => {
    // Prepare: the writer on its own, with a row that lacks event_time.
    const writer = createStorageWriteWriter({
      client: writerClient(server),
      projectId: PROJECT,
      dataset: DATASET,
    });
    const mark = { batch_id: "b-1", hour: "2026-03-01T10:00:00.000Z", marked_at: "2026-03-01T10:01:00.000Z" };

    // Act
    const failure = await writer
      .write("ingest_marks", [
        { label: "marks[0]", row: { insertId: "a", json: mark } },
        { label: "marks[1]", row: { insertId: "b", json: { batch_id: "b-1", marked_at: mark.marked_at } } },
      ])
      .catch((error: unknown) => error);
    await writer.close();

    // Assess
    expect(failure).toMatchObject({ code: "invalid" });
    expect((failure as Error).message).toBe(
      "BigQuery refused rows for ingest_marks: marks[1]: FIELDS_ERROR: Field hour: required field is missing",
    );
    expect(server.rows("ingest_marks")).toEqual([]);
  });

  it("refuses a column the table still lacks after reading its schema again, before sending anything", async () => {
    // Prepare: a table made before payload_hash existed.
    await server.close();
    server = await startLocalStorageWriteServer({
      project: PROJECT,
      dataset: DATASET,
      omitColumns: { cost_events: ["payload_hash"] },
    });
    await warehouse.close();
    warehouse = open();
    const row = costRow({ event_id: "evt-new", payload_hash: "h" });

    // Act
    const failure = await warehouse.insertEvents([row]).catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({ code: "invalid" });
    expect((failure as Error).message).toBe(
      "rows[0] (//inference/fraud-scorer, evt-new, 0).payload_hash: cost_events has no such column",
    );
    expect(server.appends).toEqual([]);
    // The schema was read again before refusing: the table may have gained the column since.
    expect(server.streamLookups).toHaveLength(2);
  });

  it("sends an append again after UNAVAILABLE in its response, and stores it once", async () => {
    // Prepare
    server.script({ kind: "status", code: Code.UNAVAILABLE, message: "Service is unavailable" });

    // Act
    await warehouse.insertEvents([costRow({ event_id: "evt-1" })]);

    // Assess
    expect(server.appends.map((a) => [a.table, a.outcome])).toEqual([
      ["cost_events", "refused"],
      ["cost_events", "committed"],
      ["ingest_marks", "committed"],
    ]);
    expect(server.rows("cost_events").map((r) => r.event_id)).toEqual(["evt-1"]);
  });

  it("reconnects after a dropped connection; a resend of committed rows is the same row twice, counted once", async () => {
    // Prepare: the rows are committed, then the connection drops before the answer.
    server.script({ kind: "drop", code: Code.UNAVAILABLE, message: "connection reset", afterCommit: true });
    const row = costRow({ event_id: "evt-1" });

    // Act
    const result = await warehouse.insertEvents([row]);

    // Assess
    expect(result.inserted).toBe(1);
    const copies = server.rows("cost_events");
    expect(copies).toHaveLength(2);
    // refresh_hourly and every reader keep one row per (event_source, event_id, part): these are one.
    expect(new Set(copies.map((c) => JSON.stringify([c.event_source, c.event_id, c.part]))).size).toBe(1);
    expect(copies[0]).toEqual(copies[1]);
    expect(server.rows("ingest_marks")).toHaveLength(1);
  });

  it("gives up an append left unanswered and sends it again on a new connection", async () => {
    // Prepare
    await warehouse.close();
    warehouse = open({ maxRetries: 2, firstDelayMs: 1, attemptTimeoutMs: 200 });
    server.script({ kind: "silence" });

    // Act
    const result = await warehouse.insertEvents([costRow({ event_id: "evt-1" })]);
    const next = await warehouse.insertEvents([costRow({ event_id: "evt-2" })]);

    // Assess: each answer went to its own append (the silent connection was not reused).
    expect(result.inserted + next.inserted).toBe(2);
    expect(server.appends.map((a) => [a.table, a.outcome])).toEqual([
      ["cost_events", "unanswered"],
      ["cost_events", "committed"],
      ["ingest_marks", "committed"],
      ["cost_events", "committed"],
      ["ingest_marks", "committed"],
    ]);
    expect(server.rows("cost_events").map((r) => r.event_id)).toEqual(["evt-1", "evt-2"]);
    expect(server.streamLookups.filter((name) => name.includes("/cost_events/"))).toHaveLength(2);
  });

  it("fails as unavailable when UNAVAILABLE outlasts its retries: nothing marked, so nothing acknowledged", async () => {
    // Prepare
    const unavailable = {
      kind: "status",
      code: Code.UNAVAILABLE,
      message: "Service is unavailable",
    } as const;
    server.script(unavailable, unavailable, unavailable);

    // Act
    const failure = await warehouse.insertEvents([costRow()]).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(WarehouseError);
    expect(failure).toMatchObject({ code: "unavailable", retryable: true });
    expect((failure as Error).message).toContain("(gRPC status 14)");
    expect(server.appends.map((a) => a.outcome)).toEqual(["refused", "refused", "refused"]);
    expect(server.rows("ingest_marks")).toEqual([]);
  });

  it("fails as unavailable when the connection keeps dropping, and works again once it holds", async () => {
    // Prepare
    const drop = {
      kind: "drop",
      code: Code.UNAVAILABLE,
      message: "connection reset",
      afterCommit: false,
    } as const;
    server.script(drop, drop, drop);

    // Act
    const failure = await warehouse
      .insertEvents([costRow({ event_id: "evt-1" })])
      .catch((error: unknown) => error);
    const later = await warehouse.insertEvents([costRow({ event_id: "evt-1" })]);

    // Assess
    expect(failure).toMatchObject({ code: "unavailable" });
    expect(later.inserted).toBe(1);
    expect(server.rows("cost_events").map((r) => r.event_id)).toEqual(["evt-1"]);
  });

  it("fails as unavailable, naming the table, when it has no default stream (NOT_FOUND): the events wait for the table, as on insertAll's 404", async () => {
    // Prepare
    const missing = createBigQueryWarehouse({
      client: fakeApiClient(api, PROJECT),
      projectId: PROJECT,
      dataset: "other_dataset",
      writerClient: writerClient(server),
    });

    // Act
    const failure = await missing.insertEvents([costRow()]).catch((error: unknown) => error);
    await missing.close();

    // Assess
    expect(failure).toMatchObject({ code: "unavailable" });
    expect((failure as Error).message).toContain(
      "opening the default stream of cost_events failed (gRPC status 5)",
    );
  });

  it("streams rejected rows to rejected_events through the same stream API", async () => {
    // Prepare
    const rejection = {
      event_source: "//inference/llm-gateway",
      event_id: "evt-9",
      event_type: "ai.cost.inference.v1",
      field: "data.gpu_seconds",
      reason: "Too big",
      payload: "{}",
      rejection_key: "k-1",
    };
    const rejectedAt = new Date("2026-03-01T10:00:00.000Z");

    // Act
    await warehouse.insertRejected([{ ...rejection, rejected_at: rejectedAt }]);

    // Assess
    expect(server.rows("rejected_events")).toEqual([{ ...rejection, rejected_at: micros(rejectedAt) }]);
  });

  it("ingests 445 bytes of protobuf per demo inference event, and a third of a byte of marks (the README's cost table)", async () => {
    // Prepare: 2,000 of the demo's inference rows, as ingest stores them (with a payload hash).
    const rows = demoCostRows({ from: new Date("2026-03-01T00:00:00.000Z"), hours: 24, seed: "cost-table" })
      .filter((row) => row.event_type === "ai.cost.inference.v1")
      .slice(0, 2000)
      .map((row) => ({ ...row, payload_hash: "Zm9vYmFyYmF6cXV4cXV1eA" }));

    // Act: in bodies of 500, as the SDK's publisher sends them.
    for (let i = 0; i < rows.length; i += 500) await warehouse.insertEvents(rows.slice(i, i + 500));

    // Assess: the serialized rows are what the Storage Write API ingests (and bills, per GiB).
    const bytes = (table: string) =>
      server.appends.filter((a) => a.table === table).reduce((sum, a) => sum + a.rowBytes, 0);
    expect(server.rows("cost_events")).toHaveLength(2000);
    expect(bytes("cost_events")).toBe(889_153); // 444.6 bytes an event
    expect(bytes("ingest_marks")).toBe(672); // 0.34 bytes an event
  });
});
