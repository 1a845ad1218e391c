import type { Dimension } from "../cost-row.ts";
import type { ReportColumn, ReportLine, ReportTable } from "../report-format.ts";
import { compareCodePoints } from "../training/job-summary.ts";

const DAY_MS = 86_400_000;

export class CostTrendError extends Error {
  override readonly name = "CostTrendError";
}

/** The UTC days ("YYYY-MM-DD") that [from, to) touches, in order. */
export function utcDays(range: { from: Date; to: Date }): string[] {
  const first = Math.floor(range.from.getTime() / DAY_MS);
  const last = Math.floor((range.to.getTime() - 1) / DAY_MS);
  const days: string[] = [];
  for (let day = first; day <= last; day++) days.push(new Date(day * DAY_MS).toISOString().slice(0, 10));
  return days;
}

interface Series {
  group: Partial<Record<Dimension, string | null>>;
  currency: string;
  total: bigint;
  byDay: Map<string, { cost: bigint; rows: number }>;
}

/**
 * Daily cost per group over every day of the range: `lines` are the cost report by ["day", ...by];
 * each group (its dimension values and currency) gets a line for every day, 0 where it spent nothing,
 * so a chart or a reader sees the gaps. Ordered by day, then by the group's cost over the range
 * (largest first), so the groups keep one order from day to day.
 */
export function dailyTrend(
  lines: readonly ReportLine[],
  by: readonly Dimension[],
  range: { from: Date; to: Date },
): ReportLine[] {
  const days = utcDays(range);
  const inRange = new Set(days);
  const series = new Map<string, Series>();
  for (const line of lines) {
    const day = line.group.day;
    if (typeof day !== "string" || !inRange.has(day)) {
      throw new CostTrendError(`a cost line's day ${JSON.stringify(day)} is not a day of the range`);
    }
    const group = Object.fromEntries(by.map((d) => [d, line.group[d] ?? null]));
    const key = JSON.stringify([line.currency, ...by.map((d) => group[d])]);
    let s = series.get(key);
    if (s === undefined) {
      s = { group, currency: line.currency, total: 0n, byDay: new Map() };
      series.set(key, s);
    }
    s.total += line.cost_nanos;
    const sum = s.byDay.get(day) ?? { cost: 0n, rows: 0 };
    s.byDay.set(day, { cost: sum.cost + line.cost_nanos, rows: sum.rows + line.rows });
  }
  const label = (s: Series) => by.map((d) => s.group[d] ?? "").join("\u0000");
  const ordered = [...series.values()].sort(
    (a, b) =>
      (a.total === b.total ? 0 : a.total > b.total ? -1 : 1) ||
      compareCodePoints(label(a), label(b)) ||
      compareCodePoints(a.currency, b.currency),
  );
  return days.flatMap((day) =>
    ordered.map((s) => ({
      group: { day, ...s.group },
      currency: s.currency,
      cost_nanos: s.byDay.get(day)?.cost ?? 0n,
      rows: s.byDay.get(day)?.rows ?? 0,
    })),
  );
}

/** The trend as a table: day, the dimensions, currency, cost. */
export function trendTable(lines: readonly ReportLine[], by: readonly Dimension[]): ReportTable {
  return {
    columns: [
      { key: "day", kind: "text" },
      ...by.map((key): ReportColumn => ({ key, kind: "text" })),
      { key: "currency", kind: "text" },
      { key: "cost_nanos", heading: "cost", kind: "money", amountKey: "amount", total: true },
    ],
    rows: lines.map((l) => ({
      day: l.group.day ?? null,
      ...Object.fromEntries(by.map((d) => [d, l.group[d] ?? null])),
      currency: l.currency,
      cost_nanos: l.cost_nanos,
    })),
  };
}
