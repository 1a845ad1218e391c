/**
 * The one rule for the time range every surface reads (finops report, export and jobs, the
 * costReport function, the dashboard's data): strict dates, both ends on whole UTC hours (the rollup
 * is hourly), [from, to) with `to` after `from`, and at most MAX_RANGE_DAYS between them. Pure: the
 * caller passes `now`; errors name the field as the surface calls it (`from`, `--from`).
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** The longest range any surface answers: a year and a day, so a query's cost stays bounded. */
export const MAX_RANGE_DAYS = 367;
/** The range when none is given: these days up to the end of the current hour. */
export const DEFAULT_RANGE_DAYS = 30;

/** A half-open UTC range [from, to). */
export interface UtcRange {
  from: Date;
  to: Date;
}

/** What the two ends are called where they were typed: `from`/`to` in a query string, `--from`/`--to` on a command line. */
export interface RangeFields {
  from: string;
  to: string;
}

export const QUERY_FIELDS: RangeFields = { from: "from", to: "to" };

/** How the accepted forms are said, in errors and in help. */
export const DATE_FORMS = "YYYY-MM-DD, or an ISO 8601 date-time on a whole hour such as 2026-11-01T10:00Z";
/** What parseUtcInstant reads, whole hour or not (a range's bounds are then held to whole hours apart). */
const INSTANT_FORMS = "YYYY-MM-DD, or an ISO 8601 date-time such as 2026-11-01T10:00Z";

export class TimeRangeError extends Error {
  override readonly name = "TimeRangeError";
  /** The field as the surface names it. */
  readonly field: string;
  /** What is wrong, without the field. */
  readonly reason: string;
  constructor(field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.field = field;
    this.reason = reason;
  }
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** Days in `month` (1-12) of `year`, proleptic Gregorian. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** The instant of a UTC calendar date and time, for any four-digit year (Date.UTC maps 0-99 to 19xx). */
function utcInstant(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  const at = new Date(Date.UTC(2000, mo - 1, d, h, mi, s, ms));
  at.setUTCFullYear(y);
  return at.getTime();
}

/**
 * A UTC instant from `text`: a day (its midnight UTC) or an ISO 8601 date-time, to the minute or
 * finer, with Z, an offset, or no zone (read as UTC). Nothing rolls over: 2026-11-31, 2026-02-30,
 * T24:00 or a minute 60 are refused, saying why.
 */
export function parseUtcInstant(text: string, field: string): Date {
  const notADate = (why?: string) =>
    new TimeRangeError(
      field,
      `${JSON.stringify(text)} is not a date${why === undefined ? ` (${INSTANT_FORMS})` : `: ${why}`}`,
    );
  const day = DATE.exec(text);
  const time = day === null ? DATE_TIME.exec(text) : null;
  const parts = day ?? time;
  if (parts === null) throw notADate();
  const [y, mo, d, h = 0, mi = 0, s = 0] = parts.slice(1, 7).map((p) => (p === undefined ? 0 : Number(p)));
  if (y === undefined || mo === undefined || d === undefined) throw notADate();
  if (mo < 1 || mo > 12) throw notADate("the month is 01 to 12");
  const length = daysInMonth(y, mo);
  if (d < 1 || d > length)
    throw notADate(`${MONTHS[mo - 1]} ${String(y).padStart(4, "0")} has ${length} days`);
  if (h > 23) throw notADate("the hour is 00 to 23 (the next day's 00:00 is the end of this one)");
  if (mi > 59) throw notADate("the minute is 00 to 59");
  if (s > 59) throw notADate("the second is 00 to 59");
  const fraction = time?.[7];
  const ms = fraction === undefined ? 0 : Math.floor(Number(`0.${fraction}`) * 1000);
  let offsetMinutes = 0;
  const sign = time?.[9];
  if (sign !== undefined) {
    const oh = Number(time?.[10]);
    const om = Number(time?.[11]);
    if (oh > 23 || om > 59) throw notADate("the offset is at most ±23:59");
    offsetMinutes = (sign === "-" ? -1 : 1) * (oh * 60 + om);
  }
  return new Date(utcInstant(y, mo, d, h, mi, s, ms) - offsetMinutes * 60_000);
}

/** The end of the hour `now` is in (`now` itself on a whole hour). */
export function nextWholeHour(now: Date): Date {
  return new Date(Math.ceil(now.getTime() / HOUR_MS) * HOUR_MS);
}

function spanText(ms: number): string {
  const days = ms / DAY_MS;
  return Number.isInteger(days) ? `${days} days` : `${days.toFixed(1)} days`;
}

/**
 * The rule, for a range already parsed: both ends on whole UTC hours, `to` after `from`, at most
 * MAX_RANGE_DAYS apart. Throws a TimeRangeError naming the end at fault.
 */
export function checkTimeRange(range: UtcRange, fields: RangeFields = QUERY_FIELDS): void {
  for (const end of ["from", "to"] as const) {
    const at = range[end];
    if (Number.isNaN(at.getTime())) throw new TimeRangeError(fields[end], "is not a date");
    if (at.getTime() % HOUR_MS !== 0) {
      throw new TimeRangeError(
        fields[end],
        `${at.toISOString()} is not on a whole UTC hour (the rollup is hourly)`,
      );
    }
  }
  const span = range.to.getTime() - range.from.getTime();
  if (span <= 0) throw new TimeRangeError(fields.to, `must be after ${fields.from}`);
  if (span > MAX_RANGE_DAYS * DAY_MS) {
    throw new TimeRangeError(
      fields.from,
      `the range may span at most ${MAX_RANGE_DAYS} days; ${range.from.toISOString()} to ${range.to.toISOString()} is ${spanText(span)}`,
    );
  }
}

/**
 * The range `from`/`to` (text, either may be absent) name, by the rule: `to` defaults to the next
 * whole hour, `from` to DEFAULT_RANGE_DAYS before `to`.
 */
export function parseTimeRange(
  input: { from?: string | undefined; to?: string | undefined },
  now: Date,
  fields: RangeFields = QUERY_FIELDS,
): UtcRange {
  const to = input.to === undefined ? nextWholeHour(now) : parseUtcInstant(input.to, fields.to);
  const from =
    input.from === undefined
      ? new Date(Math.floor((to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS) / HOUR_MS) * HOUR_MS)
      : parseUtcInstant(input.from, fields.from);
  const range = { from, to };
  if (input.to === undefined && from.getTime() % HOUR_MS === 0 && from >= to) {
    throw new TimeRangeError(
      fields.from,
      `must be before the end, ${to.toISOString()} (the next whole hour, when ${fields.to} is not given)`,
    );
  }
  checkTimeRange(range, fields);
  return range;
}

/** The range flags' help, said the same way by every command that takes them. */
export function rangeHelp(fields: RangeFields): { from: string; to: string } {
  return {
    from: `start, inclusive, UTC: ${DATE_FORMS} (default ${DEFAULT_RANGE_DAYS} days before ${fields.to})`,
    to: `end, exclusive, the same forms (default the next whole hour); at most ${MAX_RANGE_DAYS} days after ${fields.from}`,
  };
}
