import type { Dialect } from "#ports/sql-runner.ts";
import type { TimeRange } from "#ports/warehouse.ts";

/** report.sql's tail placeholders and the values their parameters bind. */
export interface LiveTailSql {
  identifiers: { tail_events: string; tail_lookback: string; tail_hours: string };
  params: Record<string, Date>;
}

const HOUR_MS = 3_600_000;
const ceilHour = (date: Date) => Math.ceil(date.getTime() / HOUR_MS) * HOUR_MS;

/**
 * The tail's ranges (whole hours) that a report over `within` reads from the raw events: the hours
 * whose start is in [from, to), as the report reads the rollup's.
 */
export function clipRanges(ranges: readonly TimeRange[], within: TimeRange): TimeRange[] {
  return ranges.flatMap((range) => {
    const from = Math.max(range.from.getTime(), ceilHour(within.from));
    const to = Math.min(range.to.getTime(), ceilHour(within.to));
    return from < to ? [{ from: new Date(from), to: new Date(to) }] : [];
  });
}

/**
 * report.sql's predicates for the tail `ranges` (whole hours, disjoint): `tail_events` the raw rows
 * in them, `tail_lookback` the `lookbackMs` before each (where its training rows' predecessors are),
 * `tail_hours` the rollup hours they stand in for. One bound range per parameter triple, so each
 * is a constant filter that prunes partitions. No ranges: one empty range at `at`, which reads
 * nothing and keeps every rollup hour (a report of the rollup alone).
 */
export function liveTailSql(
  dialect: Dialect,
  ranges: readonly TimeRange[],
  lookbackMs: number,
  at: Date,
): LiveTailSql {
  const bound =
    ranges.length > 0
      ? ranges.map((r) => ({ ...r, lookback: new Date(r.from.getTime() - lookbackMs) }))
      : [{ from: at, to: at, lookback: at }];
  const sigil = dialect === "duckdb" ? "$" : "@";
  const params: Record<string, Date> = {};
  const any = (column: string, lower: string, upper: string) =>
    `(${bound
      .map((_, i) => `(${column} >= ${sigil}${lower}_${i} AND ${column} < ${sigil}${upper}_${i})`)
      .join(" OR ")})`;
  bound.forEach((range, i) => {
    params[`tail_from_${i}`] = range.from;
    params[`tail_to_${i}`] = range.to;
    params[`tail_lookback_${i}`] = range.lookback;
  });
  return {
    identifiers: {
      tail_events: any("event_time", "tail_from", "tail_to"),
      tail_lookback: any("event_time", "tail_lookback", "tail_from"),
      tail_hours: any("hour", "tail_from", "tail_to"),
    },
    params,
  };
}
