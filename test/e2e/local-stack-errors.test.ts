import { request } from "node:http";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Logger } from "#ports/logger.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";
import type { Runtime } from "#runtime/runtime.ts";
import {
  BAD_BODIES,
  BAD_INGEST_BODIES,
  type BadInput,
  expectErrorAnswer,
  send,
} from "../support/http-error-answers.ts";
import { inferenceEvent, ndjson } from "../support/ingest-builders.ts";
import { openTestSession, type TestSession, tempDuckDb } from "../support/local-stack-session.ts";

/**
 * The local stack answers every error as JSON {error, field?}, its own routes' and those of the
 * functions it hosts under the Functions Framework: never HTML, a stack or a server path.
 */

const db = tempDuckDb("finops-errors-");
let session: TestSession;
const logged: Array<{ message: string; fields: Record<string, unknown> }> = [];
const capture: Logger = {
  debug() {},
  info() {},
  warn: (message, fields = {}) => logged.push({ message, fields }),
  error: (message, fields = {}) => logged.push({ message, fields }),
};

beforeAll(async () => {
  session = await openTestSession(db.path);
});

afterAll(async () => {
  await session?.close();
  db.remove();
});

beforeEach(() => {
  logged.length = 0;
});

const at = (path: string, inputs: readonly BadInput[]): BadInput[] =>
  inputs.map((input) => ({ ...input, path: `${path}${input.path ?? ""}` }));
const POST_ONLY: readonly BadInput[] = [
  ...BAD_BODIES,
  { name: "GET", method: "GET", status: 405, allow: "POST" },
];

describe.each([
  ["/v1/events", at("/v1/events", [...BAD_BODIES, ...BAD_INGEST_BODIES])],
  ["/ingestHttp", at("/ingestHttp", [...BAD_BODIES, ...BAD_INGEST_BODIES])],
  ["/refreshRollups", at("/refreshRollups", POST_ONLY)],
  ["/collectAllocations", at("/collectAllocations", POST_ONLY)],
  ["/routeAwsAnomaly", at("/routeAwsAnomaly", POST_ONLY)],
  // An event function, under the same framework: its parse errors are JSON too.
  ["/events/ingestEvents", at("/events/ingestEvents", BAD_BODIES)],
  [
    "/costReport",
    [
      { name: "POST", method: "POST", path: "/costReport", status: 405, allow: "GET, HEAD" },
      { name: "an unknown view", method: "GET", path: "/costReport?view=nope", status: 400, field: "view" },
    ],
  ],
  [
    "/dashboard",
    [
      { name: "POST", method: "POST", path: "/dashboard/data", body: "{}", status: 405, allow: "GET, HEAD" },
      { name: "an unknown page", method: "GET", path: "/dashboard/admin", status: 404 },
      {
        name: "a bad from",
        method: "GET",
        path: "/dashboard/data?from=yesterday",
        status: 400,
        field: "from",
      },
    ],
  ],
  [
    "the stack's own routes",
    [
      { name: "no such function", method: "POST", path: "/no/such/function", body: "{}", status: 404 },
      { name: "no such /v1 route", method: "POST", path: "/v1/other", body: "{}", status: 404 },
      { name: "POST /healthz", method: "POST", path: "/healthz", status: 405, allow: "GET, HEAD" },
      { name: "DELETE / (not a browser)", method: "DELETE", path: "/", status: 405, allow: "GET, HEAD" },
      {
        name: "GET /events/ingestEvents",
        method: "GET",
        path: "/events/ingestEvents",
        status: 405,
        allow: "POST",
      },
      { name: "an HTTP function under /events", method: "POST", path: "/events/dashboard", status: 404 },
      { name: "no event function", method: "POST", path: "/events/nothing", status: 404 },
    ],
  ],
] as const)("%s", (_surface, inputs) => {
  it.each(inputs)("answers $name with $status", async (input) => {
    await expectErrorAnswer(await send(session.stack.url, input), input);
  });
});

/** Sends a request's head declaring `length` bytes of body, none of which follow, and reads the answer. */
function declareBody(url: string, length: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(length) },
    });
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, text });
      });
    });
    req.on("error", reject);
    req.flushHeaders();
  });
}

describe("limits, faults and bugs", () => {
  it("answers a body larger than the stack's bytes in flight 413, without reading it", async () => {
    const declared = session.runtime.config.local.maxInFlightBytes + 1;
    const { status, text } = await declareBody(`${session.stack.url}/v1/events`, declared);
    expect(status).toBe(413);
    expect(Object.keys(JSON.parse(text))).toEqual(["error"]);
  });

  it("answers a fault that may pass 503 with Retry-After, a bug 500 with a reference its log line has", async () => {
    const runtime = session.runtime as Runtime & { logger: Logger };
    const { logger, refreshRollups } = runtime;
    const refresh = refreshRollups.refresh;
    runtime.logger = capture;
    try {
      refreshRollups.refresh = async () => {
        throw new WarehouseError(`duckdb: IO error writing ${db.path}`, "unavailable");
      };
      await expectErrorAnswer(
        await send(session.stack.url, { name: "", path: "/refreshRollups", status: 0 }),
        {
          status: 503,
          retryAfter: true,
        },
      );
      refreshRollups.refresh = async () => {
        throw new RangeError(`Invalid time value in ${db.path}`);
      };
      const body = await expectErrorAnswer(
        await send(session.stack.url, { name: "", path: "/refreshRollups", status: 0 }),
        { status: 500, error: /^internal error \(ref \w+\)/ },
      );
      expect(body.error).not.toContain(db.dir);
      expect(logged).toMatchObject([
        { fields: { status: 503, error: expect.stringContaining("IO error") } },
        {
          fields: {
            status: 500,
            path: "/",
            ref: /\(ref (\w+)\)/.exec(body.error)?.[1],
            error: expect.stringContaining("Invalid time value"),
          },
        },
      ]);
    } finally {
      refreshRollups.refresh = refresh;
      runtime.logger = logger;
    }
  });

  it("still answers ingest with the summary: a gzip NDJSON body taken whole (200)", async () => {
    const res = await fetch(`${session.stack.url}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson", "content-encoding": "gzip" },
      body: new Uint8Array(
        gzipSync(ndjson([inferenceEvent({ id: "errors-gz-1" }), inferenceEvent({ id: "errors-gz-2" })])),
      ),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ received: 2, accepted: 2, rejected: [] });
  });
});
