import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ratio } from "#domain/reconciliation/ratio.ts";
import {
  LEVERS,
  type Lever,
  type LeverSegment,
  remainingAfter,
  savingsOf,
  savingsSteps,
  totalCost,
} from "#domain/scorecard/compose-savings.ts";
import { percentOf } from "#domain/scorecard/scorecard.ts";

const USD = 1_000_000_000n;
const pct = (p: number) => ratio(BigInt(100 - p), 100n);

describe("combined savings compose, they do not add", () => {
  it("the seed's example: 70%, 67%, 35% and 40% of $50,000 save about 96%, never 212%", () => {
    // Prepare: every lever acts on the whole cost, and spot and right-sizing are taken as independent.
    const seed: LeverSegment = {
      cost_nanos: 50_000n * USD,
      keep: { spot: pct(70), quantization: pct(67), caching: pct(35), right_sizing: pct(40) },
    };

    // Act
    const combined = savingsOf([seed], LEVERS);
    const alone = LEVERS.map((lever) => savingsOf([seed], [lever]));

    // Assess: 1 − 0.30 × 0.33 × 0.65 × 0.60 = 0.96139, exactly $48,069.50.
    expect(combined).toBe(48_069_500_000_000n);
    expect(percentOf(combined, seed.cost_nanos)).toBe(96.14);
    expect(alone.reduce((a, b) => a + b, 0n)).toBe(106_000n * USD);
    expect(percentOf(106_000n * USD, seed.cost_nanos)).toBe(212);
  });

  it("spot and right-sizing overlap: together they keep the smaller GPU's spot rate, not the product", () => {
    // Prepare: spot keeps 30% of the rate, a smaller GPU 60%, and that GPU on spot 24% (its discount is 60%).
    const segment: LeverSegment = {
      cost_nanos: 50_000n * USD,
      keep: { spot: pct(70), right_sizing: pct(40) },
      rateKeptTogether: ratio(24n, 100n),
    };
    const independent: LeverSegment = { cost_nanos: segment.cost_nanos, keep: segment.keep };

    // Act
    const together = savingsOf([segment], ["spot", "right_sizing"]);

    // Assess: 76% saved, less than the 82% of 1 − 0.3 × 0.6, more than either alone.
    expect(together).toBe(38_000n * USD);
    expect(savingsOf([independent], ["spot", "right_sizing"])).toBe(41_000n * USD);
    expect(together).toBeGreaterThan(savingsOf([segment], ["spot"]));
  });

  it("never does worse together than the better of spot and right-sizing alone", () => {
    // Prepare: the smaller GPU's spot rate keeps 50%, worse than spot on today's GPU (30%).
    const segment: LeverSegment = {
      cost_nanos: 1_000n * USD,
      keep: { spot: pct(70), right_sizing: pct(40) },
      rateKeptTogether: ratio(1n, 2n),
    };

    // Act / Assess
    expect(savingsOf([segment], ["spot", "right_sizing"])).toBe(700n * USD);
  });

  it("steps in a given order add up to the combined saving, each adding less than it saves alone", () => {
    // Prepare
    const segments: LeverSegment[] = [
      { cost_nanos: 600n * USD, keep: { spot: pct(70), quantization: pct(50) } },
      { cost_nanos: 400n * USD, keep: { caching: pct(25), quantization: pct(50) } },
    ];
    const order: Lever[] = ["quantization", "spot", "caching", "right_sizing"];

    // Act
    const steps = savingsSteps(segments, order);

    // Assess
    expect(steps.map((s) => s.added_nanos)).toEqual([500n * USD, 210n * USD, 50n * USD, 0n]);
    expect(steps.at(-1)?.cumulative_nanos).toBe(savingsOf(segments, LEVERS));
    expect(steps[1]?.added_nanos).toBeLessThan(savingsOf(segments, ["spot"]));
  });
});

const share = fc.bigInt({ min: 0n, max: 1000n }).map((n) => ratio(n, 1000n));
const segmentArb: fc.Arbitrary<LeverSegment> = fc.record(
  {
    cost_nanos: fc.bigInt({ min: 0n, max: 10n ** 16n }),
    keep: fc.record(
      { spot: share, right_sizing: share, quantization: share, caching: share },
      { requiredKeys: [] },
    ),
    rateKeptTogether: share,
  },
  { requiredKeys: ["cost_nanos", "keep"] },
);
const leversArb = fc.subarray([...LEVERS]);

describe("combined savings properties", () => {
  it("never exceed the cost, never fall below the best single lever, and conserve every nano", () => {
    fc.assert(
      fc.property(fc.array(segmentArb, { maxLength: 6 }), leversArb, (segments, levers) => {
        const cost = totalCost(segments);
        const combined = savingsOf(segments, levers);
        expect(combined + remainingAfter(segments, levers)).toBe(cost);
        expect(combined).toBeGreaterThanOrEqual(0n);
        expect(combined).toBeLessThanOrEqual(cost);
        for (const lever of levers) expect(combined).toBeGreaterThanOrEqual(savingsOf(segments, [lever]));
      }),
      { numRuns: 400 },
    );
  });

  it("any order of steps adds up to the same combined saving, each step never negative", () => {
    fc.assert(
      fc.property(
        fc.array(segmentArb, { maxLength: 6 }),
        fc.shuffledSubarray([...LEVERS], { minLength: 4 }),
        (segments, order) => {
          const steps = savingsSteps(segments, order);
          for (const step of steps) expect(step.added_nanos).toBeGreaterThanOrEqual(0n);
          expect(steps.reduce((sum, s) => sum + s.added_nanos, 0n)).toBe(savingsOf(segments, LEVERS));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("for independent levers on one cost, the combined share is 1 − Π(1 − sᵢ), exact to a nano", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 15n }),
        fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 4, maxLength: 4 }),
        (cost, percents) => {
          const [spot = 0, rightSizing = 0, quantization = 0, caching = 0] = percents;
          const segment: LeverSegment = {
            cost_nanos: cost,
            keep: {
              spot: pct(spot),
              right_sizing: pct(rightSizing),
              quantization: pct(quantization),
              caching: pct(caching),
            },
          };
          const kept = percents.reduce((k, p) => k * BigInt(100 - p), 1n);
          const exact = cost * 100_000_000n - cost * kept;
          const diff = savingsOf([segment], LEVERS) * 100_000_000n - exact;
          expect(diff < 0n ? -diff : diff).toBeLessThanOrEqual(50_000_000n);
        },
      ),
      { numRuns: 300 },
    );
  });
});
