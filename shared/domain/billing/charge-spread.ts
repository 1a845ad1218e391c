import { type Nanos, splitByWeights } from "#domain/money.ts";
import { addDays, type BilledLine, type BillingDay, dayCeiling, dayOf } from "./billed-line.ts";

const DAY_MS = 86_400_000;

/** One UTC day's share of a charge: each amount's part, in the order the amounts were given. */
export interface DayShare {
  day: BillingDay;
  amounts: Nanos[];
}

/**
 * Spreads a charge's amounts over the UTC days of its charge period [start, end), each day in
 * proportion to the time of the period it holds (an hourly row stays on its day; a month's storage
 * charge gives each day its 1/30 or 1/31; a period from noon to noon gives its first and last days
 * half a day's share). Every nano is handed out (largest remainder), so each amount's parts add up
 * to it exactly. A period with no length (a one-time charge stamped with an instant) is all its
 * start day's.
 */
export function spreadOverDays(start: Date, end: Date, amounts: readonly Nanos[]): DayShare[] {
  const from = start.getTime();
  const until = end.getTime();
  if (!(until > from)) return [{ day: dayOf(start), amounts: [...amounts] }];
  const days: BillingDay[] = [];
  const weights: bigint[] = [];
  const last = dayCeiling(end);
  for (let day = dayOf(start); day < last; day = addDays(day, 1)) {
    const dayStart = Date.parse(`${day}T00:00:00Z`);
    const covered = Math.min(until, dayStart + DAY_MS) - Math.max(from, dayStart);
    if (covered <= 0) continue;
    days.push(day);
    weights.push(BigInt(covered));
  }
  const parts = amounts.map((amount) => splitByWeights(amount, weights));
  return days.map((day, i) => ({ day, amounts: parts.map((p) => p[i] ?? 0n) }));
}

/** What a charge is, apart from its period and amounts. */
export type Charge = Omit<
  BilledLine,
  | "ChargePeriodStart"
  | "ChargePeriodEnd"
  | "BilledCost"
  | "EffectiveCost"
  | "x_ChargeStartDay"
  | "x_ChargeEndDay"
>;

/**
 * A charge over [start, end) as one line per day (spreadOverDays); when it covers more than one
 * day, each day's line remembers the days of the whole charge.
 */
export function spreadCharge(
  charge: Charge,
  start: Date,
  end: Date,
  billed: Nanos,
  effective: Nanos,
): BilledLine[] {
  const shares = spreadOverDays(start, end, [billed, effective]);
  const whole = shares.length > 1 ? { x_ChargeStartDay: dayOf(start), x_ChargeEndDay: dayCeiling(end) } : {};
  return shares.map(({ day, amounts: [dayBilled = 0n, dayEffective = 0n] }) => ({
    ...charge,
    ...whole,
    ChargePeriodStart: day,
    ChargePeriodEnd: addDays(day, 1),
    BilledCost: dayBilled,
    EffectiveCost: dayEffective,
  }));
}

/** A line over several days as one line per day, its amounts spread evenly (spreadCharge). */
export function spreadLine(line: BilledLine): BilledLine[] {
  if (addDays(line.ChargePeriodStart, 1) >= line.ChargePeriodEnd) return [line];
  const {
    ChargePeriodStart,
    ChargePeriodEnd,
    BilledCost,
    EffectiveCost,
    x_ChargeStartDay,
    x_ChargeEndDay,
    ...charge
  } = line;
  const midnight = (day: string) => new Date(`${day}T00:00:00Z`);
  return spreadCharge(
    charge,
    midnight(ChargePeriodStart),
    midnight(ChargePeriodEnd),
    BilledCost,
    EffectiveCost,
  );
}
