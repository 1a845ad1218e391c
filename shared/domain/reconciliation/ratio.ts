import { decimalToNanos, divRound, NANOS_PER_UNIT, type Nanos } from "../money.ts";

/** An exact rational number: always reduced, denominator always positive. */
export interface Ratio {
  readonly num: bigint;
  readonly den: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** Builds a reduced ratio; throws on a zero denominator. */
export function ratio(num: bigint, den: bigint): Ratio {
  if (den === 0n) throw new RangeError("ratio with a zero denominator");
  const sign = den < 0n ? -1n : 1n;
  const g = gcd(num, den) || 1n;
  return { num: (sign * num) / g, den: (sign * den) / g };
}

/** A configuration number (0.5, 2, 10) as an exact ratio, through its shortest decimal form. */
export function numberToRatio(value: number): Ratio {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  return ratio(decimalToNanos(String(value)), NANOS_PER_UNIT);
}

/** -1, 0 or 1 as a < b, a = b, a > b. */
export function compareRatios(a: Ratio, b: Ratio): -1 | 0 | 1 {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

export function absRatio(r: Ratio): Ratio {
  return r.num < 0n ? { num: -r.num, den: r.den } : r;
}

/** Multiplies nanos by a ratio with exactly one rounding (half away from zero). */
export function scaleNanos(nanos: Nanos, factor: Ratio): Nanos {
  return divRound(nanos * factor.num, factor.den);
}

/** The ratio as a decimal with `digits` decimals, rounded half away from zero: 21/20 → "1.0500" (4). */
export function formatRatio(r: Ratio, digits = 4): string {
  const scaled = divRound(r.num * 10n ** BigInt(digits), r.den);
  const negative = scaled < 0n;
  const text = (negative ? -scaled : scaled).toString().padStart(digits + 1, "0");
  const units = text.slice(0, text.length - digits);
  const frac = text.slice(text.length - digits);
  return `${negative ? "-" : ""}${units}${digits > 0 ? `.${frac}` : ""}`;
}

/** The ratio as a percentage with `digits` decimals, rounded half away from zero: 1/20 → "5.00". */
export function formatPercent(r: Ratio, digits = 2): string {
  return formatRatio({ num: r.num * 100n, den: r.den }, digits);
}
