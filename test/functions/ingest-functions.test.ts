import { mkdtempSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getTestServer } from "@google-cloud/functions-framework/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createMemoryAlertClaims } from "#adapters/memory-alert-claims/memory-alert-claims.ts";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import type { IngestSummary } from "#app/ingest-events.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";
import { composeRuntime } from "#runtime/compose.ts";
import { readEnv } from "#runtime/env.ts";
import { setRuntime } from "#runtime/runtime.ts";
import { inferenceEvent, NOW, ndjson, testPricer } from "../support/ingest-builders.ts";
import { createMemoryWarehouse, type MemoryWarehouse } from "../support/memory-warehouse.ts";

const PUSH_ENVELOPE = JSON.parse(
  readFileSync(
    new URL("../fixtures/gcp-budget/pubsub-push-envelope.docs-sample.json", import.meta.url),
    "utf8",
  ),
) as { message: Record<string, unknown>; subscription: string };

let store: MemoryWarehouse;

/** Points the functions at an in-memory runtime; `wrap` can put a failing layer over the warehouse. */
async function useRuntime(wrap: (w: Warehouse) => Warehouse = (w) => w) {
  store = createMemoryWarehouse();
  const dir = mkdtempSync(join(tmpdir(), "finops-functions-"));
  setRuntime(
    await composeRuntime({
      env: readEnv({ FINOPS_DUCKDB_PATH: join(dir, "unused.duckdb") }),
      clock: fixedClock(NOW),
      logger: silentLogger,
      pricer: testPricer(),
      warehouse: wrap(store),
      bus: createMemoryBus({ logger: silentLogger }),
      claims: createMemoryAlertClaims(),
    }),
  );
}

const unavailable = (w: Warehouse): Warehouse => ({
  ...w,
  insertEvents: async () => {
    throw new WarehouseError("warehouse: deadline exceeded", "unavailable");
  },
});

async function listen(target: string): Promise<{ server: Server; url: string }> {
  const server = getTestServer(target);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** The messagePublished event data Eventarc sends: Google's push envelope with our event as the data. */
function pushEnvelope(event: unknown, attributes: Record<string, string> = {}) {
  return {
    ...PUSH_ENVELOPE,
    message: {
      ...PUSH_ENVELOPE.message,
      attributes: { ...(PUSH_ENVELOPE.message.attributes as object), ...attributes },
      data: Buffer.from(JSON.stringify(event)).toString("base64"),
    },
  };
}

const eventarcHeaders = {
  "content-type": "application/json",
  "ce-specversion": "1.0",
  "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
  "ce-source": "//pubsub.googleapis.com/projects/myproject/topics/finops-cost-events",
  "ce-id": "2070443601311540",
  "ce-time": "2021-02-26T19:13:55.749Z",
};

let http: { server: Server; url: string };
let events: { server: Server; url: string };

beforeAll(async () => {
  await import("../../functions/ingest-http/index.ts");
  await import("../../functions/ingest-events/index.ts");
  http = await listen("ingestHttp");
  events = await listen("ingestEvents");
});

afterAll(async () => {
  await Promise.all([http, events].map(({ server }) => new Promise((resolve) => server.close(resolve))));
});

beforeEach(() => useRuntime());

const post = (body: string, headers: Record<string, string>) =>
  fetch(http.url, { method: "POST", body, headers });
const summaryOf = async (res: Response) => (await res.json()) as IngestSummary;

describe("ingestHttp", () => {
  it("answers 200 with the summary when every event is taken", async () => {
    const res = await post(JSON.stringify(inferenceEvent()), {
      "content-type": "application/cloudevents+json",
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      received: 1,
      accepted: 1,
      duplicates: 0,
      conflicts: 0,
      rejected: [],
      hours: { from: "2026-11-15T11:00:00.000Z", to: "2026-11-15T12:00:00.000Z" },
    });
    expect(store.events()).toHaveLength(1);
  });

  it("answers 207 listing the rejected events of a batch whose good events landed", async () => {
    const batch = [inferenceEvent({ id: "a" }), inferenceEvent({ id: "b", data: { gpu_seconds: -1 } })];
    const res = await post(JSON.stringify(batch), { "content-type": "application/cloudevents-batch+json" });
    expect(res.status).toBe(207);
    const summary = await summaryOf(res);
    expect(summary).toMatchObject({ received: 2, accepted: 1, duplicates: 0 });
    expect(summary.rejected).toEqual([
      {
        index: 1,
        id: "b",
        source: "//inference/fraud-scorer",
        field: "data.gpu_seconds",
        reason: expect.any(String),
      },
    ]);
  });

  it("takes NDJSON and counts a replay as duplicates", async () => {
    const body = ndjson([inferenceEvent({ id: "a" }), inferenceEvent({ id: "b" })]);
    const first = await post(body, { "content-type": "application/x-ndjson" });
    expect(await first.json()).toMatchObject({ accepted: 2, duplicates: 0 });
    const replay = await post(body, { "content-type": "application/x-ndjson" });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ accepted: 0, duplicates: 2, hours: null });
  });

  it("takes a binary-mode CloudEvent (ce-* headers, the data as the body)", async () => {
    const { data, id, source, type, time } = inferenceEvent({ id: "binary-1" });
    const res = await post(JSON.stringify(data), {
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": String(id),
      "ce-source": String(source),
      "ce-type": String(type),
      "ce-time": String(time),
    });
    expect(res.status).toBe(200);
    expect(store.events().map((r) => r.event_id)).toEqual(["binary-1"]);
  });

  it("answers 200 with zero events for an empty body, and 400 for a body that is not JSON", async () => {
    const empty = await post("", { "content-type": "application/json" });
    expect(empty.status).toBe(200);
    expect(await summaryOf(empty)).toMatchObject({ received: 0, accepted: 0, rejected: [] });

    const text = await post("{oops", { "content-type": "text/plain" });
    expect(text.status).toBe(400);
    expect((await summaryOf(text)).rejected[0]?.reason).toMatch(/^body: line 1 is not valid JSON/);

    // With application/json the framework's own body parser answers 400 before the function runs.
    expect((await post("{oops", { "content-type": "application/json" })).status).toBe(400);
    expect(store.events()).toEqual([]);
  });

  it("answers 415 naming the content type for a body of a type that holds no events, and stores nothing", async () => {
    const png = await post(JSON.stringify(inferenceEvent()), { "content-type": "image/png" });
    const form = await post(JSON.stringify(inferenceEvent()), {
      "content-type": "application/x-www-form-urlencoded",
    });

    expect(png.status).toBe(415);
    expect(await png.json()).toEqual({
      error:
        "content-type: image/png holds no events (application/json, application/cloudevents-batch+json or application/x-ndjson)",
      field: "content-type",
    });
    expect(form.status).toBe(415);
    expect(store.events()).toEqual([]);
    expect(store.rejected()).toEqual([]);
  });

  it("answers 405 to anything but POST", async () => {
    const res = await fetch(http.url, { method: "GET" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
  });

  it("answers 503 with Retry-After when the warehouse is unavailable", async () => {
    await useRuntime(unavailable);
    const res = await post(JSON.stringify(inferenceEvent()), { "content-type": "application/json" });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("30");
  });
});

describe("ingestEvents", () => {
  it("ingests the event a messagePublished CloudEvent carries (binary mode, as Eventarc sends it)", async () => {
    const res = await fetch(events.url, {
      method: "POST",
      headers: eventarcHeaders,
      body: JSON.stringify(pushEnvelope(inferenceEvent({ id: "from-pubsub" }))),
    });
    expect(res.status).toBe(204);
    expect(store.events().map((r) => r.event_id)).toEqual(["from-pubsub"]);
  });

  it("ingests a structured-mode messagePublished CloudEvent carrying a batch", async () => {
    const batch = [inferenceEvent({ id: "a" }), inferenceEvent({ id: "b" })];
    const res = await fetch(events.url, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json" },
      body: JSON.stringify({
        specversion: "1.0",
        type: "google.cloud.pubsub.topic.v1.messagePublished",
        source: "//pubsub.googleapis.com/projects/myproject/topics/finops-cost-events",
        id: "2070443601311541",
        time: "2021-02-26T19:13:55.749Z",
        datacontenttype: "application/json",
        data: pushEnvelope(batch, { "content-type": "application/cloudevents-batch+json" }),
      }),
    });
    expect(res.status).toBe(204);
    expect(store.events().map((r) => r.event_id)).toEqual(["a", "b"]);
  });

  it("ingests a raw Pub/Sub push body (the emulator's push subscription)", async () => {
    const res = await fetch(`${events.url}/projects/myproject/topics/finops-cost-events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(pushEnvelope(inferenceEvent({ id: "pushed" }))),
    });
    expect(res.status).toBe(204);
    expect(store.events().map((r) => r.event_id)).toEqual(["pushed"]);
  });

  it("acknowledges a poison message: it is rejected and kept, not redelivered", async () => {
    const res = await fetch(events.url, {
      method: "POST",
      headers: eventarcHeaders,
      body: JSON.stringify(pushEnvelope(inferenceEvent({ time: "2099-01-01T00:00:00Z" }))),
    });
    expect(res.status).toBe(204);
    expect(store.events()).toEqual([]);
    expect(store.rejected()).toMatchObject([{ field: "time", event_id: "req-1" }]);
  });

  it("fails (500) on a transient warehouse error, so Pub/Sub redelivers", async () => {
    await useRuntime(unavailable);
    const res = await fetch(events.url, {
      method: "POST",
      headers: eventarcHeaders,
      body: JSON.stringify(pushEnvelope(inferenceEvent())),
    });
    expect(res.status).toBe(500);
  });
});
