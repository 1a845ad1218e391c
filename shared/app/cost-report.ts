import { GROUP_KEYS, type GroupKey } from "#domain/cost-row.ts";
import type { ReportRow, TimeRange, Warehouse } from "#ports/warehouse.ts";

const HOUR_MS = 3_600_000;

export class ReportQueryError extends Error {
  override readonly name = "ReportQueryError";
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

export function parseDimensions(text: string): GroupKey[] {
  const names = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!(GROUP_KEYS as readonly string[]).includes(name)) {
      throw new ReportQueryError(
        "by",
        `unknown dimension ${JSON.stringify(name)}; one of ${GROUP_KEYS.join(", ")}`,
      );
    }
  }
  if (new Set(names).size !== names.length) throw new ReportQueryError("by", "a dimension is named twice");
  return names as GroupKey[];
}

/** Parses a UTC date (its midnight) or an ISO 8601 date-time; `field` names the input in errors. */
export function parseUtcDate(text: string, field: string): Date {
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  const at = new Date(iso);
  if (Number.isNaN(at.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(text)) {
    throw new ReportQueryError(
      field,
      `${JSON.stringify(text)} is not a date (YYYY-MM-DD or an ISO 8601 date-time)`,
    );
  }
  return at;
}

/** The window a report covers when not told: the 30 days up to the end of the current hour. */
export function reportWindow(now: Date, from?: string, to?: string, names = { from: "from", to: "to" }) {
  const end = to ? parseUtcDate(to, names.to) : new Date(Math.ceil(now.getTime() / HOUR_MS) * HOUR_MS);
  const start = from ? parseUtcDate(from, names.from) : new Date(end.getTime() - 30 * 24 * HOUR_MS);
  return { from: start, to: end };
}

/** Every report reads the hourly rollup: both ends on whole UTC hours, `to` after `from`. */
export function checkReportWindow(range: TimeRange): void {
  for (const [field, at] of [
    ["from", range.from],
    ["to", range.to],
  ] as const) {
    if (at.getTime() % HOUR_MS !== 0) {
      throw new ReportQueryError(
        field,
        `${at.toISOString()} is not on a whole UTC hour (the rollup is hourly)`,
      );
    }
  }
  if (range.to <= range.from) throw new ReportQueryError("to", "must be after from");
}

/** Cost per group over [from, to), read from the hourly rollup, so both ends must fall on whole hours. */
export function createCostReport({ warehouse }: { warehouse: Warehouse }) {
  return async function costReport(query: { by: GroupKey[]; from: Date; to: Date }): Promise<ReportRow[]> {
    checkReportWindow(query);
    return warehouse.report(query);
  };
}
