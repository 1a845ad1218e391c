import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";
import type { Bus } from "#ports/bus.ts";
import { type SdkClock, type SdkTimer, systemSdkClock } from "#sdk/sdk-clock.ts";
import {
  isRetryable,
  PublisherError,
  type RejectedEvent,
  SdkConfigError,
  SendError,
} from "#sdk/sdk-errors.ts";

export type { RejectedEvent } from "#sdk/sdk-errors.ts";

const gzipAsync = promisify(gzipCallback);

/** A structured-mode CloudEvent as the SDK emits it (plain JSON, `time` in RFC 3339). */
export interface OutgoingCloudEvent {
  specversion: "1.0";
  id: string;
  source: string;
  type: string;
  time: string;
  subject?: string;
  datacontenttype?: string;
  data?: unknown;
}

/** What recorders and trackers need of a publisher: a call that takes an event and never throws. */
export interface EventPublisher {
  publish(event: OutgoingCloudEvent): void;
}

export type SendAttributes = Record<string, string>;

/** What a receiver said of a batch it answered: the events it refused one by one, if any. */
export interface SendResult {
  /** Events of the batch refused for what is wrong with them (indexes into the batch); never resent. */
  rejected?: readonly RejectedEvent[];
}

/**
 * Delivers one batch: the body (a CloudEvents batch, gzip-compressed when the attributes say
 * `content-encoding: gzip`) and its attributes (Pub/Sub attributes or HTTP headers). Resolving
 * means the receiver answered: it took every event except those the result names as `rejected`.
 * Throw a `SendError` (or any error with `retryable: false`, such as an `invalid` BusError) for a
 * final refusal; any other error is retried, after the error's `retryAfterMs` when it has one.
 * Honour `signal` where possible: it aborts on the per-attempt timeout and at the close deadline.
 */
export type SendBatch = (
  body: Buffer,
  attributes: SendAttributes,
  options: { signal: AbortSignal },
  // biome-ignore lint/suspicious/noConfusingVoidType: a sender that answers nothing (Promise<void>) took every event
) => Promise<SendResult | undefined | void>;

export interface RetryPolicy {
  /** Attempts per batch, the first included. Default 5. */
  attempts?: number;
  /** Wait before the second attempt; doubles per attempt. Default 200 ms. */
  baseDelayMs?: number;
  /** Ceiling of one wait. Default 5,000 ms. */
  maxDelayMs?: number;
  /**
   * Longest receiver's `Retry-After` honoured: a retry waits the larger of its backoff and the
   * receiver's Retry-After, the latter cut to this. Default 30,000 ms.
   */
  maxRetryAfterMs?: number;
}

export interface BatchingPublisherOptions {
  send: SendBatch;
  /** Events per batch. Default 500. */
  maxBatchEvents?: number;
  /** Uncompressed bytes of one batch's JSON array (an upper bound of the compressed size). Default 1,000,000. */
  maxBatchBytes?: number;
  /** How long the oldest buffered event waits before its batch goes out anyway. Default 1,000 ms. */
  maxDelayMs?: number;
  /**
   * Events held at most, waiting or being sent: the publisher's memory bound. When it is reached,
   * new events are dropped (counted in `dropped`). Default 10,000.
   */
  maxBufferedEvents?: number;
  /** Batches being sent (or waiting to retry) at once. Default 1. */
  maxConcurrentSends?: number;
  retry?: RetryPolicy;
  /** Per-attempt deadline of `send`; a timeout counts as a transient failure. Default 10,000 ms. */
  sendTimeoutMs?: number;
  /** Compress each batch (node:zlib gzip) and say so in `content-encoding`. Default true. */
  gzip?: boolean;
  /** Told about failures and drops; never called with the request in the stack. Must not throw (it is guarded). */
  onError?: (error: PublisherError) => void;
  clock?: SdkClock;
  /** Source of jitter in [0, 1). Default Math.random. */
  random?: () => number;
}

export interface PublisherStats {
  /**
   * Every event handed to `publish()`, whatever became of it:
   * published = sent + rejected + failed + dropped + buffered.
   */
  published: number;
  /** Events the receiver took (stored, or already stored). */
  sent: number;
  /** Events the receiver refused one by one for what is wrong with them (a 207's or 400's `rejected`); not resent. */
  rejected: number;
  /** Batches the receiver answered (all or some of their events taken). */
  batches: number;
  /** Events never handed off: buffer full, too large, not serializable, after close, or abandoned at the close deadline. */
  dropped: number;
  /** Attempts that failed and were tried again. */
  retried: number;
  /** Events in batches given up after the last attempt or a final refusal. */
  failed: number;
  /** Events held now: waiting for a batch, being sent, or waiting to retry. */
  buffered: number;
}

export interface BatchingPublisher extends EventPublisher {
  /**
   * Synchronous, O(1) apart from serializing the event, and never throws: a full buffer, a
   * closed publisher or a bad event only bumps `dropped` (and tells `onError`).
   */
  publish(event: OutgoingCloudEvent): void;
  /**
   * Sends everything published before the call now, without waiting for `maxDelayMs`, and resolves
   * once each of those events is settled (sent, failed or dropped): true then, false when
   * `timeoutMs` passed first (sending continues in the background). Never rejects.
   */
  flush(timeoutMs?: number): Promise<boolean>;
  /**
   * Stops taking events, flushes, and resolves within `timeoutMs` (default 5,000): whatever is still
   * unsent at the deadline is abandoned (its sends aborted) and counted as dropped. Idempotent.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
  stats(): PublisherStats;
}

export const BATCH_CONTENT_TYPE = "application/cloudevents-batch+json";

interface Entry {
  seq: number;
  at: number;
  text: string;
  bytes: number;
}

interface ActiveBatch {
  firstSeq: number;
  size: number;
  abandoned: boolean;
  controller: AbortController | undefined;
  /** Ends a backoff wait early (close deadline). */
  wake: (() => void) | undefined;
}

interface Waiter {
  throughSeq: number;
  resolve: () => void;
}

function positive(field: string, value: number, integer = true): number {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new SdkConfigError(field, `must be a positive ${integer ? "integer" : "number"}, got ${value}`);
  }
  return value;
}

function nonNegative(field: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new SdkConfigError(field, `must be a non-negative number, got ${value}`);
  }
  return value;
}

/**
 * Buffers CloudEvents in memory and sends them as CloudEvents batches (one JSON array per batch),
 * by size (`maxBatchEvents`, `maxBatchBytes`) or age (`maxDelayMs`), retrying each batch with
 * exponential backoff and jitter. Built for the request path of an inference server: `publish`
 * costs one JSON.stringify and never blocks, throws or grows memory past `maxBufferedEvents`.
 *
 * Overflow policy: when `maxBufferedEvents` events are held (waiting, being sent or waiting to
 * retry), new events are dropped and counted; events already held are kept. Held events are
 * the oldest, the ones a retry is already working on; dropping the newest keeps `publish` O(1),
 * never discards a batch mid-send, and an outage loses one contiguous stretch of events.
 */
export function createBatchingPublisher(options: BatchingPublisherOptions): BatchingPublisher {
  if (typeof options.send !== "function") throw new SdkConfigError("send", "must be a function");
  const maxBatchEvents = positive("maxBatchEvents", options.maxBatchEvents ?? 500);
  const maxBatchBytes = positive("maxBatchBytes", options.maxBatchBytes ?? 1_000_000);
  const maxDelayMs = nonNegative("maxDelayMs", options.maxDelayMs ?? 1000);
  const maxBufferedEvents = positive("maxBufferedEvents", options.maxBufferedEvents ?? 10_000);
  const maxConcurrentSends = positive("maxConcurrentSends", options.maxConcurrentSends ?? 1);
  const attempts = positive("retry.attempts", options.retry?.attempts ?? 5);
  const baseDelayMs = nonNegative("retry.baseDelayMs", options.retry?.baseDelayMs ?? 200);
  const maxRetryDelayMs = nonNegative("retry.maxDelayMs", options.retry?.maxDelayMs ?? 5000);
  const maxRetryAfterMs = nonNegative("retry.maxRetryAfterMs", options.retry?.maxRetryAfterMs ?? 30_000);
  const sendTimeoutMs = positive("sendTimeoutMs", options.sendTimeoutMs ?? 10_000, false);
  const gzip = options.gzip ?? true;
  const clock = options.clock ?? systemSdkClock;
  const random = options.random ?? Math.random;
  const send = options.send;
  const attributes: SendAttributes = gzip
    ? { "content-type": BATCH_CONTENT_TYPE, "content-encoding": "gzip" }
    : { "content-type": BATCH_CONTENT_TYPE };

  const counters = { published: 0, sent: 0, rejected: 0, batches: 0, dropped: 0, retried: 0, failed: 0 };
  // The queue is an array read from `head`; consumed slots are compacted away now and then.
  let queue: Entry[] = [];
  let head = 0;
  let queuedBytes = 0;
  let inFlight = 0;
  let nextSeq = 1;
  /** Entries with seq <= flushThrough go out regardless of size and age. */
  let flushThrough = 0;
  let closed = false;
  let closing: Promise<void> | undefined;
  let overflowReported = false;
  let closedReported = false;
  let delayTimer: SdkTimer | undefined;
  let pumpScheduled = false;
  const active = new Set<ActiveBatch>();
  let waiters: Waiter[] = [];

  const queued = () => queue.length - head;

  function report(error: PublisherError): void {
    if (!options.onError) return;
    try {
      options.onError(error);
    } catch {
      // A failing error callback must not turn into a failure of the publisher or the request.
    }
  }

  function drop(code: PublisherError["code"], message: string, cause?: unknown): void {
    counters.dropped += 1;
    report(new PublisherError(code, message, { cause, count: 1 }));
  }

  function oldestUnsettled(): number {
    let oldest = queued() > 0 ? (queue[head] as Entry).seq : Number.POSITIVE_INFINITY;
    for (const batch of active) if (!batch.abandoned && batch.firstSeq < oldest) oldest = batch.firstSeq;
    return oldest;
  }

  function notifyWaiters(): void {
    if (waiters.length === 0) return;
    const oldest = oldestUnsettled();
    const still: Waiter[] = [];
    for (const waiter of waiters) {
      if (waiter.throughSeq < oldest) waiter.resolve();
      else still.push(waiter);
    }
    waiters = still;
  }

  function batchReady(now: number): boolean {
    const count = queued();
    if (count === 0) return false;
    const first = queue[head] as Entry;
    if (first.seq <= flushThrough || count >= maxBatchEvents) return true;
    // A full batch by bytes: the array's brackets and commas count too.
    if (queuedBytes + count + 1 >= maxBatchBytes) return true;
    return now - first.at >= maxDelayMs;
  }

  function cutBatch(): Entry[] {
    const batch: Entry[] = [];
    let bytes = 2;
    while (head < queue.length && batch.length < maxBatchEvents) {
      const entry = queue[head] as Entry;
      const extra = entry.bytes + (batch.length > 0 ? 1 : 0);
      if (batch.length > 0 && bytes + extra > maxBatchBytes) break;
      batch.push(entry);
      bytes += extra;
      queuedBytes -= entry.bytes;
      head += 1;
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    return batch;
  }

  function armDelayTimer(): void {
    if (delayTimer || queued() === 0) return;
    const first = queue[head] as Entry;
    const wait = Math.max(0, first.at + maxDelayMs - clock.now());
    delayTimer = clock.setTimer(() => {
      delayTimer = undefined;
      pump();
    }, wait);
  }

  function schedulePump(): void {
    if (pumpScheduled) return;
    pumpScheduled = true;
    queueMicrotask(() => {
      pumpScheduled = false;
      pump();
    });
  }

  function pump(): void {
    const now = clock.now();
    while (active.size < maxConcurrentSends && batchReady(now)) {
      const batch = cutBatch();
      if (batch.length === 0) break;
      void sendBatch(batch);
    }
    if (queued() === 0) {
      delayTimer?.cancel();
      delayTimer = undefined;
    } else if (active.size < maxConcurrentSends) {
      armDelayTimer();
    }
  }

  function backoffMs(failedAttempt: number): number {
    const ceiling = Math.min(maxRetryDelayMs, baseDelayMs * 2 ** (failedAttempt - 1));
    // "Equal jitter": at least half the exponential delay, so retries spread out but still back off.
    return ceiling / 2 + (random() * ceiling) / 2;
  }

  /** The wait before retrying: the backoff, or the receiver's Retry-After when longer (up to its bound). */
  function retryDelayMs(failedAttempt: number, error: unknown): number {
    const backoff = backoffMs(failedAttempt);
    const asked = retryAfterOf(error);
    return asked === undefined ? backoff : Math.max(backoff, Math.min(asked, maxRetryAfterMs));
  }

  /** Counts and reports the events a receiver refused one by one. */
  function refuse(rejected: readonly RejectedEvent[], batchSize: number): void {
    counters.rejected += rejected.length;
    const first = rejected[0] as RejectedEvent;
    report(
      new PublisherError(
        "rejected",
        `the receiver rejected ${rejected.length} of a batch of ${batchSize} events (first: ${first.reason})`,
        { count: rejected.length, rejected },
      ),
    );
  }

  function wait(batch: ActiveBatch, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = clock.setTimer(() => {
        batch.wake = undefined;
        resolve();
      }, ms);
      batch.wake = () => {
        timer.cancel();
        batch.wake = undefined;
        resolve();
      };
    });
  }

  async function attempt(batch: ActiveBatch, body: Buffer): Promise<SendResult | undefined> {
    const controller = new AbortController();
    batch.controller = controller;
    let timer: SdkTimer | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = clock.setTimer(() => {
        controller.abort();
        reject(new SendError("unavailable", `send did not settle within ${sendTimeoutMs} ms`));
      }, sendTimeoutMs);
      // Abandoned at the close deadline: stop waiting even for a sender that ignores the signal.
      controller.signal.addEventListener(
        "abort",
        () => reject(new SendError("unavailable", "send aborted")),
        {
          once: true,
        },
      );
    });
    timeout.catch(() => undefined);
    // The sender may throw synchronously: calling it inside an async function turns that into a rejection.
    const sending = (async () => send(body, attributes, { signal: controller.signal }))();
    sending.catch(() => undefined);
    try {
      return (await Promise.race([sending, timeout])) || undefined;
    } finally {
      timer?.cancel();
      batch.controller = undefined;
    }
  }

  async function sendBatch(entries: Entry[]): Promise<void> {
    const batch: ActiveBatch = {
      firstSeq: (entries[0] as Entry).seq,
      size: entries.length,
      abandoned: false,
      controller: undefined,
      wake: undefined,
    };
    active.add(batch);
    inFlight += batch.size;
    try {
      const json = Buffer.from(`[${entries.map((e) => e.text).join(",")}]`, "utf8");
      const body = gzip ? await gzipAsync(json) : json;
      for (let n = 1; !batch.abandoned; n += 1) {
        try {
          const result = await attempt(batch, body);
          if (batch.abandoned) return;
          const rejected = namedRejections(result?.rejected, entries);
          counters.sent += batch.size - rejected.length;
          counters.batches += 1;
          if (rejected.length > 0) refuse(rejected, batch.size);
          return;
        } catch (error) {
          if (batch.abandoned) return;
          if (n >= attempts || !isRetryable(error)) {
            const final = !isRetryable(error);
            // A final refusal may name bad events one by one (an HTTP 400 ingest answer).
            const rejected = final ? namedRejections(rejectedOf(error), entries) : [];
            if (rejected.length > 0) refuse(rejected, batch.size);
            const lost = batch.size - rejected.length;
            if (lost > 0) {
              counters.failed += lost;
              const why = final ? "refused by the receiver" : `after ${n} attempts`;
              report(
                new PublisherError("send_failed", `a batch of ${batch.size} events was given up ${why}`, {
                  cause: error,
                  count: lost,
                }),
              );
            }
            return;
          }
          counters.retried += 1;
          await wait(batch, retryDelayMs(n, error));
        }
      }
    } catch (error) {
      // Only compression can get here; the batch cannot be sent as it is.
      if (!batch.abandoned) {
        counters.failed += batch.size;
        report(new PublisherError("send_failed", "a batch could not be compressed", { cause: error }));
      }
    } finally {
      active.delete(batch);
      if (!batch.abandoned) inFlight -= batch.size;
      notifyWaiters();
      pump();
    }
  }

  function abandonAll(): void {
    let count = queued();
    queue = [];
    head = 0;
    queuedBytes = 0;
    delayTimer?.cancel();
    delayTimer = undefined;
    for (const batch of active) {
      if (batch.abandoned) continue;
      batch.abandoned = true;
      count += batch.size;
      inFlight -= batch.size;
      batch.controller?.abort();
      batch.wake?.();
    }
    active.clear();
    if (count > 0) {
      counters.dropped += count;
      report(
        new PublisherError("abandoned", `${count} events were still unsent at the close deadline`, { count }),
      );
    }
    notifyWaiters();
  }

  function flushUntil(deadlineMs: number | undefined): Promise<boolean> {
    const throughSeq = nextSeq - 1;
    if (throughSeq < oldestUnsettled()) return Promise.resolve(true);
    flushThrough = Math.max(flushThrough, throughSeq);
    pump();
    return new Promise<boolean>((resolve) => {
      let timer: SdkTimer | undefined;
      const waiter: Waiter = {
        throughSeq,
        resolve: () => {
          timer?.cancel();
          resolve(true);
        },
      };
      waiters.push(waiter);
      if (deadlineMs !== undefined) {
        timer = clock.setTimer(
          () => {
            waiters = waiters.filter((w) => w !== waiter);
            resolve(false);
          },
          Math.max(0, deadlineMs),
        );
      }
    });
  }

  return {
    publish(event) {
      counters.published += 1;
      try {
        if (closed) {
          counters.dropped += 1;
          if (!closedReported) {
            closedReported = true;
            report(new PublisherError("closed", "events published after close() are dropped"));
          }
          return;
        }
        if (queued() + inFlight >= maxBufferedEvents) {
          counters.dropped += 1;
          if (!overflowReported) {
            overflowReported = true;
            report(
              new PublisherError(
                "overflow",
                `the buffer holds ${maxBufferedEvents} events; new events are dropped until it drains`,
              ),
            );
          }
          return;
        }
        let text: string | undefined;
        try {
          text = JSON.stringify(event);
        } catch (error) {
          drop("unserializable", "an event could not be serialized to JSON", error);
          return;
        }
        if (typeof text !== "string") {
          drop("unserializable", "an event serialized to nothing");
          return;
        }
        const bytes = Buffer.byteLength(text, "utf8");
        if (bytes + 2 > maxBatchBytes) {
          drop("too_large", `an event of ${bytes} bytes does not fit a batch of ${maxBatchBytes} bytes`);
          return;
        }
        overflowReported = false;
        queue.push({ seq: nextSeq++, at: clock.now(), text, bytes });
        queuedBytes += bytes;
        if (queued() >= maxBatchEvents || queuedBytes + queued() + 1 >= maxBatchBytes) schedulePump();
        else if (!delayTimer && active.size < maxConcurrentSends) armDelayTimer();
      } catch (error) {
        // Nothing above should throw; if it does, the event is lost, not the request.
        counters.dropped += 1;
        report(new PublisherError("internal", "publish failed unexpectedly", { cause: error }));
      }
    },

    flush(timeoutMs) {
      try {
        return flushUntil(timeoutMs);
      } catch {
        return Promise.resolve(false);
      }
    },

    close(closeOptions) {
      if (closing) return closing;
      closed = true;
      const timeoutMs = closeOptions?.timeoutMs ?? 5000;
      closing = flushUntil(timeoutMs).then(
        (done) => {
          if (!done) abandonAll();
          delayTimer?.cancel();
          delayTimer = undefined;
        },
        () => abandonAll(),
      );
      return closing;
    },

    stats() {
      return { ...counters, buffered: queued() + inFlight };
    },
  };
}

/** The `retryAfterMs` a failed send carries (a SendError from an HTTP Retry-After), if any. */
function retryAfterOf(error: unknown): number | undefined {
  if (error === null || typeof error !== "object" || !("retryAfterMs" in error)) return undefined;
  const value = error.retryAfterMs;
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** The `rejected` list a final refusal carries (a SendError from an HTTP 400 ingest answer), if any. */
function rejectedOf(error: unknown): unknown {
  return error !== null && typeof error === "object" && "rejected" in error ? error.rejected : undefined;
}

/** The event's own id and source, read back from its JSON (for a rejection that does not name them). */
function identityOf(text: string): { id?: string; source?: string } {
  try {
    const raw: unknown = JSON.parse(text);
    if (raw === null || typeof raw !== "object") return {};
    const { id, source } = raw as { id?: unknown; source?: unknown };
    return {
      ...(typeof id === "string" ? { id } : {}),
      ...(typeof source === "string" ? { source } : {}),
    };
  } catch {
    return {};
  }
}

/**
 * The rejections a receiver named that are events of this batch: one per index in range, in index
 * order, each with its event's id and source (the receiver's, else read from the event).
 */
function namedRejections(list: unknown, entries: readonly Entry[]): RejectedEvent[] {
  if (!Array.isArray(list) || list.length === 0) return [];
  const byIndex = new Map<number, RejectedEvent>();
  for (const item of list as unknown[]) {
    if (item === null || typeof item !== "object") continue;
    const { index, field, reason, id, source } = item as Record<string, unknown>;
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= entries.length)
      continue;
    if (byIndex.has(index)) continue;
    const own = identityOf((entries[index] as Entry).text);
    const named = {
      ...(typeof id === "string" ? { id } : {}),
      ...(typeof source === "string" ? { source } : {}),
    };
    byIndex.set(index, {
      index,
      field: typeof field === "string" ? field : "",
      reason: typeof reason === "string" ? reason : "rejected by the receiver",
      ...own,
      ...named,
    });
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

/** A `send` that publishes each batch as one message on a Bus topic, the attributes as message attributes. */
export function busSender(bus: Bus, topic: string): SendBatch {
  return async (body, attributes) => {
    await bus.publish(topic, [{ data: body, attributes: { ...attributes } }]);
  };
}

const MAX_ERROR_TEXT = 512;

/**
 * An HTTP `Retry-After` (delay-seconds or an HTTP date) in milliseconds from `nowMs`; undefined
 * when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  const text = value?.trim() ?? "";
  if (text === "") return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * The per-event rejections of an ingest answer (`{received, accepted, duplicates, rejected: [...]}`),
 * or undefined when `text` is not one. Rejections of the body as a whole (`field: "body"`: it could
 * not be read) name no event and are left out.
 */
function ingestRejections(text: string): RejectedEvent[] | undefined {
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (answer === null || typeof answer !== "object" || !("rejected" in answer)) return undefined;
  const rejected = answer.rejected;
  if (!Array.isArray(rejected)) return undefined;
  return (rejected as unknown[]).filter(
    (r): r is RejectedEvent =>
      r !== null &&
      typeof r === "object" &&
      typeof (r as { index?: unknown }).index === "number" &&
      (r as { field?: unknown }).field !== "body",
  );
}

/**
 * A `send` that POSTs each batch to `url` (the local stack's or an ingest function's
 * `/v1/events`), the attributes as headers, and reads the ingest answer:
 * - 200: every event taken. 207: the answer's `rejected` events were refused for what is wrong
 *   with them (counted as rejected, not resent), the others taken; a 207 without a readable ingest
 *   answer is a final failure of the batch, since which events were taken is unknown.
 * - 408, 429, 5xx and network errors are transient: the batch is resent, after `Retry-After` when
 *   the answer gives one.
 * - Any other status (400: nothing taken) is final for the batch; a 400's per-event rejections
 *   are reported as such.
 */
export function httpSender(
  url: string | URL,
  fetchImpl: typeof fetch = globalThis.fetch,
  options: { headers?: Record<string, string> } = {},
): SendBatch {
  const target = new URL(url);
  return async (body, attributes, sendOptions) => {
    let response: Response;
    try {
      response = await fetchImpl(target, {
        method: "POST",
        headers: { ...options.headers, ...attributes },
        body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
        signal: sendOptions?.signal,
      });
    } catch (error) {
      throw new SendError("unavailable", `POST ${target.origin}${target.pathname} failed`, { cause: error });
    }
    const text = await response.text().catch(() => "");
    const status = response.status;
    const where = `POST ${target.origin}${target.pathname}`;
    if (response.ok) {
      const rejected = ingestRejections(text);
      if (rejected === undefined && status === 207) {
        throw new SendError(
          "rejected",
          `${where} answered 207 without an ingest answer, so which events it took is unknown: ${text.slice(0, MAX_ERROR_TEXT)}`,
          { status },
        );
      }
      return rejected === undefined || rejected.length === 0 ? undefined : { rejected };
    }
    const transient = status === 408 || status === 429 || status >= 500;
    const retryAfterMs = transient
      ? parseRetryAfter(response.headers.get("retry-after"), Date.now())
      : undefined;
    const rejected = transient ? undefined : ingestRejections(text);
    throw new SendError(
      transient ? "unavailable" : "rejected",
      `${where} answered ${status}: ${text.slice(0, MAX_ERROR_TEXT)}`,
      {
        status,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        ...(rejected === undefined || rejected.length === 0 ? {} : { rejected }),
      },
    );
  };
}
