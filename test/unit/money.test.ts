import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decimalToNanos,
  divRound,
  formatAmount,
  MoneyFormatError,
  nanosToDecimal,
  numberToNanos,
  splitByWeights,
} from "#domain/money.ts";

describe("decimalToNanos", () => {
  it.each([
    ["3.06", 3_060_000_000n],
    ["0.000000001", 1n],
    ["-12.5", -12_500_000_000n],
    ["1e-7", 100n],
    ["2.48E2", 248_000_000_000n],
    [".5", 500_000_000n],
    ["100.01", 100_010_000_000n],
    ["0.0000000005", 1n],
    ["0.0000000004", 0n],
    ["-0.0000000005", -1n],
    ["1005.004832999999984", 1_005_004_833_000n],
  ])("parses %s", (text, nanos) => {
    expect(decimalToNanos(text)).toBe(nanos);
  });

  it.each(["", "abc", "1.2.3", "NaN", "Infinity", "1,5"])("rejects %j", (text) => {
    expect(() => decimalToNanos(text)).toThrow(MoneyFormatError);
  });

  it("round-trips through nanosToDecimal", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), (n) => {
        expect(decimalToNanos(nanosToDecimal(n))).toBe(n);
      }),
    );
  });
});

describe("numberToNanos", () => {
  it("uses the shortest decimal form, not the binary value", () => {
    expect(numberToNanos(0.1)).toBe(100_000_000n);
    expect(numberToNanos(2.91)).toBe(2_910_000_000n);
    expect(numberToNanos(1e-9)).toBe(1n);
  });
  it("rejects NaN and infinities", () => {
    expect(() => numberToNanos(Number.NaN)).toThrow(MoneyFormatError);
    expect(() => numberToNanos(Number.POSITIVE_INFINITY)).toThrow(MoneyFormatError);
  });
});

describe("formatAmount", () => {
  it("rounds half away from zero", () => {
    expect(formatAmount(2_184_999_999n)).toBe("2.18");
    expect(formatAmount(2_185_000_000n)).toBe("2.19");
    expect(formatAmount(-2_185_000_000n)).toBe("-2.19");
    expect(formatAmount(5n, 9)).toBe("0.000000005");
    expect(formatAmount(7_000_000_000n, 0)).toBe("7");
  });
});

describe("divRound", () => {
  it("rounds half away from zero in both signs", () => {
    expect(divRound(5n, 2n)).toBe(3n);
    expect(divRound(-5n, 2n)).toBe(-3n);
    expect(divRound(4n, 3n)).toBe(1n);
  });
});

describe("splitByWeights", () => {
  it("hands out every nano", () => {
    expect(splitByWeights(10n, [1n, 1n, 1n])).toEqual([4n, 3n, 3n]);
    expect(splitByWeights(-10n, [1n, 1n, 1n])).toEqual([-4n, -3n, -3n]);
    expect(splitByWeights(7n, [0n, 0n])).toEqual([0n, 0n]);
  });

  it("conserves the total for any weights (property)", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { minLength: 1, maxLength: 40 }),
        (total, weights) => {
          const parts = splitByWeights(total, weights);
          const allZero = weights.every((w) => w === 0n);
          expect(parts.reduce((a, b) => a + b, 0n)).toBe(allZero ? 0n : total);
          const sum = weights.reduce((a, b) => a + b, 0n);
          parts.forEach((p, i) => {
            if (sum === 0n) return;
            const exact = (total * (weights[i] ?? 0n)) / sum;
            expect(p - exact <= 1n && exact - p <= 1n).toBe(true);
          });
        },
      ),
    );
  });
});
