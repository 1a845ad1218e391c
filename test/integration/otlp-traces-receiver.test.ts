import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { DiagLogLevel, diag, SpanKind } from "@opentelemetry/api";
import { OTLPTraceExporter as JsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import type { TracerProvider } from "@opentelemetry/sdk-trace";
import protobuf from "protobufjs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createMemoryAlertClaims } from "#adapters/memory-alert-claims/memory-alert-claims.ts";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import { createMemorySeenStore } from "#adapters/memory-seen-store/memory-seen-store.ts";
import type { CostRow } from "#domain/cost-row.ts";
import { silentLogger } from "#ports/logger.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";
import { composeRuntime } from "#runtime/compose.ts";
import { readEnv } from "#runtime/env.ts";
import { type LocalStack, startLocalStack } from "#runtime/local/local-stack.ts";
import { type Runtime, setRuntime } from "#runtime/runtime.ts";
import { FUNCTIONS } from "../../functions/registry.ts";
import { type FunctionServer, serveFunction } from "../support/function-server.ts";
import { createMemoryWarehouse, type MemoryWarehouse } from "../support/memory-warehouse.ts";
import { provider, vllmRequest } from "../support/vllm-spans.ts";
import "../../functions/ingest-traces/index.ts";

/**
 * The OTLP/HTTP traces receiver, fed by OpenTelemetry's own JS exporters (protobuf and JSON, gzip or
 * not) with spans shaped exactly like vLLM's and SGLang's request spans and GenAI client spans (the
 * shapes of test/unit/otlp-span-events.test.ts), through the ingest path into a warehouse: what is
 * priced, what a retried export does, what a partial success says, and the local stack's route.
 */

const DEPLOYMENTS = [
  {
    name: "llama-chat",
    match: { "service.name": "vllm-llama-chat" },
    model: "llama-3.1-8b-instruct",
    modelVersion: "2024-07-23",
    owner: { team: "assistants", businessUnit: "consumer" },
    namespace: "inference",
    placement: { cloud: "gcp", region: "us-central1", accelerator: "nvidia-l4", gpusPerReplica: 1 },
  },
  {
    name: "qwen-sglang",
    match: { "service.name": "sglang", "deployment.name": "qwen-sglang" },
    owner: { team: "search", businessUnit: "consumer" },
    placement: { cloud: "gcp", region: "us-central1", accelerator: "nvidia-l4", gpusPerReplica: 2 },
  },
  {
    name: "support-bot",
    match: { "service.name": "support-bot" },
    owner: { team: "support", businessUnit: "care" },
  },
];

/** Whole seconds ten minutes ago, so every event is recent and the hour is the same for all. */
const BASE_MS = Math.floor((Date.now() - 10 * 60_000) / 3_600_000) * 3_600_000 + 60_000;

let store: MemoryWarehouse;
let runtime: Runtime;
let failNext: "after-insert" | undefined;
let server: FunctionServer;
let url: string;

/** The runtime over a memory warehouse whose next insert may store the rows and then fail as unavailable. */
async function useRuntime() {
  store = createMemoryWarehouse();
  failNext = undefined;
  const dir = mkdtempSync(join(tmpdir(), "finops-otlp-"));
  const config = join(dir, "finops.config.json");
  writeFileSync(config, JSON.stringify({ version: 1, deployments: DEPLOYMENTS }));
  const flaky = (w: Warehouse): Warehouse => ({
    ...w,
    insertEvents: async (rows) => {
      const result = await w.insertEvents(rows);
      if (failNext === "after-insert") {
        failNext = undefined;
        throw new WarehouseError("warehouse: the answer was lost", "unavailable");
      }
      return result;
    },
  });
  runtime = await composeRuntime({
    env: readEnv({ FINOPS_CONFIG: config, FINOPS_DUCKDB_PATH: join(dir, "unused.duckdb") }),
    logger: silentLogger,
    warehouse: flaky(store),
    bus: createMemoryBus({ logger: silentLogger }),
    claims: createMemoryAlertClaims(),
    seen: createMemorySeenStore(),
  });
  setRuntime(runtime);
}

beforeAll(async () => {
  server = await serveFunction("ingestTraces");
  url = server.url;
});
afterAll(() => server.close());
beforeEach(useRuntime);

/** SGLang's root request span (unified role: the name starts with a space), with its children. */
function sglangRequest(p: TracerProvider, rid: string, startMs: number) {
  const tracer = p.getTracer("sglang server");
  const root = tracer.startSpan(` Req ${rid.slice(0, 8)}`, {
    startTime: startMs,
    attributes: { rid, module: "sglang::tokenizer_manager" },
  });
  const thread = tracer.startSpan("Tokenizer (host:1a2b3c4d | pid:42)", { startTime: startMs });
  thread.setAttributes({ host_id: "1a2b3c4d", pid: 42, thread_label: "Tokenizer" });
  thread.end(startMs + 1900);
  root.setAttributes({
    "gen_ai.usage.completion_tokens": 128,
    "gen_ai.usage.prompt_tokens": 2048,
    "gen_ai.usage.cached_tokens": 1536,
    "gen_ai.request.id": rid,
    "gen_ai.response.model": "Qwen/Qwen2.5-7B-Instruct",
    "gen_ai.response.finish_reasons": '["stop"]',
    "gen_ai.latency.time_to_first_token": 0.21,
    "gen_ai.latency.e2e": 1.9,
    "gen_ai.latency.time_in_model_decode": 1.69,
    "gen_ai.latency.time_in_model_inference": 1.8,
    "gen_ai.latency.time_in_model_prefill": 0.11,
  });
  root.end(startMs + 1900);
  return root.spanContext();
}

/** A GenAI client span of a provider call (current semantic-convention names). */
function chatCall(p: TracerProvider, model: string, startMs: number) {
  const span = p.getTracer("opentelemetry.instrumentation.openai_v2").startSpan(`chat ${model}`, {
    kind: SpanKind.CLIENT,
    startTime: startMs,
    attributes: {
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": model,
      "gen_ai.response.model": model === "gpt-4o" ? "gpt-4o-2024-08-06" : model,
      "gen_ai.usage.input_tokens": 1000,
      "gen_ai.usage.output_tokens": 200,
    },
  });
  span.end(startMs + 1200);
  return span.spanContext();
}

const rowsById = () => new Map(store.events().map((r) => [r.event_id, r]));
const idOf = (c: { traceId: string; spanId: string }) => `${c.traceId}-${c.spanId}`;

describe("the OpenTelemetry exporters to POST ingestTraces", () => {
  it("protobuf, gzip: vLLM requests share their replica's busy time, priced on the deployment's GPU", async () => {
    // Prepare: three requests in one continuous batch of 10 s, then one alone for 2 s.
    const exporter = new ProtoTraceExporter({ url, compression: "gzip" as never });
    const p = provider({ "service.name": "vllm-llama-chat", "k8s.pod.name": "llama-chat-0" }, exporter);
    const spans = [0, 1, 2].map((i) => vllmRequest(p, i, BASE_MS, 10, 10));
    spans.push(vllmRequest(p, 3, BASE_MS + 10_000, 2, 2));

    // Act
    await p.forceFlush();

    // Assess: 12 s busy, weights 10, 10, 10, 2 of 32; an L4 is 0.71 USD an hour in us-central1.
    const rows = rowsById();
    expect(rows.size).toBe(4);
    const seconds = spans.map((c) => rows.get(idOf(c))?.gpu_seconds);
    expect(seconds).toEqual([3.75, 3.75, 3.75, 0.75]);
    expect(seconds.reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe(12);
    const first = rows.get(idOf(spans[0] as { traceId: string; spanId: string })) as CostRow;
    expect(first).toMatchObject({
      event_source: "//otlp/v1/traces",
      team: "assistants",
      model: "llama-3.1-8b-instruct",
      model_version: "2024-07-23",
      business_unit: "consumer",
      namespace: "inference",
      accelerator: "nvidia-l4",
      input_tokens: 800,
      output_tokens: 64,
    });
    expect(first.cost_nanos).toBeGreaterThan(0n);
    expect(first.labels).toMatchObject({ "gen_ai.request.id": "chatcmpl-0", "otel.replica": "llama-chat-0" });
    await p.shutdown();
  });

  it("JSON: SGLang's request span (its children ignored) and a GenAI client call priced by the token catalog", async () => {
    // Prepare
    const sglang = provider(
      { "service.name": "sglang", "deployment.name": "qwen-sglang", "service.instance.id": "sglang-0" },
      new JsonTraceExporter({ url }),
    );
    const bot = provider({ "service.name": "support-bot" }, new JsonTraceExporter({ url }));
    const root = sglangRequest(sglang, "5f0c1a2b3c4d4e5f8a9b0c1d2e3f4a5b", BASE_MS);
    const call = chatCall(bot, "gpt-4o", BASE_MS);

    // Act
    await sglang.forceFlush();
    await bot.forceFlush();

    // Assess
    const rows = rowsById();
    expect(rows.size).toBe(2);
    expect(rows.get(idOf(root))).toMatchObject({
      team: "search",
      model: "Qwen/Qwen2.5-7B-Instruct",
      gpu_count: 2,
      gpu_seconds: 1.8,
      input_tokens: 512,
      cached_input_tokens: 1536,
      output_tokens: 128,
    });
    const priced = rows.get(idOf(call)) as CostRow;
    // gpt-4o: 1000 input at 2.50 and 200 output at 10.00 per million tokens.
    expect(priced).toMatchObject({
      team: "support",
      provider: "openai",
      model: "gpt-4o",
      cost_nanos: 4_500_000n,
    });
    await sglang.shutdown();
    await bot.shutdown();
  });

  it("a retried export counts once: the exporter resends after a 503, the events come back as duplicates", async () => {
    // Prepare: the warehouse stores the rows, then the answer is lost (503).
    failNext = "after-insert";
    const p = provider(
      { "service.name": "vllm-llama-chat", "k8s.pod.name": "llama-chat-1" },
      new ProtoTraceExporter({ url }),
    );
    const spans = [0, 1].map((i) => vllmRequest(p, i, BASE_MS, 4, 4));

    // Act
    await p.forceFlush();

    // Assess: two inserts (the retry's rows were duplicates), each span once, no conflict.
    expect(store.insertCalls()).toBe(2);
    expect(
      store
        .events()
        .map((r) => r.event_id)
        .sort(),
    ).toEqual(spans.map(idOf).sort());
    expect(store.conflicts()).toEqual([]);
    expect(store.events().map((r) => r.gpu_seconds)).toEqual([2, 2]);
    await p.shutdown();
  });

  it("a partial success names the spans refused, and the exporter is told", async () => {
    // Prepare
    const warnings: string[] = [];
    diag.setLogger(
      {
        error: () => {},
        warn: (message: string, ...args: unknown[]) => warnings.push([message, ...args].join(" ")),
        info: () => {},
        debug: () => {},
        verbose: () => {},
      },
      DiagLogLevel.WARN,
    );
    const p = provider({ "service.name": "support-bot" }, new ProtoTraceExporter({ url }));
    chatCall(p, "gpt-4o", BASE_MS);
    const unknown = chatCall(p, "gpt-9-turbo", BASE_MS);

    // Act
    await p.forceFlush();
    diag.disable();

    // Assess
    expect(store.events()).toHaveLength(1);
    const warning = warnings.find((w) => w.includes("Partial Success")) ?? "";
    expect(warning).toContain('"rejectedSpans":1');
    expect(warning).toContain(`span ${unknown.traceId}/${unknown.spanId} (chat gpt-9-turbo)`);
    await p.shutdown();
  });
});

describe("POST ingestTraces by hand", () => {
  const post = (body: Buffer | string, type: string, headers: Record<string, string> = {}) =>
    fetch(url, { method: "POST", body, headers: { "content-type": type, ...headers } });
  const Status = new protobuf.Type("Status")
    .add(new protobuf.Field("code", 1, "int32"))
    .add(new protobuf.Field("message", 2, "string"));
  new protobuf.Root().define("google.rpc").add(Status);

  it("answers 400 with a google.rpc.Status in the request's encoding for a body that is no trace export", async () => {
    // Act
    const proto = await post(Buffer.from([0x0a, 0xff, 0xff]), "application/x-protobuf");
    const json = await post(
      JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: "xyz" }] }] }] }),
      "application/json",
    );

    // Assess
    expect(proto.status).toBe(400);
    expect(proto.headers.get("content-type")).toContain("application/x-protobuf");
    const status = Status.toObject(Status.decode(new Uint8Array(await proto.arrayBuffer())));
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/^body: not an ExportTraceServiceRequest/);
    expect(json.status).toBe(400);
    expect(await json.json()).toEqual({
      code: 3,
      message: "resourceSpans.0.scopeSpans.0.spans.0.traceId: must be 32 hex digits",
    });
  });

  it("takes gzip JSON, answers 200 with partialSuccess, keeps the refused span once and counts ignored spans as nothing wrong", async () => {
    // Prepare: one vLLM span from an unmapped service (refused), one database span (ignored).
    const span = (spanId: string, name: string, attributes: unknown[]) => ({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId,
      name,
      kind: 2,
      startTimeUnixNano: String(BigInt(BASE_MS) * 1_000_000n),
      endTimeUnixNano: String(BigInt(BASE_MS + 1000) * 1_000_000n),
      attributes,
    });
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: "service.name", value: { stringValue: "vllm-server" } }] },
          scopeSpans: [
            {
              spans: [
                span("00f067aa0ba902b7", "llm_request", [
                  { key: "gen_ai.usage.prompt_tokens", value: { intValue: "10" } },
                  { key: "gen_ai.latency.e2e", value: { doubleValue: 1 } },
                  { key: "gen_ai.input.messages", value: { stringValue: "the user's secret prompt" } },
                ]),
                span("00f067aa0ba902b8", "SELECT", [
                  { key: "db.system", value: { stringValue: "postgresql" } },
                ]),
              ],
            },
          ],
        },
      ],
    };

    // Act: the exporter sends the export twice (a retry after a lost answer).
    const res = await post(gzipSync(JSON.stringify(body)), "application/json", {
      "content-encoding": "gzip",
    });
    const retried = await post(JSON.stringify(body), "application/json");

    // Assess
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      partialSuccess: {
        rejectedSpans: "1",
        errorMessage:
          "1 of 2 spans refused: span 4bf92f3577b34da6a3ce929d0e0e4736/00f067aa0ba902b7 (llm_request): resource: no deployment in the configuration matches service.name=vllm-server; an inference server's span names no placement to price it",
      },
    });
    expect(retried.status).toBe(200);
    expect(store.events()).toEqual([]);
    const rejected = store.rejected();
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({
      event_source: "//otlp/v1/traces",
      event_id: "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
      field: "resource",
      reason: expect.stringMatching(/^resource: no deployment .* service\.name=vllm-server;/),
    });
    expect(JSON.parse(rejected[0]?.payload ?? "")).toEqual({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      name: "llm_request",
      kind: 2,
      startTimeUnixNano: String(BigInt(BASE_MS) * 1_000_000n),
      endTimeUnixNano: String(BigInt(BASE_MS + 1000) * 1_000_000n),
      attributes: { "gen_ai.usage.prompt_tokens": 10 },
      resource: { "service.name": "vllm-server" },
    });
  });

  it("answers 413 for a body over the 10 MiB the receivers read: a gzip bomb before it is inflated whole", async () => {
    // Prepare: 11 MiB of spaces in a JSON export; and 64 MiB of them, a few KB once compressed.
    const export11 = `{"resourceSpans": []${" ".repeat(11 * 1024 * 1024)}}`;
    const bomb = gzipSync(`{"resourceSpans": []${" ".repeat(64 * 1024 * 1024)}}`);

    // Act
    const asSent = await post(export11, "application/json");
    const inflated = await post(bomb, "application/json", { "content-encoding": "gzip" });

    // Assess: the body as sent is read and refused in OTLP's form; the bomb is refused 10 MiB in.
    expect(bomb.length).toBeLessThan(256 * 1024);
    expect(asSent.status).toBe(413);
    expect(await asSent.json()).toEqual({
      code: 3,
      message: "body: 11534357 bytes, over the 10485760 allowed",
    });
    expect(inflated.status).toBe(413);
    expect(await inflated.json()).toEqual({
      error: "body: larger than the 10485760 bytes allowed",
      field: "body",
    });
  });

  it("answers 415 for another content type", async () => {
    // Act
    const res = await post("x", "text/plain");

    // Assess
    expect(res.status).toBe(415);
  });
});

describe("the local stack", () => {
  let stack: LocalStack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it("routes POST /v1/traces to ingestTraces, as vLLM's --otlp-traces-endpoint is set", async () => {
    // Prepare
    stack = await startLocalStack({
      runtime,
      functions: FUNCTIONS.filter((f) => f.target === "ingestTraces"),
      port: 0,
      scheduleEveryMs: () => 3_600_000,
    });
    const p = provider(
      { "service.name": "vllm-llama-chat", "k8s.pod.name": "llama-chat-2" },
      new ProtoTraceExporter({ url: `${stack.url}/v1/traces` }),
    );
    const span = vllmRequest(p, 9, BASE_MS, 3, 3);

    // Act
    await p.forceFlush();

    // Assess
    expect(store.events().map((r) => [r.event_id, r.gpu_seconds])).toEqual([[idOf(span), 3]]);
    await p.shutdown();
  });
});
