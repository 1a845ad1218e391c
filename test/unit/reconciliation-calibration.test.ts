import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decimalToNanos } from "#domain/money.ts";
import {
  applyCalibration,
  type CalibrationDay,
  calibrationFor,
  learnCalibration,
} from "#domain/reconciliation/calibration.ts";
import { ratio } from "#domain/reconciliation/ratio.ts";

const u = decimalToNanos;

function days(cloud: string, family: string, pairs: [string, string][]): CalibrationDay[] {
  return pairs.map(([e, b], i) => ({
    day: `2026-11-0${i + 1}`,
    cloud,
    family,
    estimated: u(e),
    billed: u(b),
  }));
}

describe("learnCalibration", () => {
  const history = [
    ...days("gcp", "a2-highgpu", [
      ["100", "110"],
      ["100", "105"],
      ["100", "115"],
    ]),
    ...days("aws", "p4d", [
      ["10", "50"],
      ["10", "50"],
      ["10", "50"],
    ]),
    ...days("aws", "g5", [
      ["10", "1"],
      ["10", "1"],
      ["10", "1"],
    ]),
    ...days("gcp", "tpu-v5e", [["10", "12"]]),
  ];

  it("learns billed / estimated as an exact ratio, clamped, ignoring thin families", () => {
    const factors = learnCalibration(history, { minDays: 3 });
    expect(factors.map((f) => [f.cloud, f.family, f.factor, f.clamped])).toEqual([
      ["aws", "g5", ratio(1n, 2n), "low"],
      ["aws", "p4d", ratio(2n, 1n), "high"],
      ["gcp", "a2-highgpu", ratio(11n, 10n), null],
    ]);
    expect(calibrationFor(factors, "gcp", "tpu-v5e")).toBeUndefined();
    expect(calibrationFor(factors, "gcp", "a2-highgpu")?.days).toEqual([
      "2026-11-01",
      "2026-11-02",
      "2026-11-03",
    ]);
  });

  it("uses only the most recent days when asked, and honours a custom clamp", () => {
    const [factor] = learnCalibration(
      days("gcp", "n1", [
        ["100", "300"],
        ["100", "120"],
        ["100", "130"],
      ]),
      { minDays: 2, lookbackDays: 2, clamp: [0.9, 1.2] },
    );
    expect(factor?.factor).toEqual(ratio(6n, 5n));
    expect(factor?.clamped).toBe("high");
    expect(factor?.days).toEqual(["2026-11-02", "2026-11-03"]);
  });

  it("gives no factor when estimates sum to zero or less", () => {
    expect(learnCalibration(days("gcp", "x", [["0", "5"]]), { minDays: 1 })).toEqual([]);
  });

  it("rejects a clamp that could flip a sign or is upside down", () => {
    expect(() => learnCalibration([], { minDays: 1, clamp: [0, 2] })).toThrow(RangeError);
    expect(() => learnCalibration([], { minDays: 1, clamp: [2, 1] })).toThrow(RangeError);
    expect(() => learnCalibration([], { minDays: 0 })).toThrow(RangeError);
  });

  it("is deterministic", () => {
    expect(learnCalibration([...history].reverse(), { minDays: 3 })).toEqual(
      learnCalibration(history, { minDays: 3 }),
    );
  });
});

describe("applyCalibration", () => {
  it("multiplies exactly with one rounding, half away from zero", () => {
    expect(applyCalibration(u("95"), ratio(20n, 19n))).toBe(u("100"));
    expect(applyCalibration(5n, ratio(1n, 2n))).toBe(3n);
    expect(applyCalibration(-5n, ratio(1n, 2n))).toBe(-3n);
    expect(applyCalibration(1n, ratio(1n, 3n))).toBe(0n);
  });

  const families = fc.constantFrom(["gcp", "a2"], ["gcp", "n1"], ["aws", "p4d"]);
  const row = fc.record({
    day: fc.constantFrom("2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"),
    family: families,
    estimated: fc.bigInt({ min: 1n, max: 10n ** 13n }),
    // billed = estimated × (60..180)/100, so the learned factor lies inside the default clamp
    percent: fc.bigInt({ min: 60n, max: 180n }),
    noise: fc.bigInt({ min: -1000n, max: 1000n }),
  });

  it("property: the learned factor reproduces the billed total within 1 nano per row", () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 25 }), (rows) => {
        const history: CalibrationDay[] = rows.map((r) => ({
          day: r.day,
          cloud: r.family[0] ?? "",
          family: r.family[1] ?? "",
          estimated: r.estimated,
          billed: (r.estimated * r.percent) / 100n + r.noise,
        }));
        for (const f of learnCalibration(history, { minDays: 1 })) {
          const mine = history.filter((h) => h.cloud === f.cloud && h.family === f.family);
          if (f.clamped !== null) continue;
          const reconciled = mine.reduce((a, h) => a + applyCalibration(h.estimated, f.factor), 0n);
          const billed = mine.reduce((a, h) => a + h.billed, 0n);
          const diff = reconciled - billed;
          expect((diff < 0n ? -diff : diff) <= BigInt(mine.length)).toBe(true);
        }
      }),
    );
  });

  it("property: calibration never flips a sign", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            estimated: fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
            billed: fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
          }),
          { minLength: 1, maxLength: 10 },
        ),
        fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
        (pairs, amount) => {
          const history = pairs.map((p, i) => ({
            day: `2026-11-${String(i + 1).padStart(2, "0")}`,
            cloud: "gcp",
            family: "f",
            ...p,
          }));
          for (const f of learnCalibration(history, { minDays: 1 })) {
            expect(f.factor.num > 0n && f.factor.den > 0n).toBe(true);
            const out = applyCalibration(amount, f.factor);
            expect(out === 0n || out < 0n === amount < 0n).toBe(true);
          }
        },
      ),
    );
  });
});
