/**
 * Calendar periods in an IANA time zone, computed with Intl only (no tz database of our own), so
 * daylight-saving changes move the UTC instants of a period's start and end as the wall clock does.
 */

export const BUDGET_PERIODS = ["daily", "weekly", "monthly", "quarterly"] as const;
export type BudgetPeriodKind = (typeof BUDGET_PERIODS)[number];

export const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export class TimeZoneError extends Error {
  override readonly name = "TimeZoneError";
  readonly code = "invalid_time_zone";
}

export interface LocalDateTime {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** ISO weekday: 1 = Monday ... 7 = Sunday. */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
      });
    } catch (cause) {
      throw new TimeZoneError(`${JSON.stringify(timeZone)} is not an IANA time zone`, { cause });
    }
    formatters.set(timeZone, format);
  }
  return format;
}

/** True when `timeZone` names a zone this runtime knows (e.g. "Europe/Berlin", "UTC"). */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock date and time at `instant` in `timeZone`. */
export function localDateTime(instant: Date, timeZone: string): LocalDateTime {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(instant)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  const year = parts.year ?? 0;
  const month = parts.month ?? 1;
  const day = parts.day ?? 1;
  const utcDay = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  return {
    year,
    month,
    day,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
    weekday: utcDay === 0 ? 7 : utcDay,
  };
}

/** Local time minus UTC at `ms`, in milliseconds (whole seconds). */
function offsetAt(ms: number, timeZone: string): number {
  const t = Math.floor(ms / 1000) * 1000;
  const l = localDateTime(new Date(t), timeZone);
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) - t;
}

/**
 * The first instant of the local calendar day `year-month-day` in `timeZone`: local midnight, or,
 * where a daylight-saving jump skips midnight, the instant of the jump. Month and day may overflow
 * (month 13 is January of the next year), as with Date.UTC.
 */
export function startOfLocalDay(year: number, month: number, day: number, timeZone: string): Date {
  const wall = Date.UTC(year, month - 1, day);
  const target = new Date(wall);
  const [ty, tm, td] = [target.getUTCFullYear(), target.getUTCMonth() + 1, target.getUTCDate()];
  // The offset may differ either side of the day's start: try the offsets found just before and after.
  const candidates = new Set<number>();
  for (const probe of [wall - DAY_MS, wall, wall + DAY_MS]) candidates.add(wall - offsetAt(probe, timeZone));
  const sorted = [...candidates].sort((a, b) => a - b);
  const isDay = (ms: number) => {
    const l = localDateTime(new Date(ms), timeZone);
    return l.year === ty && l.month === tm && l.day === td;
  };
  const exact = sorted.find((ms) => {
    const l = localDateTime(new Date(ms), timeZone);
    return isDay(ms) && l.hour === 0 && l.minute === 0 && l.second === 0;
  });
  if (exact !== undefined) return new Date(exact);
  // Midnight does not exist that day (clocks jumped past it): the day starts at the jump, the first
  // instant whose local date is the day. Search the hour before the earliest candidate that is in it.
  const inDay = sorted.find(isDay);
  if (inDay === undefined) throw new TimeZoneError(`cannot place ${ty}-${tm}-${td} in ${timeZone}`);
  let lo = inDay - DAY_MS;
  let hi = inDay;
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2 / 1000) * 1000;
    if (isDay(mid)) hi = mid;
    else lo = mid;
  }
  return new Date(hi);
}

export interface BudgetPeriod {
  kind: BudgetPeriodKind;
  timeZone: string;
  /** The local calendar date the period starts on, YYYY-MM-DD: what idempotency keys name. */
  label: string;
  /** The first instant of the period (local midnight of its first day). */
  start: Date;
  /** The first instant of the next period. */
  end: Date;
  /**
   * The UTC hours of the hourly rollup that belong to the period: [hoursFrom, hoursTo). Equal to
   * start and end in zones whose offset is whole hours; elsewhere each boundary is rounded down to
   * the hour, so consecutive periods still share no hour and miss none.
   */
  hoursFrom: Date;
  hoursTo: Date;
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

function calendarStart(kind: BudgetPeriodKind, l: LocalDateTime): [number, number, number] {
  switch (kind) {
    case "daily":
      return [l.year, l.month, l.day];
    case "weekly":
      // Weeks start on Monday (ISO 8601).
      return [l.year, l.month, l.day - (l.weekday - 1)];
    case "monthly":
      return [l.year, l.month, 1];
    case "quarterly":
      return [l.year, Math.floor((l.month - 1) / 3) * 3 + 1, 1];
  }
}

function nextStart(kind: BudgetPeriodKind, [y, m, d]: [number, number, number]): [number, number, number] {
  switch (kind) {
    case "daily":
      return [y, m, d + 1];
    case "weekly":
      return [y, m, d + 7];
    case "monthly":
      return [y, m + 1, d];
    case "quarterly":
      return [y, m + 3, d];
  }
}

function normalize([y, m, d]: [number, number, number]): [number, number, number] {
  const date = new Date(Date.UTC(y, m - 1, d));
  return [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
}

const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;

function periodFrom(kind: BudgetPeriodKind, timeZone: string, first: [number, number, number]): BudgetPeriod {
  const startDay = normalize(first);
  const endDay = normalize(nextStart(kind, startDay));
  const start = startOfLocalDay(...startDay, timeZone);
  const end = startOfLocalDay(...endDay, timeZone);
  return {
    kind,
    timeZone,
    label: `${pad(startDay[0], 4)}-${pad(startDay[1])}-${pad(startDay[2])}`,
    start,
    end,
    hoursFrom: new Date(floorHour(start.getTime())),
    hoursTo: new Date(floorHour(end.getTime())),
  };
}

/**
 * The calendar period (in `timeZone`) whose rollup hours hold the hour of `at`. For zones with
 * whole-hour offsets that is simply the period containing `at`.
 */
export function periodAt(kind: BudgetPeriodKind, at: Date, timeZone: string): BudgetPeriod {
  const period = periodFrom(kind, timeZone, calendarStart(kind, localDateTime(at, timeZone)));
  if (floorHour(at.getTime()) >= period.hoursTo.getTime()) {
    return periodFrom(kind, timeZone, calendarStart(kind, localDateTime(period.end, timeZone)));
  }
  return period;
}

/** The period before `period`. */
export function previousPeriod(period: BudgetPeriod): BudgetPeriod {
  return periodAt(period.kind, new Date(period.hoursFrom.getTime() - HOUR_MS), period.timeZone);
}

/** Hour of the local week, 0 (Monday 00:00-01:00) to 167, of the UTC hour starting at `hourStart`. */
export function hourOfWeek(hourStart: Date, timeZone: string): number {
  const l = localDateTime(hourStart, timeZone);
  return (l.weekday - 1) * 24 + l.hour;
}
