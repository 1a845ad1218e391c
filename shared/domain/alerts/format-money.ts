import { formatAmount, type Nanos } from "#domain/money.ts";

/** Symbols written before the amount; other currencies are written after it ("1,200.00 CHF"). */
const SYMBOLS: Readonly<Record<string, string>> = { USD: "$", EUR: "€", GBP: "£", JPY: "¥", INR: "₹" };
/** Currencies without minor units in everyday display (ISO 4217 exponent 0). */
const NO_MINOR_UNITS = new Set(["JPY", "KRW", "CLP", "VND", "ISK"]);

/** "16000" → "16,000": groups an unsigned run of digits by thousands. */
export function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * Money for people: formatMoney(16_000n * 10n ** 9n, "USD") === "$16,000.00". Exact (no floating
 * point): rounds half away from zero through formatAmount, then groups the units by thousands.
 */
export function formatMoney(nanos: Nanos, currency = "USD"): string {
  const text = formatAmount(nanos, NO_MINOR_UNITS.has(currency) ? 0 : 2);
  const negative = text.startsWith("-");
  const [units = "0", fraction] = (negative ? text.slice(1) : text).split(".");
  const amount = `${groupThousands(units)}${fraction === undefined ? "" : `.${fraction}`}`;
  const symbol = SYMBOLS[currency];
  return `${negative ? "-" : ""}${symbol === undefined ? `${amount} ${currency}` : `${symbol}${amount}`}`;
}

/** 80 → "80%", 100.25 → "100.25%", 33.333 → "33.33%", 1250 → "1,250%". */
export function formatPercent(percent: number): string {
  const fixed = Math.abs(percent).toFixed(2);
  const [units = "0", fraction = ""] = fixed.split(".");
  const decimals = fraction.replace(/0+$/, "");
  const sign = percent < 0 && fixed !== "0.00" ? "-" : "";
  return `${sign}${groupThousands(units)}${decimals === "" ? "" : `.${decimals}`}%`;
}
