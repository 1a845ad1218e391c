import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import type { DeliveredMessage } from "#ports/bus.ts";
import { BusError } from "#ports/bus-error.ts";
import { silentLogger } from "#ports/logger.ts";
import {
  BATCH_CONTENT_TYPE,
  type BatchingPublisherOptions,
  busSender,
  createBatchingPublisher,
  httpSender,
  type OutgoingCloudEvent,
  type PublisherStats,
  type SendAttributes,
} from "#sdk/batching-publisher.ts";
import { createManualClock, type ManualClock } from "#sdk/sdk-clock.ts";
import { type PublisherError, SdkConfigError, SendError } from "#sdk/sdk-errors.ts";

function event(n: number, pad = 0): OutgoingCloudEvent {
  return {
    specversion: "1.0",
    id: `e-${n}`,
    source: "//test/publisher",
    type: "ai.cost.inference.v1",
    time: "2026-11-02T12:00:00.000Z",
    data: { n, pad: "x".repeat(pad) },
  };
}

interface Delivery {
  at: number;
  events: OutgoingCloudEvent[];
  attributes: SendAttributes;
  body: Buffer;
}

function decode(body: Buffer, attributes: SendAttributes): OutgoingCloudEvent[] {
  const json = attributes["content-encoding"] === "gzip" ? gunzipSync(body) : body;
  return JSON.parse(json.toString("utf8")) as OutgoingCloudEvent[];
}

/** A publisher on a manual clock whose sender records every attempt and answers with `outcome`. */
function setup(
  overrides: Partial<BatchingPublisherOptions> = {},
  outcome: (attempt: number) => Promise<void> | undefined = () => Promise.resolve(),
) {
  const clock: ManualClock = createManualClock();
  const attempts: Delivery[] = [];
  const delivered: Delivery[] = [];
  const errors: PublisherError[] = [];
  const publisher = createBatchingPublisher({
    gzip: false,
    clock,
    random: () => 1,
    onError: (e) => errors.push(e),
    send: async (body, attributes) => {
      const delivery = { at: clock.now(), events: decode(body, attributes), attributes, body };
      attempts.push(delivery);
      await outcome(attempts.length);
      delivered.push(delivery);
    },
    ...overrides,
  });
  return { clock, publisher, attempts, delivered, errors };
}

function balanced(stats: PublisherStats): boolean {
  return stats.published === stats.sent + stats.rejected + stats.failed + stats.dropped + stats.buffered;
}

describe("createBatchingPublisher", () => {
  it("sends a batch as soon as maxBatchEvents events are buffered", async () => {
    const { clock, publisher, delivered } = setup({ maxBatchEvents: 3, maxDelayMs: 1000 });
    for (let i = 0; i < 7; i += 1) publisher.publish(event(i));
    await clock.advance(0);

    expect(delivered.map((d) => d.events.map((e) => e.id))).toEqual([
      ["e-0", "e-1", "e-2"],
      ["e-3", "e-4", "e-5"],
    ]);
    expect(publisher.stats()).toMatchObject({ published: 7, sent: 6, batches: 2, buffered: 1 });
  });

  it("sends a partial batch once its oldest event is maxDelayMs old", async () => {
    const { clock, publisher, delivered } = setup({ maxBatchEvents: 100, maxDelayMs: 1000 });
    const start = clock.now();
    publisher.publish(event(1));
    await clock.advance(400);
    publisher.publish(event(2));
    await clock.advance(599);
    expect(delivered).toHaveLength(0);

    await clock.advance(1);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.at).toBe(start + 1000);
    expect(delivered[0]?.events.map((e) => e.id)).toEqual(["e-1", "e-2"]);
  });

  it("cuts batches by maxBatchBytes, the JSON array's brackets and commas included", async () => {
    const size = Buffer.byteLength(JSON.stringify(event(1, 200)));
    const { clock, publisher, delivered } = setup({
      maxBatchEvents: 100,
      maxBatchBytes: 2 * size + 3,
      maxDelayMs: 1000,
    });
    for (let i = 0; i < 5; i += 1) publisher.publish(event(i, 200));
    await clock.advance(0);
    expect(delivered.map((d) => d.events.length)).toEqual([2, 2]);
    for (const d of delivered) expect(d.body.length).toBeLessThanOrEqual(2 * size + 3);

    await clock.advance(1000);
    expect(delivered.map((d) => d.events.length)).toEqual([2, 2, 1]);
  });

  it("drops new events when the buffer is full, counts them and reports the overflow once", async () => {
    const never = new Promise<void>(() => undefined);
    const { clock, publisher, errors } = setup(
      { maxBatchEvents: 2, maxBufferedEvents: 5, maxConcurrentSends: 1 },
      () => never,
    );
    for (let i = 0; i < 12; i += 1) publisher.publish(event(i));
    await clock.advance(0);

    const stats = publisher.stats();
    expect(stats).toMatchObject({ published: 12, dropped: 7, buffered: 5, sent: 0 });
    expect(balanced(stats)).toBe(true);
    expect(errors.map((e) => e.code)).toEqual(["overflow"]);
  });

  it("keeps the oldest events on overflow: the ones held are sent once the receiver recovers", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { clock, publisher, delivered } = setup({ maxBatchEvents: 2, maxBufferedEvents: 4 }, () => gate);
    for (let i = 0; i < 6; i += 1) publisher.publish(event(i));
    release();
    await clock.advance(1000);
    expect(delivered.flatMap((d) => d.events.map((e) => e.id))).toEqual(["e-0", "e-1", "e-2", "e-3"]);
    expect(publisher.stats()).toMatchObject({ dropped: 2, sent: 4, buffered: 0 });
  });

  it("retries a failed batch with exponential backoff, then succeeds", async () => {
    const { clock, publisher, attempts, delivered, errors } = setup(
      { maxBatchEvents: 2, retry: { attempts: 5, baseDelayMs: 100, maxDelayMs: 10_000 } },
      (n) => (n <= 3 ? Promise.reject(new Error(`boom ${n}`)) : Promise.resolve()),
    );
    const start = clock.now();
    publisher.publish(event(1));
    publisher.publish(event(2));
    await clock.advance(10_000);

    // random() = 1: each wait is its full ceiling, 100, 200, 400 ms.
    expect(attempts.map((a) => a.at - start)).toEqual([0, 100, 300, 700]);
    expect(delivered).toHaveLength(1);
    expect(publisher.stats()).toMatchObject({ sent: 2, batches: 1, retried: 3, failed: 0, buffered: 0 });
    expect(errors).toEqual([]);
  });

  it("jitters each wait between half and all of its exponential ceiling", async () => {
    const { clock, publisher, attempts } = setup(
      { maxBatchEvents: 1, random: () => 0, retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 150 } },
      (n) => (n < 4 ? Promise.reject(new Error("boom")) : Promise.resolve()),
    );
    const start = clock.now();
    publisher.publish(event(1));
    await clock.advance(1000);
    // Ceilings 100, 150 (capped), 150; random() = 0 waits half of each.
    expect(attempts.map((a) => a.at - start)).toEqual([0, 50, 125, 200]);
  });

  it("counts a batch as failed after the last attempt and tells onError", async () => {
    const { clock, publisher, attempts, errors } = setup(
      { maxBatchEvents: 3, retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 10 } },
      () => Promise.reject(new Error("receiver down")),
    );
    for (let i = 0; i < 3; i += 1) publisher.publish(event(i));
    await clock.advance(1000);

    expect(attempts).toHaveLength(3);
    const stats = publisher.stats();
    expect(stats).toMatchObject({ failed: 3, retried: 2, sent: 0, buffered: 0 });
    expect(balanced(stats)).toBe(true);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "send_failed", count: 3 });
    expect(errors[0]?.cause).toMatchObject({ message: "receiver down" });
  });

  it("does not retry a final refusal (a rejected SendError, an invalid BusError)", async () => {
    for (const refusal of [
      new SendError("rejected", "400", { status: 400 }),
      new BusError("invalid", "bad attribute"),
    ]) {
      const { clock, publisher, attempts } = setup({ maxBatchEvents: 1 }, () => Promise.reject(refusal));
      publisher.publish(event(1));
      await clock.advance(10_000);
      expect(attempts).toHaveLength(1);
      expect(publisher.stats()).toMatchObject({ failed: 1, retried: 0 });
    }
  });

  it("gives up an attempt that does not settle within sendTimeoutMs and aborts its signal", async () => {
    const signals: AbortSignal[] = [];
    const clock = createManualClock();
    let calls = 0;
    const publisher = createBatchingPublisher({
      gzip: false,
      clock,
      random: () => 1,
      maxBatchEvents: 1,
      sendTimeoutMs: 500,
      retry: { attempts: 2, baseDelayMs: 100, maxDelayMs: 100 },
      send: (_body, _attributes, { signal }) => {
        signals.push(signal);
        calls += 1;
        return calls === 1 ? new Promise<void>(() => undefined) : Promise.resolve();
      },
    });
    publisher.publish(event(1));
    await clock.advance(600);
    expect(signals[0]?.aborted).toBe(true);
    expect(publisher.stats()).toMatchObject({ retried: 1, sent: 1 });
  });

  it("publish never throws: a sender that throws synchronously, a bigint, an oversized event", async () => {
    const { clock, publisher, errors } = setup(
      { maxBatchEvents: 1, maxBatchBytes: 2000, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } },
      () => {
        throw new Error("synchronous failure");
      },
    );
    const withBigint = { ...event(2), data: { cost: 1n } };
    const cyclic: Record<string, unknown> = { ...event(3) };
    cyclic.self = cyclic;

    expect(() => publisher.publish(event(1))).not.toThrow();
    expect(() => publisher.publish(withBigint)).not.toThrow();
    expect(() => publisher.publish(cyclic as unknown as OutgoingCloudEvent)).not.toThrow();
    expect(() => publisher.publish(event(4, 5000))).not.toThrow();
    await clock.advance(100);

    const stats = publisher.stats();
    expect(stats).toMatchObject({ published: 4, failed: 1, dropped: 3, buffered: 0 });
    expect(balanced(stats)).toBe(true);
    expect(errors.map((e) => e.code).sort()).toEqual([
      "send_failed",
      "too_large",
      "unserializable",
      "unserializable",
    ]);
  });

  it("publish never throws even when onError throws", async () => {
    const { clock, publisher } = setup(
      {
        maxBufferedEvents: 1,
        onError: () => {
          throw new Error("bad callback");
        },
      },
      () => new Promise<void>(() => undefined),
    );
    expect(() => {
      for (let i = 0; i < 5; i += 1) publisher.publish(event(i));
    }).not.toThrow();
    await clock.advance(0);
    expect(publisher.stats().dropped).toBe(4);
  });

  it("close sends what is buffered at once, then drops (and counts) later events", async () => {
    const { publisher, delivered, errors } = setup({ maxBatchEvents: 100, maxDelayMs: 60_000 });
    for (let i = 0; i < 3; i += 1) publisher.publish(event(i));
    await publisher.close();

    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.events).toHaveLength(3);
    publisher.publish(event(9));
    publisher.publish(event(10));
    expect(publisher.stats()).toMatchObject({ published: 5, sent: 3, dropped: 2, buffered: 0 });
    expect(errors.map((e) => e.code)).toEqual(["closed"]);
    await expect(publisher.close()).resolves.toBeUndefined();
  });

  it("close gives up at its deadline: unsent events are dropped and the send is aborted", async () => {
    const signals: AbortSignal[] = [];
    const clock = createManualClock();
    const errors: PublisherError[] = [];
    const publisher = createBatchingPublisher({
      gzip: false,
      clock,
      maxBatchEvents: 2,
      onError: (e) => errors.push(e),
      send: (_body, _attributes, { signal }) => {
        signals.push(signal);
        return new Promise<void>(() => undefined);
      },
    });
    for (let i = 0; i < 5; i += 1) publisher.publish(event(i));
    let closed = false;
    const closing = publisher.close({ timeoutMs: 2000 }).then(() => {
      closed = true;
    });
    await clock.advance(1999);
    expect(closed).toBe(false);
    await clock.advance(1);
    await closing;

    expect(signals[0]?.aborted).toBe(true);
    const stats = publisher.stats();
    expect(stats).toMatchObject({ published: 5, dropped: 5, buffered: 0 });
    expect(balanced(stats)).toBe(true);
    expect(errors.at(-1)).toMatchObject({ code: "abandoned", count: 5 });
  });

  it("flush resolves once everything published before it is settled, and says whether it made it", async () => {
    const { clock, publisher, delivered } = setup({ maxBatchEvents: 2, maxDelayMs: 60_000 });
    for (let i = 0; i < 5; i += 1) publisher.publish(event(i));
    await expect(publisher.flush()).resolves.toBe(true);
    expect(delivered.flatMap((d) => d.events)).toHaveLength(5);

    const stuck = setup({ maxBatchEvents: 2 }, () => new Promise<void>(() => undefined));
    stuck.publisher.publish(event(1));
    const flushed = stuck.publisher.flush(100);
    await stuck.clock.advance(100);
    await expect(flushed).resolves.toBe(false);
    await clock.advance(0);
  });

  it("gzips each batch and labels it as a CloudEvents batch with content-encoding gzip", async () => {
    const { publisher, delivered } = setup({ gzip: true, maxBatchEvents: 500 });
    const events = Array.from({ length: 200 }, (_, i) => event(i, 100));
    for (const e of events) publisher.publish(e);
    await publisher.flush();

    expect(delivered).toHaveLength(1);
    const [batch] = delivered;
    expect(batch?.attributes).toEqual({ "content-type": BATCH_CONTENT_TYPE, "content-encoding": "gzip" });
    expect(batch?.body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(JSON.parse(gunzipSync(batch?.body ?? Buffer.alloc(0)).toString("utf8"))).toEqual(events);
    expect(batch?.body.length).toBeLessThan(Buffer.byteLength(JSON.stringify(events)) / 4);
  });

  it("without gzip, sends the plain JSON array and no content-encoding", async () => {
    const { publisher, delivered } = setup({ gzip: false });
    publisher.publish(event(1));
    await publisher.flush();
    expect(delivered[0]?.attributes).toEqual({ "content-type": BATCH_CONTENT_TYPE });
    expect(JSON.parse(delivered[0]?.body.toString("utf8") ?? "")).toEqual([event(1)]);
  });

  it("counts the events a receiver rejects one by one as rejected, not sent, and does not resend them", async () => {
    const clock = createManualClock();
    const errors: PublisherError[] = [];
    let calls = 0;
    const publisher = createBatchingPublisher({
      gzip: false,
      clock,
      maxBatchEvents: 4,
      onError: (e) => errors.push(e),
      send: async () => {
        calls += 1;
        return {
          rejected: [
            { index: 3, field: "data.gpu_seconds", reason: "data.gpu_seconds: must be positive" },
            { index: 1, field: "time", reason: "time: in the future", id: "named-by-receiver" },
            { index: 1, field: "time", reason: "listed twice" },
            { index: 9, field: "", reason: "not an event of this batch" },
          ],
        };
      },
    });
    for (let i = 0; i < 4; i += 1) publisher.publish(event(i));
    await clock.advance(10_000);

    expect(calls).toBe(1);
    const stats = publisher.stats();
    expect(stats).toMatchObject({ sent: 2, rejected: 2, failed: 0, retried: 0, batches: 1, buffered: 0 });
    expect(balanced(stats)).toBe(true);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "rejected", count: 2 });
    expect(errors[0]?.rejected).toEqual([
      {
        index: 1,
        field: "time",
        reason: "time: in the future",
        id: "named-by-receiver",
        source: "//test/publisher",
      },
      {
        index: 3,
        field: "data.gpu_seconds",
        reason: "data.gpu_seconds: must be positive",
        id: "e-3",
        source: "//test/publisher",
      },
    ]);
  });

  it("on a final refusal naming bad events, counts those rejected and the rest failed", async () => {
    const { clock, publisher, attempts, errors } = setup({ maxBatchEvents: 3 }, () =>
      Promise.reject(
        new SendError("rejected", "400", {
          status: 400,
          rejected: [{ index: 0, field: "type", reason: "type: unknown" }],
        }),
      ),
    );
    for (let i = 0; i < 3; i += 1) publisher.publish(event(i));
    await clock.advance(10_000);
    expect(attempts).toHaveLength(1);
    const stats = publisher.stats();
    expect(stats).toMatchObject({ rejected: 1, failed: 2, sent: 0, retried: 0 });
    expect(balanced(stats)).toBe(true);
    expect(errors.map((e) => [e.code, e.count])).toEqual([
      ["rejected", 1],
      ["send_failed", 2],
    ]);
  });

  it("waits the receiver's Retry-After when longer than the backoff, up to maxRetryAfterMs", async () => {
    const answers = [
      new SendError("unavailable", "503", { status: 503, retryAfterMs: 2_000 }),
      new SendError("unavailable", "503", { status: 503, retryAfterMs: 10 }),
      new SendError("unavailable", "503", { status: 503, retryAfterMs: 3_600_000 }),
    ];
    const { clock, publisher, attempts } = setup(
      {
        maxBatchEvents: 1,
        retry: { attempts: 5, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 },
      },
      (n) => (n <= answers.length ? Promise.reject(answers[n - 1]) : Promise.resolve()),
    );
    const start = clock.now();
    publisher.publish(event(1));
    await clock.advance(60_000);
    // Waits: Retry-After 2,000; backoff 200 (longer than Retry-After 10); Retry-After cut to 5,000.
    expect(attempts.map((a) => a.at - start)).toEqual([0, 2_000, 2_200, 7_200]);
    expect(publisher.stats()).toMatchObject({ sent: 1, retried: 3, failed: 0 });
  });

  it("rejects options that cannot work, naming the option", () => {
    const send = async () => undefined;
    expect(() => createBatchingPublisher({ send, maxBatchEvents: 0 })).toThrow(SdkConfigError);
    expect(() => createBatchingPublisher({ send, retry: { attempts: 1.5 } })).toThrow(/retry\.attempts/);
    expect(() => createBatchingPublisher({ send, maxDelayMs: -1 })).toThrow(/maxDelayMs/);
  });
});

describe("busSender", () => {
  it("publishes each batch as one bus message with the batch attributes", async () => {
    const bus = createMemoryBus({ logger: silentLogger });
    const received: DeliveredMessage[] = [];
    await bus.subscribe("finops-cost-events", "sdk-test", async (m) => {
      received.push(m);
    });
    const publisher = createBatchingPublisher({ send: busSender(bus, "finops-cost-events") });
    publisher.publish(event(1));
    publisher.publish(event(2));
    await publisher.close();
    await bus.drain();

    expect(received).toHaveLength(1);
    expect(received[0]?.attributes).toMatchObject({
      "content-type": BATCH_CONTENT_TYPE,
      "content-encoding": "gzip",
    });
    expect(JSON.parse(gunzipSync(received[0]?.data ?? Buffer.alloc(0)).toString())).toEqual([
      event(1),
      event(2),
    ]);
    await bus.close();
  });
});

describe("httpSender", () => {
  const body = Buffer.from("[]");
  const attributes = { "content-type": BATCH_CONTENT_TYPE, "content-encoding": "gzip" };
  const signal = new AbortController().signal;

  it("POSTs the body with the attributes as headers", async () => {
    const calls: Array<{ url: string; init: RequestInit | undefined }> = [];
    const fetchImpl: typeof fetch = async (url, init) => {
      calls.push({ url: String(url), init });
      return new Response("{}", { status: 200 });
    };
    await httpSender("http://127.0.0.1:9/v1/events", fetchImpl, { headers: { "x-tenant": "a" } })(
      body,
      attributes,
      { signal },
    );
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe("http://127.0.0.1:9/v1/events");
    expect(calls[0]?.init?.method).toBe("POST");
    expect(calls[0]?.init?.headers).toEqual({ ...attributes, "x-tenant": "a" });
    expect(Buffer.from(calls[0]?.init?.body as Uint8Array)).toEqual(body);
  });

  it("tells transient answers (5xx, 429, network) from final ones (other 4xx)", async () => {
    const answer =
      (status: number): typeof fetch =>
      async () =>
        new Response("no", { status });
    const send = (f: typeof fetch) =>
      httpSender("http://127.0.0.1:9/v1/events", f)(body, attributes, { signal });

    await expect(send(answer(503))).rejects.toMatchObject({ code: "unavailable", status: 503 });
    await expect(send(answer(429))).rejects.toMatchObject({ code: "unavailable", retryable: true });
    await expect(send(answer(400))).rejects.toMatchObject({ code: "rejected", retryable: false });
    const down: typeof fetch = async () => {
      throw new TypeError("fetch failed");
    };
    await expect(send(down)).rejects.toMatchObject({ code: "unavailable" });
  });
});
