import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import express from "express";
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { parseCostEvent } from "#domain/events/parse.ts";
import {
  type BatchingPublisher,
  createBatchingPublisher,
  httpSender,
  type OutgoingCloudEvent,
  type SendBatch,
} from "#sdk/batching-publisher.ts";
import { inferenceCostMiddleware } from "#sdk/express.ts";
import { inferenceCostPlugin } from "#sdk/fastify.ts";
import {
  createInferenceCostRecorder,
  type InferenceCostRecorder,
  type InferenceEventData,
  inferenceCostOf,
} from "#sdk/inference-cost.ts";

interface RunningApp {
  url: string;
  close(): Promise<void>;
}

type Framework = "express" | "fastify";

function answer(prompt: unknown) {
  return { completion: `echo: ${String(prompt)}`, tokens: 7 };
}

/** The same small inference API on each framework: a generate route that reports tokens, and a health check. */
async function startApp(framework: Framework, recorder: InferenceCostRecorder): Promise<RunningApp> {
  if (framework === "express") {
    const app = express();
    app.use(inferenceCostMiddleware(recorder));
    app.use(express.json());
    app.post("/v1/generate", (req, res) => {
      const body = req.body as { prompt?: unknown };
      inferenceCostOf(req).setTokens({ input: String(body.prompt).length, output: 7 });
      res.json(answer(body.prompt));
    });
    app.post("/v1/broken", () => {
      throw new Error("model crashed");
    });
    app.get("/healthz", (_req, res) => {
      res.send("ok");
    });
    const server = app.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  }
  const app = Fastify();
  await app.register(inferenceCostPlugin, { recorder });
  // Routes at the root, outside the plugin's context: they are measured only because the plugin skips encapsulation.
  app.post("/v1/generate", async (request) => {
    const body = request.body as { prompt?: unknown };
    inferenceCostOf(request).setTokens({ input: String(body.prompt).length, output: 7 });
    return answer(body.prompt);
  });
  app.post("/v1/broken", async () => {
    throw new Error("model crashed");
  });
  app.get("/healthz", async () => "ok");
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

function recorderFor(publisher: BatchingPublisher): InferenceCostRecorder {
  return createInferenceCostRecorder({
    publisher,
    source: "//inference/llm-chat/test-pod",
    model: "llm-chat",
    model_version: "2026-10",
    team: "assistants",
    business_unit: "platform",
    placement: { cloud: "gcp", region: "us-central1", accelerator: "nvidia-l4", gpu_count: 1 },
    include: (request) => request.path !== "/healthz",
  });
}

function decodeBatch(body: Buffer, attributes: Record<string, string>): OutgoingCloudEvent[] {
  const json = attributes["content-encoding"] === "gzip" ? gunzipSync(body) : body;
  return JSON.parse(json.toString("utf8")) as OutgoingCloudEvent[];
}

async function generate(url: string, prompt: string, businessUnit?: string) {
  const response = await fetch(`${url}/v1/generate`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(businessUnit === undefined ? {} : { "x-business-unit": businessUnit }),
    },
    body: JSON.stringify({ prompt }),
  });
  return { status: response.status, body: await response.text() };
}

/** Sequential requests; returns each response and the median latency in ms after a warm-up. */
async function timedRequests(url: string, count: number) {
  for (let i = 0; i < 20; i += 1) await generate(url, `warm ${i}`);
  const responses: Array<{ status: number; body: string }> = [];
  const latencies: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    responses.push(await generate(url, `p${i}`, "retail"));
    latencies.push(performance.now() - started);
  }
  latencies.sort((a, b) => a - b);
  return { responses, medianMs: latencies[Math.floor(latencies.length / 2)] ?? Number.NaN };
}

/** A collector standing in for the ingest endpoint: gunzips each batch by its content-encoding header. */
async function startCollector() {
  const events: OutgoingCloudEvent[] = [];
  const requests: Array<Record<string, string | string[] | undefined>> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests.push(req.headers);
      const encoding = String(req.headers["content-encoding"] ?? "");
      events.push(...decodeBatch(Buffer.concat(chunks), { "content-encoding": encoding }));
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/events`,
    events,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.each<Framework>(["express", "fastify"])("inference cost on %s", (framework) => {
  it("publishes one valid event per request, with the business unit the header names", async () => {
    const collector = await startCollector();
    cleanups.push(collector.close);
    const publisher = createBatchingPublisher({ send: httpSender(collector.url), maxDelayMs: 50 });
    const app = await startApp(framework, recorderFor(publisher));
    cleanups.push(app.close);

    const units = ["retail", "ads", undefined, "retail", "research"];
    const prompts = units.map((_, i) => `prompt ${i}`);
    const responses = await Promise.all(prompts.map((p, i) => generate(app.url, p, units[i])));
    await generate(app.url, prompts[0] as string, "retail");
    const health = await fetch(`${app.url}/healthz`);
    expect(await health.text()).toBe("ok");
    await publisher.close();

    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(JSON.parse(responses[0]?.body ?? "")).toEqual(answer("prompt 0"));
    expect(collector.requests.every((h) => h["content-encoding"] === "gzip")).toBe(true);
    expect(collector.events).toHaveLength(units.length + 1);
    expect(new Set(collector.events.map((e) => e.id)).size).toBe(collector.events.length);

    const parsed = collector.events.map((e) => parseCostEvent(e, new Date()));
    expect(parsed.filter((p) => !p.ok)).toEqual([]);
    const data = collector.events.map((e) => e.data as InferenceEventData);
    expect(data.map((d) => d.business_unit).sort()).toEqual(
      ["retail", "ads", "platform", "retail", "research", "retail"].sort(),
    );
    for (const d of data) {
      expect(d.gpu_seconds).toBeGreaterThan(0);
      expect(d.gpu_seconds).toBeLessThan(5);
      expect(d.output_tokens).toBe(7);
      expect(d.request_fingerprint).toMatch(/^[0-9a-f]{64}$/);
    }
    // The repeated request shares its fingerprint with the first; the others differ.
    expect(new Set(data.map((d) => d.request_fingerprint)).size).toBe(units.length);
    expect(publisher.stats()).toMatchObject({ published: 6, sent: 6, dropped: 0, failed: 0 });
  });

  it("records a request whose handler fails, with the business unit it named", async () => {
    const delivered: OutgoingCloudEvent[] = [];
    const publisher = createBatchingPublisher({
      send: async (body, attributes) => {
        delivered.push(...decodeBatch(body, attributes));
      },
    });
    const app = await startApp(framework, recorderFor(publisher));
    cleanups.push(app.close);
    const response = await fetch(`${app.url}/v1/broken`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-business-unit": "ads" },
      body: "{}",
    });
    await response.text();
    await publisher.close();

    expect(response.status).toBe(500);
    expect(delivered).toHaveLength(1);
    expect(parseCostEvent(delivered[0], new Date()).ok).toBe(true);
    expect(delivered[0]?.data).toMatchObject({ business_unit: "ads" });
  });

  it("answers the same, about as fast, when the sender fails", async () => {
    const count = 150;
    const delivered: OutgoingCloudEvent[] = [];
    const working: SendBatch = async (body, attributes) => {
      delivered.push(...decodeBatch(body, attributes));
    };
    const failing: SendBatch = () => {
      throw new Error("events topic unreachable");
    };
    const okPublisher = createBatchingPublisher({ send: working, maxBatchEvents: 10, maxDelayMs: 5 });
    const badPublisher = createBatchingPublisher({
      send: failing,
      maxBatchEvents: 10,
      maxDelayMs: 5,
      maxBufferedEvents: 50,
      retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    });
    const okApp = await startApp(framework, recorderFor(okPublisher));
    cleanups.push(okApp.close);
    const badApp = await startApp(framework, recorderFor(badPublisher));
    cleanups.push(badApp.close);

    const ok = await timedRequests(okApp.url, count);
    const bad = await timedRequests(badApp.url, count);
    await okPublisher.close();
    await badPublisher.close();

    expect(bad.responses).toEqual(ok.responses);
    expect(delivered).toHaveLength(count + 20);
    const badStats = badPublisher.stats();
    expect(badStats.sent).toBe(0);
    expect(badStats.failed + badStats.dropped).toBe(count + 20);
    // Loopback medians are a fraction of a millisecond; a failing sender must not add more than noise.
    expect(bad.medianMs).toBeLessThan(Math.max(ok.medianMs * 2, ok.medianMs + 2));
  });
});
