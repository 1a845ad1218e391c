import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fastCostEvent } from "#domain/events/fast-parse.ts";
import { parseCostEvent, parseCostEventBySchema } from "#domain/events/parse.ts";
import { inferenceEvent, NOW, trainingEvent } from "../support/ingest-builders.ts";

/**
 * The fast path answers for the schemas: whenever it takes an event, the schemas take it too and
 * build the same value, key for key (the payload hash is of that value's JSON); whatever it leaves
 * to them, parseCostEvent answers as they do, so rejections name the same field. Run over valid
 * events of every optional shape and over the same events with one field mutated.
 */

type Json = Record<string, unknown>;

/** The event as JSON text, bigints as strings: equal texts are equal values with keys in the same order. */
const asJson = (value: unknown) => JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? `${v}n` : v));

/** A field left out, or one of `values`. */
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });

const word = (max: number) =>
  fc.oneof(
    fc.string({ minLength: 1, maxLength: 12 }),
    fc.constantFrom(" padded ", "\tgpu\n", "x".repeat(max), ` ${"y".repeat(max)} `, "é"),
  );
const labelsArb = fc.dictionary(
  fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("k".repeat(128), "1", "constructor")),
  fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("v".repeat(256))),
  { maxKeys: 4 },
);
const nanosArb = fc.oneof(
  fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String),
  fc.nat(),
  fc.constantFrom("0", "000123", "9".repeat(30)),
);
const placementArb = {
  cloud: maybe(fc.constantFrom("gcp", "aws", "azure", "other")),
  region: maybe(word(64)),
  instance_type: maybe(word(64)),
  accelerator: maybe(word(64)),
  pricing_model: maybe(fc.constantFrom("on_demand", "spot")),
};
const ownerArb = {
  team: word(128),
  model: word(128),
  cost_center: maybe(word(128)),
  environment: maybe(word(64)),
  namespace: maybe(word(253)),
  labels: maybe(labelsArb),
  currency: maybe(fc.constantFrom("USD", "EUR")),
  cost_nanos: maybe(nanosArb),
  stray: maybe(fc.string()),
};
const tokens = maybe(fc.oneof(fc.nat({ max: 10_000_000 }), fc.constant(10_000_000)));

const inferenceData = fc.record(
  {
    ...ownerArb,
    ...placementArb,
    model_version: word(128),
    business_unit: word(128),
    gpu_count: maybe(fc.oneof(fc.double({ min: 0.25, max: 64, noNaN: true }), fc.constantFrom(1, 8, 64))),
    gpu_seconds: maybe(
      fc.oneof(fc.double({ min: 0, max: 604_800, noNaN: true }), fc.constantFrom(0, 604_800)),
    ),
    provider: maybe(word(64)),
    input_tokens: tokens,
    cached_input_tokens: tokens,
    output_tokens: tokens,
    cache_hit: maybe(fc.boolean()),
    request_fingerprint: maybe(fc.oneof(fc.string(), fc.constant("f".repeat(256)))),
  },
  { requiredKeys: [] },
);

const trainingData = fc.record(
  {
    ...ownerArb,
    ...placementArb,
    model_version: maybe(word(128)),
    business_unit: maybe(word(128)),
    job_id: word(256),
    phase: fc.constantFrom("started", "progress", "finished", "failed"),
    gpu_count: fc.oneof(fc.double({ min: 0.5, max: 64, noNaN: true }), fc.constantFrom(1, 64)),
    epoch: maybe(fc.nat()),
    elapsed_seconds: fc.oneof(fc.double({ min: 0, max: 366 * 24 * 3600, noNaN: true }), fc.constant(0)),
  },
  { requiredKeys: [] },
);

/** Drops the keys fc.record left undefined, as JSON would. */
const defined = (data: Json): Json =>
  Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined));

const envelopeArb = fc.record(
  {
    id: fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.constant("i".repeat(256))),
    source: fc.string({ minLength: 1, maxLength: 20 }),
    time: fc.oneof(
      fc
        .integer({ min: -30 * 60_000, max: 3_600_000 })
        .map((ms) => new Date(NOW.getTime() - ms).toISOString()),
      fc.constantFrom("2026-11-15T11:05:00Z", "2026-11-15T13:05:00+02:00", "2026-11-15T11:05:00.123456Z"),
    ),
    subject: maybe(fc.string({ maxLength: 20 })),
  },
  { requiredKeys: ["id", "source", "time"] },
);

const validEvent = fc.oneof(
  envelopeArb.map((envelope) => inferenceEvent(defined(envelope))),
  fc.tuple(envelopeArb, inferenceData).map(([envelope, data]) => ({
    ...inferenceEvent(defined(envelope)),
    data: defined(data),
  })),
  fc.tuple(envelopeArb, trainingData).map(([envelope, data]) => ({
    ...trainingEvent(defined(envelope)),
    data: defined(data),
  })),
);

/** Values a sender could put in any field by mistake. */
const badValue = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    "",
    "  ",
    0,
    -1,
    -0,
    0.5,
    1e300,
    2 ** 53,
    Number.POSITIVE_INFINITY,
    Number.NaN,
    true,
    [],
    {},
    [1],
    "-5",
    "1.5",
    "0".repeat(31),
    "usd",
    "1.0",
    "2026-02-30T00:00:00Z",
    "2026-11-15T11:05Z",
    "2026-11-15 11:05:00Z",
    "spot ",
    "GCP",
    "z".repeat(129),
    "z".repeat(257),
    "ai.cost.fixed.v1",
    JSON.parse('{"__proto__": "x", "a": "b"}'),
    undefined,
  ),
  fc.string({ maxLength: 6 }),
  fc.integer(),
  fc.double(),
);

/** The event with one envelope or data field set to `value` (undefined removes it). */
function mutate(event: Json, inData: boolean, key: string, value: unknown): Json {
  const target: Json = inData ? { ...(event.data as Json) } : { ...event };
  if (value === undefined) delete target[key];
  else target[key] = value;
  return inData ? { ...event, data: target } : target;
}

const envelopeKeys = [
  "specversion",
  "id",
  "source",
  "type",
  "time",
  "subject",
  "datacontenttype",
  "dataschema",
  "data",
];
const dataKeys = [
  ...Object.keys(inferenceEvent().data as Json),
  ...Object.keys(trainingEvent().data as Json),
  "gpu_count",
  "provider",
  "input_tokens",
  "cached_input_tokens",
  "output_tokens",
  "cache_hit",
  "request_fingerprint",
  "cost_nanos",
  "currency",
  "labels",
  "accelerator",
  "pricing_model",
  "epoch",
];

const mutatedEvent = fc
  .tuple(validEvent, fc.boolean(), fc.constantFrom(...envelopeKeys), fc.constantFrom(...dataKeys), badValue)
  .map(([event, inData, envelopeKey, dataKey, value]) =>
    mutate(event, inData, inData ? dataKey : envelopeKey, value),
  );

function expectSameAnswer(raw: unknown) {
  const reference = parseCostEventBySchema(raw, NOW);
  const fast = fastCostEvent(raw);
  if (fast !== undefined) {
    // What the fast path takes, the schemas take too; only the time window, checked after, may refuse it.
    if (reference.ok) expect(asJson(fast.event)).toBe(asJson(reference.event));
    else expect(reference.rejection.field).toBe("time");
  }
  const answer = parseCostEvent(raw, NOW);
  expect(answer.ok).toBe(reference.ok);
  if (answer.ok && reference.ok) expect(asJson(answer.event)).toBe(asJson(reference.event));
  else expect(answer).toEqual(reference);
}

describe("the fast path of event validation", () => {
  it("takes every valid inference and training event, building the schemas' value key for key", () => {
    fc.assert(
      fc.property(validEvent, (raw) => {
        // Some generated events are invalid (a blank name, nothing to price by): those go to the schemas.
        if (parseCostEventBySchema(raw, NOW).ok) expect(fastCostEvent(raw)).toBeDefined();
        expectSameAnswer(raw);
      }),
      { numRuns: 3000 },
    );
  });

  it("answers as the schemas do, rejection and field included, for events with one field mutated", () => {
    fc.assert(fc.property(mutatedEvent, expectSameAnswer), { numRuns: 5000 });
  });

  it("leaves the other event types and non-objects to the schemas", () => {
    for (const raw of [null, [], "event", 1, { ...inferenceEvent(), type: "ai.cost.fixed.v1" }]) {
      expect(fastCostEvent(raw)).toBeUndefined();
      expectSameAnswer(raw);
    }
  });

  it("trims names and fills in the defaults as the schemas do", () => {
    const raw = inferenceEvent({ data: { team: "  risk ", pricing_model: undefined } });
    const fast = fastCostEvent(raw);
    expect(fast?.event.data).toMatchObject({ team: "risk", pricing_model: "on_demand", currency: "USD" });
    expectSameAnswer(raw);
  });
});
