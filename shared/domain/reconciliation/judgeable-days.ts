const DAY_MS = 86_400_000;

export interface JudgeableDaysOptions {
  /** A day is judged only once it is at least this many calendar days before today (UTC). Default 2. */
  settleDays?: number;
  /** How many settled days to (re-)reconcile, ending with the newest settled day. Default 7. */
  window?: number;
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * The UTC days to (re-)reconcile at `now`, oldest first: every whole UTC day at least `settleDays`
 * old (today − day ≥ settleDays, so with the default 2 on 2026-11-10 the newest is 2026-11-08),
 * going back `window` days. Bills keep changing for days, so each nightly run re-judges the whole
 * window; depends only on the UTC date of `now`, so runs on the same day agree.
 */
export function judgeableDays(now: Date, options: JudgeableDaysOptions = {}): string[] {
  const settleDays = options.settleDays ?? 2;
  const window = options.window ?? 7;
  if (!Number.isInteger(settleDays) || settleDays < 1)
    throw new RangeError("settleDays must be an integer ≥ 1");
  if (!Number.isInteger(window) || window < 1) throw new RangeError("window must be an integer ≥ 1");
  const time = now.getTime();
  if (Number.isNaN(time)) throw new RangeError("now is not a valid date");
  const today = Math.floor(time / DAY_MS) * DAY_MS;
  const newest = today - settleDays * DAY_MS;
  const days: string[] = [];
  for (let i = window - 1; i >= 0; i--) days.push(isoDay(newest - i * DAY_MS));
  return days;
}
