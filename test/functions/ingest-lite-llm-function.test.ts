import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { getTestServer } from "@google-cloud/functions-framework/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import { createMemoryAlertClaims } from "#adapters/memory-alert-claims/memory-alert-claims.ts";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import type { LiteLlmIngestAnswer } from "#app/ingest-lite-llm.ts";
import type { CostRow, RejectedRow } from "#domain/cost-row.ts";
import { TOPICS } from "#ports/bus.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import type { TimeRange, Warehouse } from "#ports/warehouse.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";
import { composeRuntime } from "#runtime/compose.ts";
import { readEnv } from "#runtime/env.ts";
import { setRuntime } from "#runtime/runtime.ts";
import {
  LLAMA_API_BASE,
  LLAMA_BEHIND_GATEWAY,
  loggingPayload,
  SECRET_MARKERS,
  selfHostedPayload,
} from "../support/litellm-payloads.ts";
import "../../functions/ingest-lite-llm/index.ts";

// ingestLiteLlm under the Functions Framework as it is deployed: what LiteLLM's generic_api callback
// posts in each log_format, gzip or not, into the embedded warehouse; what is stored (never a prompt
// or an answer, rejections and dead letters included), and the answers for bad bodies and faults.

const dir = mkdtempSync(join(tmpdir(), "finops-litellm-fn-"));
/** The fixture's calls end at 2025-12-07T09:33:21.875Z. */
const NOW = new Date("2025-12-07T10:00:00.000Z");
const DAY: TimeRange = { from: new Date("2025-12-07T00:00:00Z"), to: new Date("2025-12-08T00:00:00Z") };

let server: Server;
let url: string;
let warehouse: Warehouse & {
  readEvents(r: TimeRange): Promise<CostRow[]>;
  readRejected(r: TimeRange): Promise<RejectedRow[]>;
};
const deadLetters: string[] = [];

async function compose(w: Warehouse): Promise<void> {
  const config = join(dir, "finops.config.json");
  writeFileSync(
    config,
    JSON.stringify({
      version: 1,
      deployments: [LLAMA_BEHIND_GATEWAY],
    }),
  );
  const bus = createMemoryBus({ logger: silentLogger });
  await bus.subscribe(TOPICS.eventsDeadLetter, "test-dead-letters", async (m) => {
    deadLetters.push(m.data.toString("utf8"), JSON.stringify(m.attributes));
  });
  setRuntime(
    await composeRuntime({
      env: readEnv({ FINOPS_CONFIG: config, FINOPS_DUCKDB_PATH: join(dir, "unused.duckdb") }),
      clock: fixedClock(NOW),
      logger: silentLogger,
      warehouse: w,
      bus,
      claims: createMemoryAlertClaims(),
    }),
  );
}

beforeAll(async () => {
  warehouse = createDuckDbWarehouse({ path: ":memory:" }) as typeof warehouse;
  await warehouse.init();
  await compose(warehouse);
  server = getTestServer("ingestLiteLlm");
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await warehouse.close();
  rmSync(dir, { recursive: true, force: true });
});

async function post(body: string | Uint8Array, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

describe("what the generic_api callback posts", () => {
  it("a JSON array (the default), gzip-compressed: provider call, failure, cache hit and self-hosted call", async () => {
    // Prepare
    const payloads = [
      loggingPayload({ id: "chatcmpl-provider" }),
      loggingPayload({
        id: "chatcmpl-failed",
        status: "failure",
        prompt_tokens: 0,
        completion_tokens: 0,
        response_cost: 0,
      }),
      loggingPayload({ id: "chatcmpl-provider_cache_hit1765100002.1", cache_hit: true }),
      selfHostedPayload("chatcmpl-selfhosted", "search", LLAMA_API_BASE, {
        startMs: 1765100000000,
        endMs: 1765100004000,
      }),
    ];

    // Act
    const answer = await post(new Uint8Array(gzipSync(JSON.stringify(payloads))), {
      "content-encoding": "gzip",
    });

    // Assess
    expect(answer).toMatchObject({
      status: 200,
      body: {
        received: 4,
        providerCalls: 2,
        selfHosted: 1,
        cacheHits: 1,
        accepted: 4,
        duplicates: 0,
        conflicts: 0,
        rejected: [],
      },
    });
    const rows = await warehouse.readEvents(DAY);
    const cost = (id: string) => rows.filter((r) => r.event_id === id).map((r) => r.cost_nanos);
    expect(cost("chatcmpl-provider")).toEqual([270_000n]);
    expect(cost("chatcmpl-failed")).toEqual([0n]);
    expect(cost("chatcmpl-provider_cache_hit1765100002.1")).toEqual([0n]);
    expect(cost("chatcmpl-selfhosted")).toEqual([0n]);
  });

  it("NDJSON (sent as application/x-ndjson) and a single object; a resend is a duplicate", async () => {
    const a = loggingPayload({ id: "chatcmpl-nd-a" });
    const b = loggingPayload({ id: "chatcmpl-nd-b" });
    const ndjson = await post(`${JSON.stringify(a)}\n${JSON.stringify(b)}\n`, {
      "content-type": "application/x-ndjson",
    });
    expect(ndjson).toMatchObject({ status: 200, body: { received: 2, accepted: 2 } });
    const single = await post(JSON.stringify(a));
    expect(single).toMatchObject({ status: 200, body: { received: 1, accepted: 0, duplicates: 1 } });
  });

  it("names refused payloads in the answer and keeps each once, without the prompt or answer", async () => {
    // Prepare: one payload without an id (refused before it is an event, with a client's own
    // metadata), one whose model the catalog does not price (refused by the ingest).
    const { id: _id, ...noId } = loggingPayload({
      metadata: { spend_logs_metadata: { note: "SECRET-METADATA" } },
    });
    const unpriced = loggingPayload({ id: "chatcmpl-unpriced", model: "mystery-1", model_group: "mystery" });

    // Act: delivered twice, as a retried delivery would be.
    const answer = await post(JSON.stringify([noId, unpriced]));
    await post(JSON.stringify([noId, unpriced]));

    // Assess
    const body = answer.body as unknown as LiteLlmIngestAnswer;
    expect(answer.status).toBe(200);
    expect(body.rejected).toMatchObject([
      { index: 0, field: "id" },
      { index: 1, id: "chatcmpl-unpriced", field: "data.model" },
    ]);
    const rejected = await warehouse.readRejected({ from: NOW, to: new Date(NOW.getTime() + 1000) });
    expect(rejected.map((r) => [r.event_source, r.event_id, r.field]).sort()).toEqual([
      ["//litellm", null, "id"],
      ["//litellm", "chatcmpl-unpriced", "data.model"],
    ]);
    const kept = JSON.parse(rejected.find((r) => r.field === "id")?.payload ?? "{}") as Record<
      string,
      unknown
    >;
    expect(kept).toMatchObject({ model: noId.model, startTime: noId.startTime });
    expect(kept).not.toHaveProperty("messages");
    expect(kept).not.toHaveProperty("response");
    expect(JSON.stringify([rejected, deadLetters])).not.toContain("SECRET-METADATA");
    expect(deadLetters.length).toBeGreaterThan(0);
  });

  it("stores no prompt and no answer anywhere: events, rejections, dead letters", async () => {
    const stored = [
      JSON.stringify(await warehouse.readEvents(DAY), (_k, v) => (typeof v === "bigint" ? String(v) : v)),
      JSON.stringify(await warehouse.readRejected({ from: NOW, to: new Date(NOW.getTime() + 1000) })),
      ...deadLetters,
    ].join("\n");
    expect(stored).toContain("chatcmpl-provider");
    for (const marker of SECRET_MARKERS) expect(stored).not.toContain(marker);
  });
});

describe("bodies that are not the callback's output, and faults", () => {
  it.each([
    ["an empty array's text", "   ", "application/x-ndjson", "body"],
    ["a JSON scalar", "42", "application/x-ndjson", "body"],
    ["a broken NDJSON line", '{"id": "a"}\n{"id":', "application/x-ndjson", "body line 2"],
  ])("answers %s with 400 naming the field", async (_name, body, type, field) => {
    const answer = await post(body, { "content-type": type });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ field });
    expect(String(answer.body.error)).toContain(`${field}:`);
  });

  it("answers 503 with Retry-After while the warehouse cannot take the events", async () => {
    await compose({
      ...warehouse,
      insertEvents: () => Promise.reject(new WarehouseError("warehouse: disk full", "unavailable")),
    });
    try {
      const answer = await post(JSON.stringify([loggingPayload({ id: "chatcmpl-later" })]));
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toMatch(/^\d+$/);
    } finally {
      await compose(warehouse);
    }
  });
});
