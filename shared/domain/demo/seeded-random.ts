/**
 * A small seeded PRNG (mulberry32) and the helpers the synthetic data needs. Same seed, same
 * sequence, on every machine and every run: nothing here reads a clock or Math.random.
 */

export type Seed = number | string;

/** Folds any seed (a number, or text such as "demo|2026-11-01") into a well-mixed 32-bit state. */
export function hashSeed(seed: Seed): number {
  const text = typeof seed === "number" ? `n:${seed}` : `s:${seed}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  // murmur3 finalizer: nearby seeds land far apart.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export interface SeededRandom {
  /** The 32-bit state this generator started from. */
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform 32-bit unsigned integer. */
  uint32(): number;
  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  /** Uniform in [min, max). */
  float(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Picks one item with probability proportional to its weight. */
  weightedPick<T>(items: readonly T[], weights: readonly number[]): T;
  /** Approximately standard normal, bounded to ±3.46 (Irwin–Hall of four uniforms): no wild outliers. */
  normalish(): number;
  /** `value` scaled by (1 + spread × normalish()), never below zero. */
  jitter(value: number, spread: number): number;
  /** `length` lowercase hex digits. */
  hex(length: number): string;
  /** An independent generator derived from this one's seed and a label; does not advance this one. */
  fork(label: Seed): SeededRandom;
}

const IRWIN_HALL_SCALE = Math.sqrt(3);

export function createSeededRandom(seed: Seed): SeededRandom {
  const start = hashSeed(seed);
  let state = start;

  const uint32 = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = (): number => uint32() / 4_294_967_296;
  const normalish = (): number => (next() + next() + next() + next() - 2) * IRWIN_HALL_SCALE;

  return {
    seed: start,
    next,
    uint32,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    float: (min, max) => min + next() * (max - min),
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError("pick from an empty list");
      return items[Math.floor(next() * items.length)] as T;
    },
    weightedPick<T>(items: readonly T[], weights: readonly number[]): T {
      return weightedPicker(items, weights)(next());
    },
    normalish,
    jitter: (value, spread) => Math.max(0, value * (1 + spread * normalish())),
    hex(length: number): string {
      let out = "";
      while (out.length < length) out += uint32().toString(16).padStart(8, "0");
      return out.slice(0, length);
    },
    fork: (label) => createSeededRandom(`${start}/${typeof label}:${label}`),
  };
}

/**
 * Precomputes cumulative weights once, for hot loops: `const pickModel = weightedPicker(models, w);
 * pickModel(rng.next())`. Takes the uniform draw so the caller controls the sequence.
 */
export function weightedPicker<T>(items: readonly T[], weights: readonly number[]): (u: number) => T {
  if (items.length === 0 || items.length !== weights.length) {
    throw new RangeError("weightedPicker needs one weight per item and at least one item");
  }
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i] ?? 0;
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`weight ${i} must be a finite number ≥ 0`);
    total += w;
    cumulative[i] = total;
  }
  if (total <= 0) throw new RangeError("weights must not all be zero");
  const last = items.length - 1;
  return (u: number): T => {
    const target = u * total;
    for (let i = 0; i < last; i++) {
      if (target < (cumulative[i] as number)) return items[i] as T;
    }
    return items[last] as T;
  };
}

/** Fisher–Yates shuffle in place with the seeded generator; returns the same array. */
export function shuffleInPlace<T>(items: T[], rng: SeededRandom): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const held = items[i] as T;
    items[i] = items[j] as T;
    items[j] = held;
  }
  return items;
}
