import { hash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { payloadHash } from "#app/prepare-events.ts";
import type { CostEvent } from "#domain/events/cloud-event.ts";
import { parseCostEvent } from "#domain/events/parse.ts";
import { fixedEvent, inferenceEvent, NOW, trainingEvent } from "../support/ingest-builders.ts";

/**
 * Stored rows carry the hash, so it may never change: it is the SHA-256 of the validated event's
 * own JSON (amounts as decimal text), however payloadHash comes to that text.
 */
const reference = (event: CostEvent) =>
  hash(
    "sha256",
    JSON.stringify(event, (_key, v) => (typeof v === "bigint" ? v.toString() : v)),
    "base64url",
  ).slice(0, 22);

function validated(raw: unknown): CostEvent {
  const parsed = parseCostEvent(raw, NOW);
  if (!parsed.ok) throw new Error(parsed.rejection.reason);
  return parsed.event;
}

describe("payloadHash", () => {
  it("is the hash of the validated event's JSON, whatever its type, time and amounts", () => {
    const builders = [inferenceEvent, trainingEvent, fixedEvent];
    fc.assert(
      fc.property(
        fc.constantFrom(...builders),
        fc.integer({ min: NOW.getTime() - 399 * 86_400_000, max: NOW.getTime() }),
        fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
        fc.option(fc.bigInt({ min: 0n, max: 10n ** 20n }), { nil: undefined }),
        (build, ms, subject, cost) => {
          const event = validated(
            build({
              time: new Date(ms).toISOString(),
              ...(subject === undefined ? {} : { subject }),
              ...(cost === undefined ? {} : { data: { cost_nanos: String(cost) } }),
            }),
          );
          expect(payloadHash(event)).toBe(reference(event));
        },
      ),
    );
  });

  it("writes a time given with an offset as the instant, the same for the same instant", () => {
    const utc = validated(inferenceEvent({ time: "2026-11-15T10:00:00.000Z" }));
    const offset = validated(inferenceEvent({ time: "2026-11-15T12:00:00+02:00" }));
    expect(payloadHash(offset)).toBe(reference(offset));
    expect(payloadHash(offset)).toBe(payloadHash(utc));
  });

  it("stays the hash it was: a stored row's hash from before still matches", () => {
    const event = validated(inferenceEvent({ time: "2026-11-15T10:00:00.000Z" }));
    // The hash rows stored before this test already carry.
    expect(payloadHash(event)).toBe("kXipwJ0qlQ4Q-YV25f9uzH");
  });
});
