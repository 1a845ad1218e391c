import type { Dimension } from "../cost-row.ts";
import type { ReportColumn, ReportLine, ReportTable } from "../report-format.ts";
import { compareCodePoints } from "../training/job-summary.ts";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** A trend's step: a UTC day ("2026-11-25") or a UTC hour ("2026-11-25T10:00:00Z", as the report names it). */
export type TrendStep = "day" | "hour";

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

/** The UTC hours ("2026-11-25T10:00:00Z") that [from, to) touches, in order. */
export function utcHours(range: { from: Date; to: Date }): string[] {
  const first = Math.floor(range.from.getTime() / HOUR_MS);
  const last = Math.floor((range.to.getTime() - 1) / HOUR_MS);
  const hours: string[] = [];
  for (let hour = first; hour <= last; hour++)
    hours.push(`${new Date(hour * HOUR_MS).toISOString().slice(0, 13)}:00:00Z`);
  return hours;
}

interface Series {
  group: Partial<Record<Dimension, string | null>>;
  currency: string;
  total: bigint;
  byStep: Map<string, { cost: bigint; rows: number }>;
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
  return costTrend(lines, by, range, "day");
}

/** The same by UTC hour: `lines` are the cost report by ["hour", ...by]; every hour of the range, once. */
export function hourlyTrend(
  lines: readonly ReportLine[],
  by: readonly Dimension[],
  range: { from: Date; to: Date },
): ReportLine[] {
  return costTrend(lines, by, range, "hour");
}

/** Cost per group for every `step` (day or hour) of the range; see dailyTrend. */
export function costTrend(
  lines: readonly ReportLine[],
  by: readonly Dimension[],
  range: { from: Date; to: Date },
  step: TrendStep,
): ReportLine[] {
  const steps = step === "day" ? utcDays(range) : utcHours(range);
  const inRange = new Set(steps);
  const series = new Map<string, Series>();
  for (const line of lines) {
    const at = line.group[step];
    if (typeof at !== "string" || !inRange.has(at)) {
      throw new CostTrendError(`a cost line's ${step} ${JSON.stringify(at)} is not a ${step} of the range`);
    }
    const group = Object.fromEntries(by.map((d) => [d, line.group[d] ?? null]));
    const key = JSON.stringify([line.currency, ...by.map((d) => group[d])]);
    let s = series.get(key);
    if (s === undefined) {
      s = { group, currency: line.currency, total: 0n, byStep: new Map() };
      series.set(key, s);
    }
    s.total += line.cost_nanos;
    const sum = s.byStep.get(at) ?? { cost: 0n, rows: 0 };
    s.byStep.set(at, { cost: sum.cost + line.cost_nanos, rows: sum.rows + line.rows });
  }
  const label = (s: Series) => by.map((d) => s.group[d] ?? "").join("\u0000");
  const ordered = [...series.values()].sort(
    (a, b) =>
      (a.total === b.total ? 0 : a.total > b.total ? -1 : 1) ||
      compareCodePoints(label(a), label(b)) ||
      compareCodePoints(a.currency, b.currency),
  );
  return steps.flatMap((at) =>
    ordered.map((s) => ({
      group: { [step]: at, ...s.group },
      currency: s.currency,
      cost_nanos: s.byStep.get(at)?.cost ?? 0n,
      rows: s.byStep.get(at)?.rows ?? 0,
    })),
  );
}

/** The trend as a table: day (or hour), the dimensions, currency, cost. */
export function trendTable(
  lines: readonly ReportLine[],
  by: readonly Dimension[],
  step: TrendStep = "day",
): ReportTable {
  return {
    columns: [
      { key: step, kind: "text" },
      ...by.map((key): ReportColumn => ({ key, kind: "text" })),
      { key: "currency", kind: "text" },
      { key: "cost_nanos", heading: "cost", kind: "money", amountKey: "amount", total: true },
    ],
    rows: lines.map((l) => ({
      [step]: l.group[step] ?? null,
      ...Object.fromEntries(by.map((d) => [d, l.group[d] ?? null])),
      currency: l.currency,
      cost_nanos: l.cost_nanos,
    })),
  };
}
