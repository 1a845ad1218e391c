import { GROUP_KEYS, type GroupKey } from "#domain/cost-row.ts";
import {
  checkTimeRange,
  parseTimeRange,
  parseUtcInstant,
  QUERY_FIELDS,
  type RangeFields,
  TimeRangeError,
} from "#domain/time-range.ts";
import type { ReportRow, TimeRange, Warehouse } from "#ports/warehouse.ts";

export class ReportQueryError extends Error {
  override readonly name = "ReportQueryError";
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/** A query parameter as text; undefined when absent. Given twice (or as an object), it is refused, not read as absent. */
export function queryText(query: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || typeof value === "string") return value;
  throw new ReportQueryError(name, "give it once, as text");
}

/** The group keys a comma-separated list names; an error names `by` and lists only `accepted`. */
export function parseDimensions(text: string, accepted: readonly GroupKey[] = GROUP_KEYS): GroupKey[] {
  const names = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!(accepted as readonly string[]).includes(name)) {
      throw new ReportQueryError(
        "by",
        `unknown dimension ${JSON.stringify(name)}; one of ${accepted.join(", ")}`,
      );
    }
  }
  if (new Set(names).size !== names.length) throw new ReportQueryError("by", "a dimension is named twice");
  return names as GroupKey[];
}

/** Runs `parse`, turning the range rule's TimeRangeError into a ReportQueryError naming the same field. */
function asQueryError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof TimeRangeError) throw new ReportQueryError(error.field, error.reason);
    throw error;
  }
}

/** A UTC day (its midnight) or an ISO 8601 date-time, strictly (no rolling over); `field` names it in errors. */
export function parseUtcDate(text: string, field: string): Date {
  return asQueryError(() => parseUtcInstant(text, field));
}

/**
 * The range a report covers, by the one range rule (shared/domain/time-range.ts): strict dates, whole
 * UTC hours, `to` after `from`, at most MAX_RANGE_DAYS; by default the 30 days up to the end of the
 * current hour. `names` are the fields as the caller's surface calls them (`--from` on the CLI).
 */
export function reportWindow(
  now: Date,
  from?: string,
  to?: string,
  names: RangeFields = QUERY_FIELDS,
): TimeRange {
  return asQueryError(() => parseTimeRange({ from, to }, now, names));
}

/** Every report reads the hourly rollup: the range rule, for a range already parsed. */
export function checkReportWindow(range: TimeRange, names: RangeFields = QUERY_FIELDS): void {
  asQueryError(() => checkTimeRange(range, names));
}

/**
 * Cost per group over [from, to), on whole hours (the rollup is hourly). What people read (`finops
 * report`, costReport), so live: an event shows as soon as it is stored, not at the next refresh.
 */
export function createCostReport({ warehouse }: { warehouse: Warehouse }) {
  return async function costReport(query: { by: GroupKey[]; from: Date; to: Date }): Promise<ReportRow[]> {
    checkReportWindow(query);
    return warehouse.report({ ...query, reads: "live" });
  };
}
