import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createMemorySeenStore } from "#adapters/memory-seen-store/memory-seen-store.ts";
import type { IngestEvents, IngestSummary } from "#app/ingest-events.ts";
import { createIngestTraces } from "#app/ingest-traces.ts";
import { type Deployment, deploymentsSchema } from "#domain/otlp/deployments.ts";
import { type BusySpan, shareWindowBusyTime, splitByWeight } from "#domain/otlp/gpu-share.ts";
import { SPAN_KIND, type TraceExport } from "#domain/otlp/spans.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";

/**
 * GPU time is conserved: for random requests of one replica (overlapping as continuous batching
 * makes them, across hour boundaries), exported in random batches and in any order, retried or not,
 * the GPU-seconds handed to the replica's requests never exceed its busy time (the union of their
 * times in the model) times its GPUs; no request gets more than its own time in the model; a retried
 * export gets the same shares (the same events, so duplicates); and one export holding every
 * request of a busy stretch hands out that stretch exactly, across hours too.
 */

const GPUS = 2;
const T0_US = BigInt(Date.UTC(2026, 10, 15, 9, 40)) * 1000n;

const [DEPLOYMENT] = deploymentsSchema.parse([
  {
    name: "llama-chat",
    match: { "service.name": "vllm-llama-chat" },
    model: "llama-3.1-8b-instruct",
    owner: { team: "assistants" },
    placement: { cloud: "gcp", region: "us-central1", accelerator: "nvidia-l4", gpusPerReplica: GPUS },
  },
]) as [Deployment];

interface Request {
  /** Offset of arrival from T0, in ms. */
  startMs: number;
  /** Time in the model, in ms (0: a request that never ran). */
  durationMs: number;
  /** Time in queue before it, in ms. */
  queueMs: number;
}

const request = fc.record({
  startMs: fc.integer({ min: 0, max: 2 * 3600 * 1000 }),
  durationMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 * 60 * 1000 })),
  queueMs: fc.integer({ min: 0, max: 5000 }),
});

function hex(n: number, digits: number): string {
  return n.toString(16).padStart(digits, "0");
}

/** A vLLM llm_request span for the request, numbered `i`. */
function vllmSpan(r: Request, i: number) {
  const start = (T0_US + BigInt(r.startMs) * 1000n) * 1000n;
  const end = start + BigInt(r.queueMs + r.durationMs) * 1_000_000n;
  return {
    traceId: hex(i + 1, 32),
    spanId: hex(i + 1, 16),
    name: "llm_request",
    kind: SPAN_KIND.server,
    startNs: start,
    endNs: end,
    attributes: {
      "gen_ai.request.id": `chatcmpl-${i}`,
      "gen_ai.usage.prompt_tokens": 100,
      "gen_ai.usage.completion_tokens": 20,
      "gen_ai.latency.time_in_queue": r.queueMs / 1000,
      "gen_ai.latency.time_in_model_inference": r.durationMs / 1000,
    },
  };
}

function exportOf(spans: ReturnType<typeof vllmSpan>[]): TraceExport {
  return {
    resourceSpans: [{ resource: { "service.name": "vllm-llama-chat", "k8s.pod.name": "llama-0" }, spans }],
  };
}

type Captured = { id: string; time: string; data: { gpu_seconds: number; gpu_count: number } };

/** The receiver over a memory seen-store, with an ingest that keeps the first copy of each event. */
function receiver() {
  const stored = new Map<string, Captured>();
  const bodies: Captured[][] = [];
  const ingestEvents: Pick<IngestEvents, "ingest" | "keepRefused"> = {
    async keepRefused() {},
    async ingest(body) {
      const events = JSON.parse(String(body)) as Captured[];
      bodies.push(events);
      let accepted = 0;
      let duplicates = 0;
      for (const e of events) {
        if (stored.has(e.id)) duplicates += 1;
        else {
          stored.set(e.id, e);
          accepted += 1;
        }
      }
      const summary: IngestSummary = {
        received: events.length,
        accepted,
        duplicates,
        conflicts: 0,
        rejected: [],
        hours: null,
      };
      return summary;
    },
  };
  const traces = createIngestTraces({
    ingestEvents,
    seen: createMemorySeenStore(),
    deployments: [DEPLOYMENT],
    clock: fixedClock(new Date(Date.UTC(2026, 10, 15, 13))),
    logger: silentLogger,
  });
  return { traces, stored, bodies };
}

/** Microseconds of replica time handed out to the events. */
function handedOut(events: Iterable<Captured>): bigint {
  let total = 0n;
  for (const e of events) total += BigInt(Math.round(e.data.gpu_seconds * 1e6));
  return total;
}

/** Microseconds in which at least one of the requests was in the model: the replica's busy time. */
function busyTime(requests: readonly Request[]): bigint {
  const spans = requests
    .map((r) => {
      const end = T0_US + BigInt(r.startMs + r.queueMs + r.durationMs) * 1000n;
      return { from: end - BigInt(r.durationMs) * 1000n, to: end };
    })
    .filter((s) => s.to > s.from)
    .sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  let busy = 0n;
  let reach: bigint | undefined;
  for (const s of spans) {
    const start = reach === undefined || s.from > reach ? s.from : reach;
    if (s.to > start) {
      busy += s.to - start;
      reach = s.to;
    }
  }
  return busy;
}

describe("GPU time is conserved", () => {
  it("never hands a replica's requests more than its busy time, nor one more than its own, whatever the exports", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(request, { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 5 }),
        async (requests, cuts, shuffle, retries) => {
          // Prepare: spans in the order they end, cut into exports; maybe sent out of order, some twice.
          const spans = requests
            .map(vllmSpan)
            .sort((a, b) => (a.endNs < b.endNs ? -1 : a.endNs > b.endNs ? 1 : 0));
          const exports: ReturnType<typeof vllmSpan>[][] = [];
          for (let at = 0, c = 0; at < spans.length; c += 1) {
            const size = cuts[c % cuts.length] as number;
            exports.push(spans.slice(at, at + size));
            at += size;
          }
          if (shuffle) exports.reverse();
          const { traces, stored, bodies } = receiver();
          const answers = new Map<number, Captured[]>();

          // Act
          for (let i = 0; i < exports.length; i++) {
            await traces.ingest(exportOf(exports[i] as ReturnType<typeof vllmSpan>[]));
            answers.set(i, bodies.at(-1) ?? []);
          }
          for (const r of retries) {
            const i = r % exports.length;
            await traces.ingest(exportOf(exports[i] as ReturnType<typeof vllmSpan>[]));
            // Assess: the retry made the very same events.
            expect(bodies.at(-1)).toEqual(answers.get(i));
          }

          // Assess
          expect(stored.size).toBe(requests.length);
          for (const e of stored.values()) expect(e.data.gpu_count).toBe(GPUS);
          expect(handedOut(stored.values())).toBeLessThanOrEqual(busyTime(requests));
          for (const span of spans) {
            const e = stored.get(`${span.traceId}-${span.spanId}`) as Captured;
            const own = Number(span.attributes["gen_ai.latency.time_in_model_inference"]);
            expect(e.data.gpu_seconds).toBeGreaterThanOrEqual(0);
            expect(e.data.gpu_seconds).toBeLessThanOrEqual(own);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("hands out exactly the busy time of a stretch one export holds whole", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            from: fc.integer({ min: 0, max: 50_000_000 }),
            length: fc.integer({ min: 1, max: 9_000_000 }),
          }),
          {
            minLength: 1,
            maxLength: 30,
          },
        ),
        (raw) => {
          // Prepare: requests within one hour.
          const hour = BigInt(Date.UTC(2026, 10, 15, 9)) * 1000n;
          const spans: BusySpan[] = raw.map((r, i) => ({
            key: `s${i}`,
            fromUs: hour + BigInt(r.from),
            toUs: hour + BigInt(r.from + r.length),
          }));
          // The busy time by a sweep over the starts and ends (another way than the code's).
          const edges = spans.flatMap((s) => [
            { at: s.fromUs, delta: 1 },
            { at: s.toUs, delta: -1 },
          ]);
          edges.sort((a, b) => (a.at === b.at ? a.delta - b.delta : a.at < b.at ? -1 : 1));
          let busy = 0n;
          let running = 0;
          let since = 0n;
          for (const e of edges) {
            if (running > 0) busy += e.at - since;
            running += e.delta;
            since = e.at;
          }
          const first = edges[0]?.at as bigint;
          const last = edges.at(-1)?.at as bigint;

          // Act
          const shares = shareWindowBusyTime({ fromUs: first, toUs: last }, spans);

          // Assess
          expect([...shares.values()].reduce((a, b) => a + b, 0n)).toBe(busy);
        },
      ),
    );
  });

  it("hands out the busy time of hours no request ended in to the requests that ran through them", () => {
    // Prepare: one request 10:30 to 12:30; one of 20 s across 16:00 (the two alone in their windows).
    const at = (h: number, m = 0, sec = 0) => BigInt(Date.UTC(2026, 10, 15, h, m, sec)) * 1000n;
    const long = { key: "long", fromUs: at(10, 30), toUs: at(12, 30) };
    const across = { key: "across", fromUs: at(15, 59, 50), toUs: at(16, 0, 10) };

    // Act
    const first = shareWindowBusyTime({ fromUs: long.fromUs, toUs: long.toUs }, [long]);
    const second = shareWindowBusyTime({ fromUs: long.toUs, toUs: across.toUs }, [across]);

    // Assess: their whole time in the model.
    expect(first.get("long")).toBe(2n * 3_600_000_000n);
    expect(second.get("across")).toBe(20_000_000n);
  });

  it("gives a request an earlier window handed out no weight in a later one", async () => {
    // Prepare: A alone, then an export holding A again with B, which ran after A.
    const a: Request = { startMs: 0, durationMs: 10_000, queueMs: 0 };
    const b: Request = { startMs: 20_000, durationMs: 10_000, queueMs: 0 };
    const { traces, stored } = receiver();

    // Act
    await traces.ingest(exportOf([vllmSpan(a, 0)]));
    await traces.ingest(exportOf([vllmSpan(a, 0), vllmSpan(b, 1)]));

    // Assess: B its whole 10 s; A kept its first answer (the second, 0 s, is the receiver's conflict).
    const [first, second] = [...stored.values()];
    expect([first?.data.gpu_seconds, second?.data.gpu_seconds]).toEqual([10, 10]);
  });

  it("refuses a span from a clock days ahead before it moves the replica's mark, so later requests keep their time", async () => {
    // Prepare: a request, one dated two days ahead, then two more (the clock is 13:00 that day).
    const { traces, stored } = receiver();
    const ahead: Request = { startMs: 2 * 24 * 3600 * 1000, durationMs: 10_000, queueMs: 0 };
    const [a, b, c] = [0, 60_000, 120_000].map(
      (startMs): Request => ({ startMs, durationMs: 10_000, queueMs: 0 }),
    );

    // Act
    await traces.ingest(exportOf([vllmSpan(a as Request, 0)]));
    const refused = await traces.ingest(exportOf([vllmSpan(ahead, 1)]));
    await traces.ingest(exportOf([vllmSpan(b as Request, 2), vllmSpan(c as Request, 3)]));

    // Assess
    expect(refused.partialSuccess?.errorMessage).toMatch(
      /endTimeUnixNano: 2026-11-17T09:40:10.000Z is in the future/,
    );
    expect([...stored.values()].map((e) => e.data.gpu_seconds)).toEqual([10, 10, 10]);
  });

  it("refuses a span whose time no date can hold, and takes the others of its export", async () => {
    const { traces, stored } = receiver();
    const absurd = { ...vllmSpan({ startMs: 0, durationMs: 10_000, queueMs: 0 }, 1), endNs: 10n ** 23n };

    const answer = await traces.ingest(
      exportOf([vllmSpan({ startMs: 0, durationMs: 10_000, queueMs: 0 }, 0), absurd]),
    );

    expect(answer.partialSuccess?.errorMessage).toMatch(
      /endTimeUnixNano: 100000000000000000000000 ns is no time a date can hold/,
    );
    expect(stored.size).toBe(1);
  });

  it("shares overlapping requests' time by their time in the model, to the microsecond", () => {
    // Prepare: three requests in one step of 12 s; one alone after it for 4 s.
    const at = BigInt(Date.UTC(2026, 10, 15, 9)) * 1000n;
    const s = (key: string, from: number, to: number): BusySpan => ({
      key,
      fromUs: at + BigInt(from * 1e6),
      toUs: at + BigInt(to * 1e6),
    });
    const spans = [s("a", 0, 12), s("b", 0, 12), s("c", 0, 12), s("d", 12, 16)];

    // Act
    const shares = shareWindowBusyTime({ fromUs: at, toUs: at + 16_000_000n }, spans);

    // Assess: 16 s busy; weights 12, 12, 12, 4 of 40.
    expect(Object.fromEntries(shares)).toEqual({
      a: 4_800_000n,
      b: 4_800_000n,
      c: 4_800_000n,
      d: 1_600_000n,
    });
  });

  it("hands out every unit by largest remainder, the same whatever the order", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.uniqueArray(
          fc.record({
            key: fc.string({ minLength: 1, maxLength: 4 }),
            weight: fc.bigInt({ min: 0n, max: 10n ** 9n }),
          }),
          {
            selector: (w) => w.key,
            minLength: 1,
            maxLength: 20,
          },
        ),
        (total, weights) => {
          // Act
          const split = splitByWeight(total, weights);
          const reversed = splitByWeight(total, [...weights].reverse());

          // Assess
          const sum = [...split.values()].reduce((a, b) => a + b, 0n);
          const anyWeight = weights.some((w) => w.weight > 0n);
          expect(sum).toBe(anyWeight ? total : 0n);
          expect(Object.fromEntries(reversed)).toEqual(Object.fromEntries(split));
        },
      ),
    );
  });
});
