import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SpanKind } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, type SpanExporter, TracerProvider } from "@opentelemetry/sdk-trace";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createMemoryAlertClaims } from "#adapters/memory-alert-claims/memory-alert-claims.ts";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import { createMemorySeenStore } from "#adapters/memory-seen-store/memory-seen-store.ts";
import type { Bus } from "#ports/bus.ts";
import type { Logger } from "#ports/logger.ts";
import type { SeenStore } from "#ports/seen-store.ts";
import { composeRuntime } from "#runtime/compose.ts";
import { readEnv } from "#runtime/env.ts";
import { type LocalStack, startLocalStack } from "#runtime/local/local-stack.ts";
import { type Runtime, setRuntime } from "#runtime/runtime.ts";
import { FUNCTIONS } from "../../functions/registry.ts";
import { type FunctionServer, serveFunction } from "../support/function-server.ts";
import { loggingPayload } from "../support/litellm-payloads.ts";
import { createMemoryWarehouse, type MemoryWarehouse } from "../support/memory-warehouse.ts";
import "../../functions/ingest-lite-llm/index.ts";
import "../../functions/ingest-traces/index.ts";

/**
 * The ingest bearer token on ingestTraces, through the real Functions Framework and the local
 * stack: a request without the token, or with another, is answered 401 and leaves nothing behind
 * (no event, no rejection, no seen-store claim, no message on the bus); the token sent by
 * OpenTelemetry's own exporter, from its options or from OTEL_EXPORTER_OTLP_TRACES_HEADERS, is.
 */

const TOKEN = "5f0c2a9e8b7d4c1a3e6f9b2d5a8c1e4f";
const BASE_MS = Math.floor((Date.now() - 10 * 60_000) / 3_600_000) * 3_600_000 + 60_000;

let store: MemoryWarehouse;
let writes: string[];
let logged: string[];
let runtime: Runtime;
let server: FunctionServer;
let url: string;

/** `port` with every call of its methods recorded in `writes` as "<name>.<method>". */
function recorded<T extends object>(name: string, port: T): T {
  return new Proxy(port, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        writes.push(`${name}.${String(key)}`);
        return value.apply(target, args);
      };
    },
  });
}

async function useRuntime() {
  store = createMemoryWarehouse();
  writes = [];
  logged = [];
  const dir = mkdtempSync(join(tmpdir(), "finops-token-"));
  const config = join(dir, "finops.config.json");
  const deployment = {
    name: "llama-chat",
    match: { "service.name": "vllm-llama-chat" },
    model: "llama-3.1-8b-instruct",
    owner: { team: "assistants" },
    placement: { cloud: "gcp", region: "us-central1", accelerator: "nvidia-l4", gpusPerReplica: 1 },
  };
  writeFileSync(config, JSON.stringify({ version: 1, deployments: [deployment] }));
  const logger: Logger = {
    debug() {},
    info() {},
    warn() {},
    error: (message) => logged.push(message),
  };
  runtime = await composeRuntime({
    env: readEnv({ FINOPS_CONFIG: config, FINOPS_DUCKDB_PATH: join(dir, "unused.duckdb") }),
    logger,
    warehouse: store,
    bus: recorded<Bus>("bus", createMemoryBus({ logger })),
    claims: createMemoryAlertClaims(),
    seen: recorded<SeenStore>("seen", createMemorySeenStore()),
  });
  setRuntime(runtime);
}

beforeAll(async () => {
  server = await serveFunction("ingestTraces");
  url = server.url;
});
afterAll(() => server.close());
beforeEach(async () => {
  await useRuntime();
  vi.stubEnv("FINOPS_INGEST_TOKEN", TOKEN);
});
afterEach(() => {
  vi.unstubAllEnvs();
});

/** One vLLM request span as OTLP/JSON: what the receiver stores as one event when it admits it. */
function vllmExport(spanId: string) {
  const number = (key: string, doubleValue: number) => ({ key, value: { doubleValue } });
  return JSON.stringify({
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: "service.name", value: { stringValue: "vllm-llama-chat" } },
            { key: "k8s.pod.name", value: { stringValue: "llama-chat-0" } },
          ],
        },
        scopeSpans: [
          {
            spans: [
              {
                traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
                spanId,
                name: "llm_request",
                kind: 2,
                startTimeUnixNano: String(BigInt(BASE_MS) * 1_000_000n),
                endTimeUnixNano: String(BigInt(BASE_MS + 2000) * 1_000_000n),
                attributes: [
                  number("gen_ai.latency.e2e", 2),
                  number("gen_ai.latency.time_in_queue", 0),
                  number("gen_ai.latency.time_in_model_inference", 2),
                  { key: "gen_ai.usage.prompt_tokens", value: { intValue: "100" } },
                  { key: "gen_ai.usage.completion_tokens", value: { intValue: "20" } },
                  { key: "gen_ai.request.id", value: { stringValue: `chatcmpl-${spanId}` } },
                ],
              },
            ],
          },
        ],
      },
    ],
  });
}

const post = (to: string, headers: Record<string, string> = {}, spanId = "00f067aa0ba902b7") =>
  fetch(to, {
    method: "POST",
    body: vllmExport(spanId),
    headers: { "content-type": "application/json", ...headers },
  });

function expectNothingStored() {
  expect(store.events()).toEqual([]);
  expect(store.rejected()).toEqual([]);
  expect(writes).toEqual([]);
}

/** One vLLM span exported by OpenTelemetry's protobuf exporter; resolves with why the export failed, if it did. */
async function exportSpan(exporter: SpanExporter): Promise<string | undefined> {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": "vllm-llama-chat", "k8s.pod.name": "llama-chat-1" }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 60_000 })],
  });
  const span = provider.getTracer("vllm.llm_engine").startSpan("llm_request", {
    kind: SpanKind.SERVER,
    startTime: BASE_MS,
    attributes: {
      "gen_ai.latency.e2e": 3,
      "gen_ai.latency.time_in_queue": 0,
      "gen_ai.latency.time_in_model_inference": 3,
      "gen_ai.usage.prompt_tokens": 100,
      "gen_ai.usage.completion_tokens": 20,
      "gen_ai.request.id": "chatcmpl-exported",
    },
  });
  span.end(BASE_MS + 3000);
  try {
    await provider.shutdown();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

describe("ingestTraces with FINOPS_INGEST_TOKEN set", () => {
  it("answers 401 with a Bearer challenge and stores nothing when no token is sent", async () => {
    // Act
    const res = await post(url);

    // Assess
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="finops"');
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual({
      error: "authorization: send the ingest token as Authorization: Bearer <token>",
      field: "authorization",
    });
    expectNothingStored();
  });

  it("answers 401 invalid_token and stores nothing for another token, of another length or of the same", async () => {
    // Prepare
    const sameLength = `${TOKEN.slice(0, -1)}0`;
    const others = [`Bearer ${TOKEN}x`, "Bearer short", `Bearer ${sameLength}`, `Basic ${TOKEN}`];

    // Act
    const answers = await Promise.all(others.map((authorization) => post(url, { authorization })));

    // Assess
    expect(answers.map((r) => r.status)).toEqual([401, 401, 401, 401]);
    expect(answers.slice(0, 3).map((r) => r.headers.get("www-authenticate"))).toEqual(
      Array(3).fill('Bearer realm="finops", error="invalid_token"'),
    );
    expect(await answers[0]?.json()).toEqual({
      error: "authorization: the bearer token is not the ingest token",
      field: "authorization",
    });
    expect(answers[3]?.headers.get("www-authenticate")).toBe('Bearer realm="finops"');
    expectNothingStored();
  });

  it("stores the spans of a request with the token, the scheme in any case", async () => {
    // Act
    const res = await post(url, { authorization: `bearer ${TOKEN}` });

    // Assess
    expect(res.status).toBe(200);
    expect(store.events().map((r) => r.event_id)).toEqual([
      "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
    ]);
  });

  it("takes the token from the OTLP exporter's headers option, and refuses the exporter without it", async () => {
    // Act
    const refused = await exportSpan(new OTLPTraceExporter({ url }));
    const storedWithout = store.events().length;
    const sent = await exportSpan(
      new OTLPTraceExporter({ url, headers: { Authorization: `Bearer ${TOKEN}` } }),
    );

    // Assess
    expect([refused, storedWithout]).toEqual(["Unauthorized", 0]);
    expect(sent).toBeUndefined();
    expect(store.events().map((r) => r.labels["gen_ai.request.id"])).toEqual(["chatcmpl-exported"]);
  });

  it("takes the token from OTEL_EXPORTER_OTLP_TRACES_HEADERS, its space percent-encoded as the README says", async () => {
    // Prepare
    vi.stubEnv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", `authorization=Bearer%20${TOKEN}`);

    // Act
    const failure = await exportSpan(new OTLPTraceExporter({ url }));

    // Assess
    expect(failure).toBeUndefined();
    expect(store.events()).toHaveLength(1);
  });
});

describe("ingestTraces where the token comes from a file (deployed: the mounted secret)", () => {
  beforeEach(() => {
    vi.stubEnv("FINOPS_INGEST_TOKEN", "");
    vi.stubEnv("K_SERVICE", "finops-ingest-traces");
  });

  it("reads the token from FINOPS_INGEST_TOKEN_FILE, a trailing newline aside", async () => {
    // Prepare: `echo $TOKEN | gcloud secrets versions add ... --data-file=-` keeps echo's newline.
    const file = join(mkdtempSync(join(tmpdir(), "finops-secret-")), "latest");
    writeFileSync(file, `${TOKEN}\n`);
    vi.stubEnv("FINOPS_INGEST_TOKEN_FILE", file);

    // Act
    const without = await post(url);
    const withToken = await post(url, { authorization: `Bearer ${TOKEN}` });

    // Assess
    expect([without.status, withToken.status]).toEqual([401, 200]);
    expect(store.events()).toHaveLength(1);
  });

  it("fails closed while the secret has no version: 503 with Retry-After to everyone, and a log line saying why", async () => {
    // Prepare: Cloud Run's mount of a secret without a version has no file to read.
    vi.stubEnv("FINOPS_INGEST_TOKEN_FILE", join(tmpdir(), "finops-no-such-secret", "latest"));

    // Act
    const answers = await Promise.all([post(url), post(url, { authorization: `Bearer ${TOKEN}` })]);

    // Assess
    expect(answers.map((r) => r.status)).toEqual([503, 503]);
    expect(answers[0]?.headers.get("retry-after")).toBe("30");
    expect(await answers[0]?.json()).toEqual({
      error: "this receiver has no token to check senders against yet: retry later",
    });
    await vi.waitFor(() => expect(logged).toHaveLength(1));
    expect(logged[0]).toMatch(
      /^the token-checked receivers refuse every request: FINOPS_INGEST_TOKEN_FILE .*finops-no-such-secret\/latest cannot be read \(ENOENT\); deployed, this means its secret has no version yet/,
    );
    expectNothingStored();
  });

  it("fails closed when deployed with no token configured at all", async () => {
    // Act
    const res = await post(url, { authorization: `Bearer ${TOKEN}` });

    // Assess
    expect(res.status).toBe(503);
    expectNothingStored();
  });
});

describe("POST /v1/traces and /v1/litellm on the local stack", () => {
  let stack: LocalStack | undefined;
  beforeEach(async () => {
    stack = await startLocalStack({
      runtime,
      functions: FUNCTIONS.filter((f) => f.public?.check === "bearer-token"),
      port: 0,
      scheduleEveryMs: () => 3_600_000,
    });
  });
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it("requires the token when FINOPS_INGEST_TOKEN is set", async () => {
    // Act
    const without = await post(`${stack?.url}/v1/traces`);
    const wrong = await post(`${stack?.url}/v1/traces`, { authorization: "Bearer not-the-ingest-token" });
    const nothing = store.events().length;
    const right = await post(`${stack?.url}/v1/traces`, { authorization: `Bearer ${TOKEN}` });

    // Assess
    expect([without.status, wrong.status, right.status]).toEqual([401, 401, 200]);
    expect(without.headers.get("www-authenticate")).toBe('Bearer realm="finops"');
    expect(nothing).toBe(0);
    expect(store.events()).toHaveLength(1);
  });

  it("requires the same token for LiteLLM's callback", async () => {
    // Prepare
    const send = (headers: Record<string, string>) =>
      fetch(`${stack?.url}/v1/litellm`, {
        method: "POST",
        body: JSON.stringify([loggingPayload({ id: "chatcmpl-token-check" })]),
        headers: { "content-type": "application/json", ...headers },
      });

    // Act
    const without = await send({});
    const wrong = await send({ authorization: "Bearer not-the-ingest-token" });
    const nothing = store.events().length + store.rejected().length;
    const right = await send({ authorization: `Bearer ${TOKEN}` });

    // Assess
    expect([without.status, wrong.status, right.status]).toEqual([401, 401, 200]);
    expect(nothing).toBe(0);
    expect(store.events().map((e) => e.event_id)).toEqual(["chatcmpl-token-check"]);
  });

  it("is open when FINOPS_INGEST_TOKEN is not set: the local stack listens on loopback", async () => {
    // Prepare
    vi.stubEnv("FINOPS_INGEST_TOKEN", "");

    // Act
    const res = await post(`${stack?.url}/v1/traces`);

    // Assess
    expect(res.status).toBe(200);
    expect(store.events()).toHaveLength(1);
  });
});
