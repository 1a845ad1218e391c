import { once } from "node:events";
import { Agent, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { createBatchingPublisher } from "#sdk/batching-publisher.ts";
import { inferenceCostMiddleware } from "#sdk/express.ts";
import { createInferenceCostRecorder } from "#sdk/inference-cost.ts";

export interface SdkOverheadOptions {
  /** Requests per app, split over `rounds` that alternate between the apps. Default 4,000 (at most 200,000). */
  requests?: number;
  /**
   * Alternating rounds, so drift (JIT, CPU frequency, GC, other processes) falls on both apps alike;
   * the figures are medians over rounds. Default 20.
   */
  rounds?: number;
  /** Requests per app before measuring. Default 500. */
  warmup?: number;
  /** Direct start/end calls for the in-process figure. Default 100,000 (at most 200,000). */
  directCalls?: number;
}

export interface SdkOverheadResult {
  requests: number;
  rounds: number;
  /** µs per request (median over rounds), sequential over keep-alive loopback, without the middleware. */
  baselineUsPerRequest: number;
  /** The same with the middleware, the recorder and a gzip batching publisher (no-op sender). */
  instrumentedUsPerRequest: number;
  /** Median over rounds of (instrumented − baseline) µs per request, each round's pair run back to back. */
  overheadUsPerRequest: number;
  /** µs per recorder start/end (fingerprint, event, publish) called directly, no HTTP: the SDK's own CPU cost. */
  recorderUsPerCall: number;
  eventsSent: number;
  batchesSent: number;
  /** Events the publishers dropped (0 unless the run overflowed a buffer, which would flatter the figures). */
  eventsDropped: number;
}

const MAX_REQUESTS = 200_000;
const MAX_DIRECT_CALLS = 200_000;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const BODY = JSON.stringify({ prompt: "What does a model cost?", max_tokens: 64 });

function publisherAndRecorder(maxBufferedEvents = 10_000) {
  const publisher = createBatchingPublisher({
    send: async () => undefined,
    maxDelayMs: 200,
    maxBufferedEvents,
  });
  const recorder = createInferenceCostRecorder({
    publisher,
    source: "//bench/sdk-overhead",
    model: "bench-model",
    model_version: "1",
    team: "bench",
    business_unit: "platform",
    placement: { cloud: "gcp", region: "us-central1", accelerator: "nvidia-l4", gpu_count: 1 },
  });
  return { publisher, recorder };
}

async function startApp(instrumented: ReturnType<typeof publisherAndRecorder> | undefined) {
  const app = express();
  if (instrumented) app.use(inferenceCostMiddleware(instrumented.recorder));
  app.use(express.json());
  app.post("/v1/generate", (req, res) => {
    res.json({ completion: String((req.body as { prompt?: unknown }).prompt).length });
  });
  const server: Server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: (server.address() as AddressInfo).port };
}

function post(agent: Agent, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        agent,
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/v1/generate",
        headers: { "content-type": "application/json", "x-business-unit": "retail" },
      },
      (res) => {
        res.resume();
        res.on("end", () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
        );
      },
    );
    req.on("error", reject);
    req.end(BODY);
  });
}

async function run(agent: Agent, port: number, count: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i += 1) await post(agent, port);
  return Number(process.hrtime.bigint() - started) / 1e3;
}

/**
 * Per-request overhead of the inference cost middleware, side by side in one run: the same minimal
 * Express handler with and without it, sequential requests over keep-alive loopback in alternating
 * rounds, plus the recorder's own cost called directly. Prints nothing; the caller formats.
 */
export async function measureSdkOverhead(options: SdkOverheadOptions = {}): Promise<SdkOverheadResult> {
  const requests = Math.min(MAX_REQUESTS, Math.max(1, Math.floor(options.requests ?? 4000)));
  const rounds = Math.max(1, Math.min(requests, Math.floor(options.rounds ?? 20)));
  const warmup = Math.min(MAX_REQUESTS, Math.max(0, Math.floor(options.warmup ?? 500)));
  const directCalls = Math.min(MAX_DIRECT_CALLS, Math.max(1, Math.floor(options.directCalls ?? 100_000)));

  const sdk = publisherAndRecorder();
  const plain = await startApp(undefined);
  const measured = await startApp(sdk);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const baseline: number[] = [];
  const instrumented: number[] = [];
  const differences: number[] = [];
  let done = 0;
  try {
    await run(agent, plain.port, warmup);
    await run(agent, measured.port, warmup);
    for (let round = 0; round < rounds; round += 1) {
      const count = Math.floor((requests * (round + 1)) / rounds) - done;
      done += count;
      // Alternate which app goes first, so neither always runs on a warmer process.
      let plainUs: number;
      let measuredUs: number;
      if (round % 2 === 0) {
        plainUs = await run(agent, plain.port, count);
        measuredUs = await run(agent, measured.port, count);
      } else {
        measuredUs = await run(agent, measured.port, count);
        plainUs = await run(agent, plain.port, count);
      }
      baseline.push(plainUs / count);
      instrumented.push(measuredUs / count);
      differences.push((measuredUs - plainUs) / count);
    }
  } finally {
    agent.destroy();
    await new Promise((resolve) => plain.server.close(resolve));
    await new Promise((resolve) => measured.server.close(resolve));
    await sdk.publisher.close();
  }

  // A buffer that holds every call's event: a dropped event would cost less than a kept one.
  const direct = publisherAndRecorder(directCalls);
  const info = {
    method: "POST",
    path: "/v1/generate",
    headers: { "x-business-unit": "retail" },
    body: JSON.parse(BODY) as unknown,
  };
  const started = process.hrtime.bigint();
  for (let i = 0; i < directCalls; i += 1) {
    direct.recorder.start(info).end({ status: 200 });
    // Yield now and then so the publisher's batches go out, as they would between requests.
    if (i % 5000 === 4999) await new Promise((resolve) => setImmediate(resolve));
  }
  const directUs = Number(process.hrtime.bigint() - started) / 1e3;
  await direct.publisher.close();
  const directStats = direct.publisher.stats();

  const stats = sdk.publisher.stats();
  return {
    requests,
    rounds,
    baselineUsPerRequest: median(baseline),
    instrumentedUsPerRequest: median(instrumented),
    overheadUsPerRequest: median(differences),
    recorderUsPerCall: directUs / directCalls,
    eventsSent: stats.sent,
    batchesSent: stats.batches,
    eventsDropped: stats.dropped + directStats.dropped,
  };
}
