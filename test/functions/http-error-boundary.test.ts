import { mkdtempSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { getTestServer } from "@google-cloud/functions-framework/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createMemoryAlertClaims } from "#adapters/memory-alert-claims/memory-alert-claims.ts";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import { fixedClock } from "#ports/clock.ts";
import type { Logger } from "#ports/logger.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";
import { composeRuntime } from "#runtime/compose.ts";
import { readEnv } from "#runtime/env.ts";
import { setRuntime } from "#runtime/runtime.ts";
import { FUNCTIONS, loadFunctions } from "../../functions/registry.ts";
import {
  BAD_BODIES,
  BAD_INGEST_BODIES,
  type BadInput,
  expectErrorAnswer,
  send,
} from "../support/http-error-answers.ts";
import { inferenceEvent, NOW, ndjson, testPricer } from "../support/ingest-builders.ts";
import { createMemoryWarehouse } from "../support/memory-warehouse.ts";

/**
 * Every HTTP function, each under the real Functions Framework as it is deployed (getTestServer
 * builds the server the framework's main does), answers every error as JSON {error, field?}.
 */

const HTTP_TARGETS = FUNCTIONS.filter((f) => f.trigger.kind !== "topic").map((f) => f.target);
const SCHEDULED = FUNCTIONS.filter((f) => f.trigger.kind === "schedule").map((f) => f.target);

/** What the warehouse throws on every call while set. */
let fault: Error | undefined;
const logged: Array<{ message: string; fields: Record<string, unknown> }> = [];
const capture: Logger = {
  debug() {},
  info() {},
  warn: (message, fields = {}) => logged.push({ message, fields }),
  error: (message, fields = {}) => logged.push({ message, fields }),
};

/** The memory warehouse, every method of which throws `fault` while it is set. */
function faulty(w: Warehouse): Warehouse {
  return new Proxy(w, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (fault) return Promise.reject(fault);
        return value.apply(target, args);
      };
    },
  });
}

const servers = new Map<string, { server: Server; url: string }>();
const url = (target: string) => servers.get(target)?.url ?? "";

beforeAll(async () => {
  await loadFunctions();
  const dir = mkdtempSync(join(tmpdir(), "finops-boundary-"));
  setRuntime(
    await composeRuntime({
      env: readEnv({ FINOPS_DUCKDB_PATH: join(dir, "unused.duckdb") }),
      clock: fixedClock(NOW),
      logger: capture,
      pricer: testPricer(),
      warehouse: faulty(createMemoryWarehouse()),
      bus: createMemoryBus({ logger: capture }),
      claims: createMemoryAlertClaims(),
    }),
  );
  for (const target of HTTP_TARGETS) {
    const server = getTestServer(target);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.set(target, { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  }
});

afterAll(async () => {
  await Promise.all(
    [...servers.values()].map(({ server }) => new Promise((resolve) => server.close(resolve))),
  );
});

beforeEach(() => {
  fault = undefined;
  logged.length = 0;
});

/** A bug's error, with what must never reach a client: its message, a stack, a server path. */
const bug = () =>
  new TypeError(`Cannot read properties of undefined (reading 'rows') in ${process.cwd()}/x.ts`);
const unavailable = () => new WarehouseError(`warehouse: disk full at ${process.cwd()}/data`, "unavailable");

/** What every function that takes POST answers as JSON: the bad bodies, and the wrong methods. */
const POSTED: readonly BadInput[] = [
  ...BAD_BODIES,
  { name: "GET", method: "GET", status: 405, allow: "POST" },
  { name: "DELETE", method: "DELETE", status: 405, allow: "POST" },
];

const TABLES: Record<string, readonly BadInput[]> = {
  ingestHttp: [...BAD_BODIES, ...BAD_INGEST_BODIES],
  // OTLP's own answers (a google.rpc.Status in the request's encoding) are in otlp-traces-receiver.test.ts.
  ingestTraces: [
    ...BAD_BODIES,
    ...BAD_INGEST_BODIES.filter((b) => b.status === 405 || b.field === "content-type"),
  ],
  ingestLiteLlm: [
    ...BAD_BODIES,
    ...BAD_INGEST_BODIES,
    {
      name: "a body that is no LiteLLM payload",
      headers: { "content-type": "application/x-ndjson" },
      body: "42",
      status: 400,
      field: "body",
    },
  ],
  costReport: [
    {
      name: "POST",
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
      status: 405,
      allow: "GET, HEAD",
    },
    { name: "an unknown view", method: "GET", path: "/?view=nope", status: 400, field: "view" },
    { name: "an impossible from", method: "GET", path: "/?from=yesterday", status: 400, field: "from" },
  ],
  dashboard: [
    {
      name: "POST",
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
      status: 405,
      allow: "GET, HEAD",
    },
    { name: "an unknown page", method: "GET", path: "/admin", status: 404 },
    { name: "a bad from", method: "GET", path: "/data?from=yesterday", status: 400, field: "from" },
  ],
  routeAwsAnomaly: [
    ...POSTED,
    // This runtime has no awsAnomalies section: the function is there, the route is not.
    {
      name: "no awsAnomalies configured",
      headers: { "content-type": "text/plain" },
      body: "{}",
      status: 404,
    },
  ],
  ...Object.fromEntries(SCHEDULED.map((target) => [target, POSTED])),
};

describe.each(HTTP_TARGETS)("%s under the Functions Framework", (target) => {
  it.each(TABLES[target] ?? [])("answers $name with $status", async (input) => {
    await expectErrorAnswer(await send(url(target), input), input);
  });
});

describe("faults become 503 with Retry-After, bugs a generic 500 whose detail is only in the log", () => {
  const calls: Record<string, BadInput> = {
    ingestHttp: {
      name: "",
      headers: { "content-type": "application/cloudevents+json" },
      body: JSON.stringify(inferenceEvent()),
      status: 0,
    },
    ingestLiteLlm: {
      name: "",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([
        {
          id: "chatcmpl-1",
          custom_llm_provider: "openai",
          model: "gpt-4o",
          startTime: NOW.getTime() / 1000 - 2,
          endTime: NOW.getTime() / 1000 - 1,
        },
      ]),
      status: 0,
    },
    costReport: { name: "", method: "GET", path: "/?by=team&from=2026-11-14&to=2026-11-15", status: 0 },
    dashboard: { name: "", method: "GET", path: "/data", status: 0 },
    refreshRollups: { name: "", status: 0 },
    detectAnomalies: { name: "", status: 0 },
  };

  it.each(Object.keys(calls))("%s", async (target) => {
    const call = calls[target] as BadInput;
    fault = unavailable();
    await expectErrorAnswer(await send(url(target), call), {
      status: 503,
      retryAfter: true,
      error: /retry later/,
    });
    expect(logged).toMatchObject([{ fields: { status: 503, error: expect.stringContaining("disk full") } }]);

    logged.length = 0;
    fault = bug();
    const body = await expectErrorAnswer(await send(url(target), call), {
      status: 500,
      error: /^internal error/,
    });
    expect(body.error).not.toMatch(/TypeError|Cannot read|rows/);
    const ref = /\(ref (\w+)\)/.exec(body.error)?.[1];
    expect(logged).toMatchObject([
      {
        fields: {
          status: 500,
          ref,
          error: expect.stringContaining("Cannot read properties"),
          stack: expect.any(String),
        },
      },
    ]);
  });
});

describe("ingest's own answers stay the ingest summary", () => {
  it("takes a gzip-compressed NDJSON body (200), and answers a body that is not JSON with the summary (400)", async () => {
    const good = await fetch(url("ingestHttp"), {
      method: "POST",
      headers: { "content-type": "application/x-ndjson", "content-encoding": "gzip" },
      body: new Uint8Array(
        gzipSync(ndjson([inferenceEvent({ id: "gz-1" }), inferenceEvent({ id: "gz-2" })])),
      ),
    });
    expect(good.status).toBe(200);
    expect(await good.json()).toMatchObject({ received: 2, accepted: 2, rejected: [] });

    const text = await fetch(url("ingestHttp"), {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "{oops",
    });
    expect(text.status).toBe(400);
    expect(await text.json()).toMatchObject({ received: 1, accepted: 0, rejected: [{ field: "body" }] });
  });
});
