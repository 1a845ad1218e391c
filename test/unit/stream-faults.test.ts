import { describe, expect, it } from "vitest";
import type { DemoCloudEvent } from "#domain/demo/demo-cloud-event.ts";
import { generateDemoEvents } from "#domain/demo/demo-events.ts";
import { withDuplicatesShuffled } from "#domain/demo/stream-faults.ts";

const input = generateDemoEvents({
  from: new Date("2026-11-02T00:00:00Z"),
  hours: 12,
  seed: 11,
  requestsPerHour: 600,
});
const key = (e: DemoCloudEvent) => `${e.source}\u0000${e.id}`;

function countByKey(list: readonly DemoCloudEvent[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of list) counts.set(key(e), (counts.get(key(e)) ?? 0) + 1);
  return counts;
}

describe("withDuplicatesShuffled", () => {
  const snapshot = JSON.stringify(input);
  const output = withDuplicatesShuffled(input, { seed: 5 });

  it("after dedupe by (source, id) gives back exactly the input", () => {
    const seen = new Map<string, DemoCloudEvent>();
    for (const e of output) {
      const first = seen.get(key(e));
      if (first) expect(e).toEqual(first);
      else seen.set(key(e), e);
    }
    const deduped = [...seen.values()];
    expect(deduped.map(key).sort()).toEqual(input.map(key).sort());
    const byKey = new Map(input.map((e) => [key(e), e]));
    for (const e of deduped) expect(e).toEqual(byKey.get(key(e)));
  });

  it("repeats about a third of the events, some of them three times", () => {
    const counts = [...countByKey(output).values()];
    const repeated = counts.filter((c) => c >= 2).length;
    expect(repeated).toBe(Math.round(input.length / 3));
    expect(counts.some((c) => c === 3)).toBe(true);
    expect(Math.max(...counts)).toBeLessThanOrEqual(3);
    expect(output.length).toBe(counts.reduce((a, b) => a + b, 0));
    expect(output.length).toBeGreaterThan(input.length * (4 / 3));
  });

  it("changes the order, leaves the input alone, and copies the repeats", () => {
    const samePlace = input.filter((e, i) => key(e) === key(output[i] as DemoCloudEvent)).length;
    expect(samePlace / input.length).toBeLessThan(0.01);
    expect(JSON.stringify(input)).toBe(snapshot);
    const counts = countByKey(output);
    const repeatedKey = [...counts.keys()].find((k) => (counts.get(k) ?? 0) > 1);
    const occurrences = output.filter((e) => key(e) === repeatedKey);
    expect(occurrences.length).toBeGreaterThan(1);
    expect(occurrences[0]).not.toBe(occurrences[1]);
  });

  it("is deterministic per seed", () => {
    expect(withDuplicatesShuffled(input, { seed: 5 })).toEqual(output);
    expect(withDuplicatesShuffled(input, { seed: 6 }).map(key)).not.toEqual(output.map(key));
  });

  it("honours the fraction and rejects nonsense", () => {
    const none = withDuplicatesShuffled(input, { seed: 1, duplicateFraction: 0 });
    expect(none).toHaveLength(input.length);
    expect(none.map(key).sort()).toEqual(input.map(key).sort());
    const all = withDuplicatesShuffled(input, { seed: 1, duplicateFraction: 1, tripleFraction: 0 });
    expect(all).toHaveLength(input.length * 2);
    expect(withDuplicatesShuffled([], { seed: 1 })).toEqual([]);
    expect(() => withDuplicatesShuffled(input, { seed: 1, duplicateFraction: 1.5 })).toThrow(RangeError);
    expect(() => withDuplicatesShuffled(input, { seed: 1, tripleFraction: -0.1 })).toThrow(RangeError);
  });
});
