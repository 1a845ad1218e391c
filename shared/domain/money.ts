/**
 * Money is an integer count of nano-units (1 unit = 1e9 nanos), as in google.type.Money.
 * Nothing here touches floating point once a value is inside: conversions go through decimal strings.
 */
export const NANOS_PER_UNIT = 1_000_000_000n;
export const NANO_DIGITS = 9;

export type Nanos = bigint;

export class MoneyFormatError extends Error {
  override readonly name = "MoneyFormatError";
}

const DECIMAL = /^([+-])?(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$|^([+-])?\.(\d+)(?:[eE]([+-]?\d+))?$/;

/**
 * Parses a decimal string ("3.06", "-0.000000001", "1e-7") into nanos exactly.
 * Digits past the ninth decimal are rounded half away from zero.
 */
export function decimalToNanos(text: string): Nanos {
  const m = DECIMAL.exec(text.trim());
  if (!m) throw new MoneyFormatError(`not a decimal amount: ${JSON.stringify(text)}`);
  const sign = (m[1] ?? m[5]) === "-" ? -1n : 1n;
  const intPart = m[2] ?? "0";
  const fracPart = m[3] ?? m[6] ?? "";
  const exponent = Number(m[4] ?? m[7] ?? "0");
  let digits = (intPart + fracPart).replace(/^0+(?=\d)/, "");
  // Value = digits × 10^(exponent − fracLen); we want it × 10^9.
  let scale = exponent - fracPart.length + NANO_DIGITS;
  if (scale >= 0) return sign * BigInt(digits + "0".repeat(scale));
  scale = -scale;
  if (digits.length <= scale) digits = "0".repeat(scale - digits.length + 1) + digits;
  const kept = BigInt(digits.slice(0, digits.length - scale));
  const roundUp = (digits[digits.length - scale] ?? "0") >= "5";
  return sign * (roundUp ? kept + 1n : kept);
}

/** Converts a JSON number (a vendor's float amount) through its shortest decimal form. */
export function numberToNanos(value: number): Nanos {
  if (!Number.isFinite(value)) throw new MoneyFormatError(`not a finite amount: ${value}`);
  return decimalToNanos(String(value));
}

/** Exact decimal string with all nine fractional digits trimmed of trailing zeros ("3.06", "-0.000000001"). */
export function nanosToDecimal(nanos: Nanos): string {
  const negative = nanos < 0n;
  const abs = negative ? -nanos : nanos;
  const units = abs / NANOS_PER_UNIT;
  const frac = (abs % NANOS_PER_UNIT).toString().padStart(NANO_DIGITS, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${units}${frac ? `.${frac}` : ""}`;
}

/** Rounds to `digits` decimals (half away from zero) for display: formatAmount(2_184_999_999n) === "2.18". */
export function formatAmount(nanos: Nanos, digits = 2): string {
  const step = 10n ** BigInt(NANO_DIGITS - digits);
  const rounded = divRound(nanos, step) * step;
  const [units = "0", frac = ""] = nanosToDecimal(rounded).split(".");
  return digits === 0 ? units : `${units}.${frac.padEnd(digits, "0")}`;
}

/** Integer division rounded half away from zero. */
export function divRound(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new RangeError("division by zero");
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const q = (2n * n + d) / (2n * d);
  return negative ? -q : q;
}

/**
 * Splits `total` over `weights` so that the parts add up to `total` exactly (largest remainder).
 * Ties in the remainder go to the earlier weight, so the split is deterministic.
 * All-zero weights leave everything unassigned: the caller decides where that goes.
 */
export function splitByWeights(total: Nanos, weights: readonly bigint[]): Nanos[] {
  if (weights.some((w) => w < 0n)) throw new RangeError("weights must not be negative");
  const sum = weights.reduce((a, b) => a + b, 0n);
  if (sum === 0n) return weights.map(() => 0n);
  const negative = total < 0n;
  const abs = negative ? -total : total;
  const parts = weights.map((w) => (abs * w) / sum);
  let left = abs - parts.reduce((a, b) => a + b, 0n);
  const order = weights
    .map((w, i) => ({ i, rem: (abs * w) % sum }))
    .sort((a, b) => (a.rem === b.rem ? a.i - b.i : a.rem > b.rem ? -1 : 1));
  for (const { i } of order) {
    if (left === 0n) break;
    parts[i] = (parts[i] ?? 0n) + 1n;
    left -= 1n;
  }
  return negative ? parts.map((p) => -p) : parts;
}

export function sumNanos(values: Iterable<Nanos>): Nanos {
  let total = 0n;
  for (const v of values) total += v;
  return total;
}
