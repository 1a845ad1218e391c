import type { TimeRange } from "./warehouse.ts";

const HOUR_MS = 3_600_000;

/** Whole hours (any order, repeats allowed) as the fewest half-open ranges of consecutive hours, oldest first. */
export function hourRuns(hours: readonly Date[]): TimeRange[] {
  const starts = [...new Set(hours.map((hour) => Math.floor(hour.getTime() / HOUR_MS) * HOUR_MS))].sort(
    (a, b) => a - b,
  );
  const runs: TimeRange[] = [];
  for (const start of starts) {
    const last = runs.at(-1);
    if (last && last.to.getTime() === start) last.to = new Date(start + HOUR_MS);
    else runs.push({ from: new Date(start), to: new Date(start + HOUR_MS) });
  }
  return runs;
}

/** Ranges merged where they overlap or touch, oldest first. */
export function mergeRanges(ranges: readonly TimeRange[]): TimeRange[] {
  const sorted = [...ranges].sort((a, b) => a.from.getTime() - b.from.getTime());
  const merged: TimeRange[] = [];
  for (const range of sorted) {
    const last = merged.at(-1);
    if (last && range.from.getTime() <= last.to.getTime()) {
      if (range.to > last.to) last.to = range.to;
    } else merged.push({ from: range.from, to: range.to });
  }
  return merged;
}
