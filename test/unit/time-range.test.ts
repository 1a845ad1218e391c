import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkTimeRange,
  DAY_MS,
  daysInMonth,
  HOUR_MS,
  MAX_RANGE_DAYS,
  parseTimeRange,
  parseUtcInstant,
  rangeHelp,
  TimeRangeError,
} from "#domain/time-range.ts";

const NOW = new Date("2026-11-15T10:20:00Z");
const iso = (at: Date) => at.toISOString();
const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** The TimeRangeError `run` throws, or a failure. */
function refusal(run: () => unknown): TimeRangeError {
  try {
    run();
  } catch (error) {
    if (error instanceof TimeRangeError) return error;
    throw error;
  }
  throw new Error("expected a TimeRangeError");
}

describe("parseUtcInstant", () => {
  it.each([
    ["2026-11-01", "2026-11-01T00:00:00.000Z"],
    ["2024-02-29", "2024-02-29T00:00:00.000Z"],
    ["2000-02-29", "2000-02-29T00:00:00.000Z"],
    ["2026-11-01T10:00", "2026-11-01T10:00:00.000Z"],
    ["2026-11-01T10:00Z", "2026-11-01T10:00:00.000Z"],
    ["2026-11-01T10:00:00Z", "2026-11-01T10:00:00.000Z"],
    ["2026-11-01T10:00:00.000Z", "2026-11-01T10:00:00.000Z"],
    ["2026-11-01t10:00:00z", "2026-11-01T10:00:00.000Z"],
    ["2026-11-01T12:00:00+02:00", "2026-11-01T10:00:00.000Z"],
    ["2026-11-01T05:30:00-04:30", "2026-11-01T10:00:00.000Z"],
    ["2026-11-01T23:59:59.999Z", "2026-11-01T23:59:59.999Z"],
    ["0099-01-01", "0099-01-01T00:00:00.000Z"],
  ])("reads %s as %s", (text, expected) => {
    expect(iso(parseUtcInstant(text, "from"))).toBe(expected);
  });

  it.each([
    ["2026-11-31", /^from: "2026-11-31" is not a date: November 2026 has 30 days$/],
    ["2026-02-30", /^from: "2026-02-30" is not a date: February 2026 has 28 days$/],
    ["2026-02-29", /February 2026 has 28 days/],
    ["2100-02-29", /February 2100 has 28 days/],
    ["2026-04-31", /April 2026 has 30 days/],
    ["2026-11-00", /November 2026 has 30 days/],
    ["2026-13-01", /^from: "2026-13-01" is not a date: the month is 01 to 12$/],
    ["2026-00-10", /the month is 01 to 12/],
    ["2026-11-01T24:00", /^from: "2026-11-01T24:00" is not a date: the hour is 00 to 23/],
    ["2026-11-01T24:00:00Z", /the hour is 00 to 23/],
    ["2026-11-01T10:60Z", /the minute is 00 to 59/],
    ["2026-11-01T10:00:60Z", /the second is 00 to 59/],
    ["2026-11-01T10:00+24:00", /the offset is at most ±23:59/],
    ["yesterday", /^from: "yesterday" is not a date \(YYYY-MM-DD, or an ISO 8601 date-time/],
    ["", /is not a date \(/],
    ["2026-1-1", /is not a date \(/],
    ["2026-11-01T10", /is not a date \(/],
    ["20261101", /is not a date \(/],
    ["2026-11-01 10:00", /is not a date \(/],
    ["1730455200000", /is not a date \(/],
    ["Sun, 01 Nov 2026 10:00:00 GMT", /is not a date \(/],
  ])("refuses %j, saying why", (text, message) => {
    expect(refusal(() => parseUtcInstant(text, "from"))).toMatchObject({
      field: "from",
      message: expect.stringMatching(message),
    });
  });

  it("reads every calendar date as itself: never rolled over (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9999 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        (year, month, day) => {
          const text = `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
          if (day <= daysInMonth(year, month)) {
            expect(iso(parseUtcInstant(text, "to")).slice(0, 10)).toBe(text);
          } else {
            expect(refusal(() => parseUtcInstant(text, "to")).reason).toMatch(
              new RegExp(`has ${daysInMonth(year, month)} days$`),
            );
          }
        },
      ),
    );
  });

  it("agrees with the ISO text of any instant, in Z or with an offset (property)", () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date("1000-01-01T00:00:00Z"),
          max: new Date("9000-01-01T00:00:00Z"),
          noInvalidDate: true,
        }),
        fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
        (at, offsetMinutes) => {
          expect(parseUtcInstant(iso(at), "from").getTime()).toBe(at.getTime());
          const local = new Date(at.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 23);
          const sign = offsetMinutes < 0 ? "-" : "+";
          const abs = Math.abs(offsetMinutes);
          const text = `${local}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
          expect(parseUtcInstant(text, "from").getTime()).toBe(at.getTime());
        },
      ),
    );
  });

  it("agrees with the calendar's own month lengths (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), (year, month) => {
        const first = new Date(Date.UTC(2000, month - 1, 1));
        first.setUTCFullYear(year);
        const next = new Date(first);
        next.setUTCMonth(month);
        expect(daysInMonth(year, month)).toBe((next.getTime() - first.getTime()) / DAY_MS);
      }),
    );
  });
});

describe("parseTimeRange: the one range rule", () => {
  it("defaults to the 30 days up to the next whole hour", () => {
    expect(parseTimeRange({}, NOW)).toEqual({
      from: new Date("2026-10-16T11:00:00Z"),
      to: new Date("2026-11-15T11:00:00Z"),
    });
    expect(parseTimeRange({ to: "2026-11-01" }, NOW)).toEqual({
      from: new Date("2026-10-02T00:00:00Z"),
      to: new Date("2026-11-01T00:00:00Z"),
    });
    expect(parseTimeRange({ from: "2026-11-10" }, NOW).to).toEqual(new Date("2026-11-15T11:00:00Z"));
  });

  it.each([
    [{ from: "2026-11-01T10:30Z" }, "from", /^from: 2026-11-01T10:30:00\.000Z is not on a whole UTC hour/],
    [{ to: "2026-11-01T10:00:01Z" }, "to", /^to: 2026-11-01T10:00:01\.000Z is not on a whole UTC hour/],
    [{ from: "2026-11-02", to: "2026-11-01" }, "to", /^to: must be after from$/],
    [{ from: "2026-11-01", to: "2026-11-01" }, "to", /^to: must be after from$/],
    [{ from: "2026-12-01" }, "from", /^from: must be before the end, 2026-11-15T11:00:00\.000Z/],
    [
      { from: "2000-01-01", to: "2026-11-01" },
      "from",
      /^from: the range may span at most 367 days; .* is 9801 days$/,
    ],
    [{ from: "2025-10-29", to: "2026-11-01" }, "from", /at most 367 days; .* is 368 days$/],
    [{ from: "2026-11-31" }, "from", /November 2026 has 30 days/],
    [{ to: "2026-02-30" }, "to", /February 2026 has 28 days/],
  ])("refuses %j naming %s", (input, field, message) => {
    expect(refusal(() => parseTimeRange(input, NOW))).toMatchObject({
      field,
      message: expect.stringMatching(message),
    });
  });

  it("names the ends as the surface calls them", () => {
    const fields = { from: "--from", to: "--to" };
    expect(refusal(() => parseTimeRange({ from: "2026-11-02", to: "2026-11-01" }, NOW, fields)).message).toBe(
      "--to: must be after --from",
    );
    expect(refusal(() => parseTimeRange({ from: "2026-11-31" }, NOW, fields)).field).toBe("--from");
    expect(rangeHelp(fields).to).toContain(`at most ${MAX_RANGE_DAYS} days after --from`);
  });

  it("takes exactly the whole-hour ranges of 1 hour to MAX_RANGE_DAYS days (property)", () => {
    const start = Date.parse("2020-01-01T00:00:00Z") / HOUR_MS;
    fc.assert(
      fc.property(
        fc.integer({ min: start, max: start + 24 * 365 * 10 }),
        fc.integer({ min: -48, max: (MAX_RANGE_DAYS + 2) * 24 }),
        fc.integer({ min: 0, max: HOUR_MS - 1 }),
        (fromHour, hours, offMs) => {
          const from = new Date(fromHour * HOUR_MS);
          const to = new Date((fromHour + hours) * HOUR_MS + offMs);
          const ok = offMs === 0 && hours >= 1 && hours <= MAX_RANGE_DAYS * 24;
          const input = { from: iso(from), to: iso(to) };
          if (ok) expect(parseTimeRange(input, NOW)).toEqual({ from, to });
          else expect(() => parseTimeRange(input, NOW)).toThrow(TimeRangeError);
          if (ok) checkTimeRange({ from, to });
        },
      ),
    );
  });
});
