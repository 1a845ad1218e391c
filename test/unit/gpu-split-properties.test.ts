import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type GpuUsage, type PodRef, podKey, type UsageSeries } from "#domain/gpu-split/gpu-usage.ts";
import { splitFleet } from "#domain/gpu-split/split-fleet.ts";
import {
  GPU_SPLIT_STRATEGIES,
  type GpuSplitStrategy,
  splitGpuCost,
} from "#domain/gpu-split/split-gpu-cost.ts";

/**
 * Invariants, for random fleets (1-8 GPUs, 0-5 pods each, random gaps, duplicates, co-held steps,
 * utilizations including NaN, negatives, >1 and the 0/1 edges) and costs up to 10^13 nanos:
 * 1. every strategy: parts + idle === cost per GPU, exactly; no part and no idle is negative;
 * 2. a pod's utilization charge never exceeds its allocation charge by more than 1 nano (the
 *    exact shares satisfy util <= alloc; largest-remainder rounding may hand the utilization
 *    split the one extra nano the allocation split gives elsewhere);
 * 3. even === allocation when every pod holds the GPU for the same steps, and when pods hold
 *    disjoint stretches of equal length;
 * 4. the result does not depend on the order of series or samples (idempotent input handling);
 * 5. the fleet split conserves its total and each owner's total is the sum of its per-GPU parts.
 */

const FROM_S = Date.UTC(2026, 2, 2, 10) / 1000;
const STEP_S = 60;

const utilization = fc.oneof(
  fc.constantFrom(0, 1, 0.95, 1e-7, 0.9999995, -0.5, 1.5, Number.NaN, 2, -0),
  fc.double({ min: 0, max: 1, noNaN: true }),
);

const podRef = fc.record({
  namespace: fc.constantFrom("ml", "serving", "batch"),
  pod: fc.constantFrom("p0", "p1", "p2", "p3", "p4", "p5"),
  container: fc.constantFrom("main", "sidecar"),
});

/** One series over `steps` steps: each step present with probability `density`, maybe duplicated. */
const series = (steps: number) =>
  fc.record({
    pod: fc.option(podRef, { nil: null, freq: 5 }),
    samples: fc
      .array(
        fc.record({
          step: fc.integer({ min: -1, max: steps }),
          offset: fc.constantFrom(0, 0, 0, 15, 59.999),
          utilization,
        }),
        { maxLength: steps * 2 },
      )
      .map((list) =>
        list.map((s) => ({ t: FROM_S + s.step * STEP_S + s.offset, utilization: s.utilization })),
      ),
  });

const gpuCase = fc.integer({ min: 1, max: 30 }).chain((steps) =>
  fc.record({
    steps: fc.constant(steps),
    cost: fc.bigInt({ min: 0n, max: 10n ** 13n }),
    series: fc.array(series(steps), { maxLength: 6 }),
  }),
);

const windowOf = (steps: number) => ({
  from: new Date(FROM_S * 1000),
  to: new Date((FROM_S + steps * STEP_S) * 1000),
});

function run(c: { steps: number; cost: bigint; series: UsageSeries[] }, strategy: GpuSplitStrategy) {
  return splitGpuCost({
    costNanos: c.cost,
    window: windowOf(c.steps),
    stepSeconds: STEP_S,
    series: c.series,
    strategy,
  });
}

describe("splitGpuCost properties", () => {
  it("conserves the cost exactly and never charges a negative amount, for every strategy", () => {
    fc.assert(
      fc.property(gpuCase, (c) => {
        for (const strategy of GPU_SPLIT_STRATEGIES) {
          const result = run(c, strategy);
          expect(result.parts.reduce((sum, p) => sum + p.nanos, result.idleNanos)).toBe(c.cost);
          expect(result.idleNanos >= 0n).toBe(true);
          for (const part of result.parts) expect(part.nanos >= 0n).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  it("charges a pod by utilization at most one nano more than by allocation", () => {
    fc.assert(
      fc.property(gpuCase, (c) => {
        const util = run(c, "utilization");
        const alloc = run(c, "allocation");
        expect(util.parts.map((p) => podKey(p.owner))).toEqual(alloc.parts.map((p) => podKey(p.owner)));
        util.parts.forEach((part, i) => {
          expect(part.nanos <= (alloc.parts[i]?.nanos ?? 0n) + 1n).toBe(true);
        });
        expect(util.idleNanos + BigInt(util.parts.length) >= alloc.idleNanos).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it("even equals allocation when every pod holds the GPU for the same steps", () => {
    const sameSteps = fc.integer({ min: 1, max: 30 }).chain((steps) =>
      fc.record({
        steps: fc.constant(steps),
        cost: fc.bigInt({ min: 0n, max: 10n ** 13n }),
        held: fc.uniqueArray(fc.integer({ min: 0, max: steps - 1 }), { maxLength: steps }),
        pods: fc.uniqueArray(podRef, { minLength: 1, maxLength: 5, selector: podKey }),
        u: utilization,
      }),
    );
    fc.assert(
      fc.property(sameSteps, ({ steps, cost, held, pods, u }) => {
        const c = {
          steps,
          cost,
          series: pods.map((pod) => ({
            pod,
            samples: held.map((step) => ({ t: FROM_S + step * STEP_S, utilization: u })),
          })),
        };
        expect(run(c, "even")).toEqual(run(c, "allocation"));
      }),
      { numRuns: 300 },
    );
  });

  it("even equals allocation when pods hold disjoint stretches of equal length", () => {
    const disjoint = fc.record({
      cost: fc.bigInt({ min: 0n, max: 10n ** 13n }),
      pods: fc.uniqueArray(podRef, { minLength: 1, maxLength: 5, selector: podKey }),
      length: fc.integer({ min: 1, max: 6 }),
      idleSteps: fc.integer({ min: 0, max: 10 }),
      u: utilization,
    });
    fc.assert(
      fc.property(disjoint, ({ cost, pods, length, idleSteps, u }) => {
        const c = {
          steps: pods.length * length + idleSteps,
          cost,
          series: pods.map((pod: PodRef, i) => ({
            pod,
            samples: Array.from({ length }, (_, k) => ({
              t: FROM_S + (i * length + k) * STEP_S,
              utilization: u,
            })),
          })),
        };
        const even = run(c, "even");
        const alloc = run(c, "allocation");
        expect(even.parts.map((p) => p.nanos)).toEqual(alloc.parts.map((p) => p.nanos));
        expect(even.idleNanos).toBe(alloc.idleNanos);
      }),
      { numRuns: 300 },
    );
  });

  it("does not depend on the order of series or samples", () => {
    fc.assert(
      fc.property(gpuCase, fc.integer(), (c, seed) => {
        const shuffled = {
          ...c,
          series: shuffle(
            c.series.map((s) => ({ ...s, samples: shuffle(s.samples, seed) })),
            seed + 1,
          ),
        };
        for (const strategy of GPU_SPLIT_STRATEGIES) {
          const a = run(c, strategy);
          const b = run(shuffled, strategy);
          expect(b.parts.map((p) => [podKey(p.owner), p.nanos])).toEqual(
            a.parts.map((p) => [podKey(p.owner), p.nanos]),
          );
          expect(b.idleNanos).toBe(a.idleNanos);
          expect([...b.notes].sort()).toEqual([...a.notes].sort());
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe("splitFleet properties", () => {
  const fleetCase = fc.integer({ min: 1, max: 30 }).chain((steps) =>
    fc.record({
      steps: fc.constant(steps),
      strategy: fc.constantFrom(...GPU_SPLIT_STRATEGIES),
      gpus: fc.array(
        fc.record({
          cost: fc.bigInt({ min: 0n, max: 10n ** 13n }),
          series: fc.array(series(steps), { maxLength: 5 }),
        }),
        { minLength: 1, maxLength: 8 },
      ),
    }),
  );

  it("conserves the fleet's cost and adds each owner's parts up across GPUs", () => {
    fc.assert(
      fc.property(fleetCase, ({ steps, strategy, gpus }) => {
        const usages: GpuUsage[] = gpus.map((g, i) => ({
          gpu: { uuid: `GPU-${i}`, index: i, node: "node-a", modelName: "Tesla V100-SXM2-16GB" },
          series: g.series,
        }));
        const costs = new Map(usages.map((u, i) => [u.gpu.uuid, gpus[i]?.cost ?? 0n]));
        const fleet = splitFleet(usages, (gpu) => costs.get(gpu.uuid) ?? 0n, strategy, {
          window: windowOf(steps),
          stepSeconds: STEP_S,
        });
        const total = gpus.reduce((sum, g) => sum + g.cost, 0n);
        expect(fleet.totalNanos).toBe(total);
        expect(fleet.owners.reduce((sum, o) => sum + o.nanos, fleet.idleNanos)).toBe(total);
        const perOwner = new Map<string, bigint>();
        for (const g of fleet.gpus) {
          for (const p of g.parts)
            perOwner.set(podKey(p.owner), (perOwner.get(podKey(p.owner)) ?? 0n) + p.nanos);
        }
        expect(new Map(fleet.owners.map((o) => [podKey(o.owner), o.nanos]))).toEqual(perOwner);
      }),
      { numRuns: 200 },
    );
  });
});

/** Deterministic Fisher-Yates from a seed (mulberry32), so a failing case replays. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
