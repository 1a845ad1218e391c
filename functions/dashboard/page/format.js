// Formatting for the page. Amounts arrive as exact decimal strings; tables and tooltips round them
// to the cent from the string (no floating point), charts plot Number(amount) (display only).

const NANO_DIGITS = 9;

/** "1234.5678" → "$1,234.57" (USD) or "1,234.57 EUR": half away from zero, from the string. */
export function formatMoney(decimal, currency, digits = 2) {
  const negative = decimal.startsWith("-");
  const [units = "0", fraction = ""] = (negative ? decimal.slice(1) : decimal).split(".");
  const nanos = BigInt(units + fraction.padEnd(NANO_DIGITS, "0").slice(0, NANO_DIGITS));
  const step = 10n ** BigInt(NANO_DIGITS - digits);
  const rounded = ((nanos + step / 2n) / step).toString().padStart(digits + 1, "0");
  const whole = rounded.slice(0, rounded.length - digits).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const body = digits === 0 ? whole : `${whole}.${rounded.slice(-digits)}`;
  const sign = negative && /[1-9]/.test(rounded) ? "-" : "";
  return currency === "USD" ? `${sign}$${body}` : `${sign}${body} ${currency}`;
}

const compact = new Map();

/** A short axis label: "$12K". */
export function formatCompact(value, currency) {
  if (!compact.has(currency)) {
    compact.set(
      currency,
      new Intl.NumberFormat("en-US", {
        style: "currency",
        currency,
        notation: "compact",
        maximumFractionDigits: 1,
      }),
    );
  }
  return compact.get(currency).format(value);
}

/** The plotted value of an exact amount. */
export const toNumber = (decimal) => (decimal === null ? null : Number(decimal));

const dayFormat = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
const timeFormat = new Intl.DateTimeFormat("en-US", {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
  timeZone: "UTC",
});

/** "2026-11-03" → "Nov 3". */
export const formatDay = (day) => dayFormat.format(new Date(`${day}T00:00:00Z`));

/** An ISO instant → "Nov 25, 10:43 UTC". */
export const formatTime = (iso) => `${timeFormat.format(new Date(iso))} UTC`;

/** 12.5 → "12.5%". */
export const formatPercent = (value) =>
  `${Number(value).toLocaleString("en-US", { maximumFractionDigits: 1 })}%`;
