import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import type { IngestSummary } from "#app/ingest-events.ts";
import {
  type BatchingPublisher,
  createBatchingPublisher,
  httpSender,
  type OutgoingCloudEvent,
  type PublisherStats,
} from "#sdk/batching-publisher.ts";
import type { PublisherError } from "#sdk/sdk-errors.ts";

/** What the stand-in ingest endpoint does with one POST: answer, or drop the connection. */
type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | { hangUp: true };

interface Received {
  at: number;
  ids: string[];
}

interface Endpoint {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** A local HTTP server standing in for POST /v1/events: decodes each gzip batch and answers `reply(n, ids)`. */
async function startEndpoint(reply: (attempt: number, ids: string[]) => Reply): Promise<Endpoint> {
  const received: Received[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const json = req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
    const ids = (JSON.parse(json.toString("utf8")) as OutgoingCloudEvent[]).map((e) => e.id);
    received.push({ at: Date.now(), ids });
    const answer = reply(received.length, ids);
    if ("hangUp" in answer) {
      req.socket.destroy();
      return;
    }
    const body = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body ?? {});
    res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/events`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function event(n: number): OutgoingCloudEvent {
  return {
    specversion: "1.0",
    id: `e-${n}`,
    source: "//test/http-sender",
    type: "ai.cost.inference.v1",
    time: "2026-11-02T12:00:00.000Z",
    data: { n },
  };
}

/** The ingest answer for a body of `count` events of which those at `bad` were rejected. */
function answer(count: number, bad: readonly number[]): IngestSummary {
  return {
    received: count,
    accepted: count - bad.length,
    duplicates: 0,
    conflicts: 0,
    rejected: bad.map((index) => ({
      index,
      id: `e-${index}`,
      source: "//test/http-sender",
      field: "data.gpu_seconds",
      reason: "data.gpu_seconds: must be a positive number",
    })),
    hours: null,
  };
}

function balanced(stats: PublisherStats): boolean {
  return stats.published === stats.sent + stats.rejected + stats.failed + stats.dropped + stats.buffered;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function publishAll(
  endpoint: Endpoint,
  count: number,
  retry: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number; maxRetryAfterMs?: number } = {},
) {
  const errors: PublisherError[] = [];
  const publisher: BatchingPublisher = createBatchingPublisher({
    send: httpSender(endpoint.url),
    maxBatchEvents: count,
    maxDelayMs: 5,
    retry: { attempts: 4, baseDelayMs: 20, maxDelayMs: 50, ...retry },
    onError: (e) => errors.push(e),
  });
  cleanups.push(() => publisher.close({ timeoutMs: 100 }));
  for (let i = 0; i < count; i += 1) publisher.publish(event(i));
  expect(await publisher.flush(10_000)).toBe(true);
  const stats = publisher.stats();
  expect(balanced(stats)).toBe(true);
  return { stats, errors };
}

describe("httpSender and the publisher against an HTTP ingest endpoint", () => {
  it("counts a 207's rejected events as rejected, the rest as sent, and resends nothing", async () => {
    const endpoint = await startEndpoint((_, ids) => ({ status: 207, body: answer(ids.length, [1, 3]) }));
    cleanups.push(endpoint.close);

    const { stats, errors } = await publishAll(endpoint, 5);

    expect(endpoint.received).toHaveLength(1);
    expect(stats).toMatchObject({ published: 5, sent: 3, rejected: 2, failed: 0, retried: 0 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "rejected", count: 2 });
    expect(errors[0]?.rejected?.map((r) => [r.index, r.id, r.field])).toEqual([
      [1, "e-1", "data.gpu_seconds"],
      [3, "e-3", "data.gpu_seconds"],
    ]);
  });

  it("fails a 207 that carries no ingest answer instead of counting it delivered", async () => {
    const endpoint = await startEndpoint(() => ({ status: 207, body: "<html>multi-status</html>" }));
    cleanups.push(endpoint.close);

    const { stats, errors } = await publishAll(endpoint, 3);

    expect(endpoint.received).toHaveLength(1);
    expect(stats).toMatchObject({ sent: 0, failed: 3, rejected: 0 });
    expect(errors[0]?.message).toMatch(/refused by the receiver/);
    expect(errors[0]?.cause).toMatchObject({
      message: expect.stringMatching(/207 without an ingest answer/),
    });
  });

  it("resends the batch after a 503, waiting its Retry-After", async () => {
    const endpoint = await startEndpoint((n, ids) =>
      n === 1
        ? { status: 503, headers: { "retry-after": "1" }, body: { error: "storage unavailable" } }
        : { status: 200, body: answer(ids.length, []) },
    );
    cleanups.push(endpoint.close);

    const { stats, errors } = await publishAll(endpoint, 3);

    expect(endpoint.received.map((r) => r.ids)).toEqual([
      ["e-0", "e-1", "e-2"],
      ["e-0", "e-1", "e-2"],
    ]);
    const [first, second] = endpoint.received as [Received, Received];
    // The backoff alone would wait at most 20 ms; the Retry-After asked for a second.
    expect(second.at - first.at).toBeGreaterThanOrEqual(950);
    expect(stats).toMatchObject({ sent: 3, retried: 1, failed: 0, rejected: 0 });
    expect(errors).toEqual([]);
  });

  it("cuts a Retry-After longer than maxRetryAfterMs", async () => {
    const endpoint = await startEndpoint((n, ids) =>
      n === 1
        ? { status: 429, headers: { "retry-after": "3600" } }
        : { status: 200, body: answer(ids.length, []) },
    );
    cleanups.push(endpoint.close);

    const began = Date.now();
    const { stats } = await publishAll(endpoint, 2, { maxRetryAfterMs: 100 });

    expect(Date.now() - began).toBeLessThan(5_000);
    expect(stats).toMatchObject({ sent: 2, retried: 1 });
  });

  it("resends after a 500 and after a dropped connection, then gives up after its attempts", async () => {
    const flaky = await startEndpoint((n, ids) =>
      n === 1 ? { status: 500 } : n === 2 ? { hangUp: true } : { status: 200, body: answer(ids.length, []) },
    );
    cleanups.push(flaky.close);
    const recovered = await publishAll(flaky, 2);
    expect(flaky.received).toHaveLength(3);
    expect(recovered.stats).toMatchObject({ sent: 2, retried: 2, failed: 0 });

    const down = await startEndpoint(() => ({ status: 502 }));
    cleanups.push(down.close);
    const lost = await publishAll(down, 2, { attempts: 3 });
    expect(down.received).toHaveLength(3);
    expect(lost.stats).toMatchObject({ sent: 0, failed: 2, retried: 2 });
    expect(lost.errors.map((e) => e.message)).toEqual(["a batch of 2 events was given up after 3 attempts"]);
  });

  it("takes a 400 as final: events it names are rejected, a body it could not read fails the batch", async () => {
    const allBad = await startEndpoint((_, ids) => ({
      status: 400,
      body: answer(
        ids.length,
        ids.map((_id, index) => index),
      ),
    }));
    cleanups.push(allBad.close);
    const refused = await publishAll(allBad, 2);
    expect(allBad.received).toHaveLength(1);
    expect(refused.stats).toMatchObject({ rejected: 2, failed: 0, sent: 0 });

    const unreadable = await startEndpoint(() => ({
      status: 400,
      body: {
        received: 1,
        accepted: 0,
        duplicates: 0,
        conflicts: 0,
        rejected: [{ index: 0, field: "body", reason: "body: incorrect header check" }],
        hours: null,
      } satisfies IngestSummary,
    }));
    cleanups.push(unreadable.close);
    const failed = await publishAll(unreadable, 2);
    expect(unreadable.received).toHaveLength(1);
    expect(failed.stats).toMatchObject({ rejected: 0, failed: 2, sent: 0 });
  });
});
