/**
 * What an at-least-once bus does to a stream: some messages arrive twice (or three times), and
 * nothing arrives in order. For idempotency tests: totals over the faulty stream must equal totals
 * over the clean one.
 */
import { createSeededRandom, type Seed, shuffleInPlace } from "./seeded-random.ts";

export interface StreamFaultOptions {
  /** Share of distinct input events that are delivered more than once (0..1). Default 1/3. */
  duplicateFraction?: number;
  /** Share of the duplicated events delivered three times rather than twice (0..1). Default 1/4. */
  tripleFraction?: number;
  seed: Seed;
}

/**
 * Returns a new array in which `round(events.length × duplicateFraction)` of the input events
 * appear 2+ times and the order is shuffled (seeded Fisher–Yates). The input array is not modified;
 * each input event appears once as itself, and its repeats are independent deep copies.
 */
export function withDuplicatesShuffled<T>(events: readonly T[], options: StreamFaultOptions): T[] {
  const duplicateFraction = options.duplicateFraction ?? 1 / 3;
  const tripleFraction = options.tripleFraction ?? 1 / 4;
  for (const [name, value] of [
    ["duplicateFraction", duplicateFraction],
    ["tripleFraction", tripleFraction],
  ] as const) {
    if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be within [0, 1], got ${value}`);
  }
  const rng = createSeededRandom(options.seed);
  const duplicates = Math.round(events.length * duplicateFraction);

  // Choose which events repeat: the first `duplicates` positions of a partial Fisher–Yates.
  const indexes = Array.from(events.keys());
  for (let i = 0; i < duplicates; i++) {
    const j = i + Math.floor(rng.next() * (indexes.length - i));
    const held = indexes[i] as number;
    indexes[i] = indexes[j] as number;
    indexes[j] = held;
  }

  const out: T[] = events.slice();
  for (let i = 0; i < duplicates; i++) {
    const original = events[indexes[i] as number] as T;
    out.push(deepCopy(original));
    if (rng.next() < tripleFraction) out.push(deepCopy(original));
  }
  return shuffleInPlace(out, rng);
}

/** A redelivered message is a new object: plain data is copied field by field, anything else structurally. */
function deepCopy<T>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(deepCopy) as T;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const source = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const k of Object.keys(source)) copy[k] = deepCopy(source[k]);
  return copy as T;
}
