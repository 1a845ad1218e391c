import type { Alert, Severity } from "../alerts/alert.ts";
import type { Nanos } from "../money.ts";
import type { Budget } from "./budget-config.ts";
import type { BudgetPeriod } from "./budget-period.ts";
import { forecastSpend, formatMoney, percentOf, reaches } from "./evaluate-budget.ts";

/**
 * The weekly budget digest per owner team: budgets approaching their limit in the current period,
 * and budgets that overran their previous period and by how much. Pure: the app reads the spend.
 */

/** A budget at or above this percent of its limit, but below 100, is "approaching". */
export const DIGEST_APPROACHING_PERCENT = 80;
/** The alert model's summary limit. */
export const DIGEST_SUMMARY_MAX = 2000;
/** The alert model's title limit. */
const TITLE_MAX = 150;

const DAY_MS = 86_400_000;

export interface DigestApproaching {
  budget: string;
  period: BudgetPeriod;
  spend_nanos: Nanos;
  limit_nanos: Nanos;
  currency: string;
  /** Spend over limit, percent, two decimals. */
  percent: number;
  /** Period-end spend at the flat run rate of the period so far; absent when nothing has elapsed. */
  forecast?: { nanos: Nanos; percent: number };
}

export interface DigestOverrun {
  budget: string;
  period: BudgetPeriod;
  spend_nanos: Nanos;
  limit_nanos: Nanos;
  currency: string;
  /** Spend over limit, percent, two decimals (e.g. 112.5). */
  percent: number;
  /** Spend minus limit: always more than zero. */
  over_nanos: Nanos;
  /** Over over limit, percent, two decimals (e.g. 12.5). */
  over_percent: number;
}

export interface DigestEntry {
  approaching?: DigestApproaching;
  overrun?: DigestOverrun;
}

export interface TeamDigest {
  team: string;
  approaching: DigestApproaching[];
  overruns: DigestOverrun[];
}

/** The ISO 8601 week of `at` in UTC, "2026-W48" (weeks start on Monday; week 1 holds a Thursday). */
export function isoWeek(at: Date): string {
  const day = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  const weekday = new Date(day).getUTCDay() || 7;
  // The Thursday of the same ISO week decides the week-numbering year.
  const thursday = new Date(day + (4 - weekday) * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / DAY_MS / 7) + 1;
  return `${year}-W${String(week).padStart(2, "0")}`;
}

/** `budget-digest:<team>:<ISO week>`: one digest per team per week, whatever re-runs happen. */
export function digestKey(team: string, now: Date): string {
  return `budget-digest:${team}:${isoWeek(now)}`;
}

/**
 * What one budget contributes to its owner's digest at `now`, given its spend so far in the current
 * period and its spend in the whole previous period: approaching when 80% <= spend < 100% of the
 * limit now; an overrun when the previous period's spend was more than the limit.
 */
export function digestEntry(
  budget: Budget,
  current: { period: BudgetPeriod; spend_nanos: Nanos },
  previous: { period: BudgetPeriod; spend_nanos: Nanos },
  now: Date,
): DigestEntry {
  const limit = budget.amount_nanos;
  const entry: DigestEntry = {};
  const spend = current.spend_nanos;
  if (reaches(spend, limit, DIGEST_APPROACHING_PERCENT) && !reaches(spend, limit, 100)) {
    const projected = forecastSpend(current.period, spend, now);
    entry.approaching = {
      budget: budget.name,
      period: current.period,
      spend_nanos: spend,
      limit_nanos: limit,
      currency: budget.currency,
      percent: percentOf(spend, limit),
      ...(projected.method === "none"
        ? {}
        : { forecast: { nanos: projected.nanos, percent: percentOf(projected.nanos, limit) } }),
    };
  }
  if (previous.spend_nanos > limit) {
    const over = previous.spend_nanos - limit;
    entry.overrun = {
      budget: budget.name,
      period: previous.period,
      spend_nanos: previous.spend_nanos,
      limit_nanos: limit,
      currency: budget.currency,
      percent: percentOf(previous.spend_nanos, limit),
      over_nanos: over,
      over_percent: percentOf(over, limit),
    };
  }
  return entry;
}

/** Collects entries per owner, sorted: most used (approaching) and most over (overruns) first. */
export function teamDigests(entries: readonly { owner: string; entry: DigestEntry }[]): TeamDigest[] {
  const teams = new Map<string, TeamDigest>();
  for (const { owner, entry } of entries) {
    if (!entry.approaching && !entry.overrun) continue;
    const digest = teams.get(owner) ?? { team: owner, approaching: [], overruns: [] };
    if (entry.approaching) digest.approaching.push(entry.approaching);
    if (entry.overrun) digest.overruns.push(entry.overrun);
    teams.set(owner, digest);
  }
  const byName = (a: { budget: string }, b: { budget: string }) =>
    a.budget < b.budget ? -1 : a.budget > b.budget ? 1 : 0;
  return [...teams.values()]
    .sort((a, b) => (a.team < b.team ? -1 : a.team > b.team ? 1 : 0))
    .map((d) => ({
      team: d.team,
      approaching: [...d.approaching].sort((a, b) => b.percent - a.percent || byName(a, b)),
      overruns: [...d.overruns].sort((a, b) => b.over_percent - a.over_percent || byName(a, b)),
    }));
}

function periodText(period: BudgetPeriod): string {
  return `${period.kind} from ${period.label}`;
}

export function approachingLine(item: DigestApproaching): string {
  const money = (n: Nanos) => formatMoney(n, item.currency);
  const forecast = item.forecast
    ? `; forecast ${money(item.forecast.nanos)} (${item.forecast.percent}%) by the period end`
    : "";
  return (
    `• ${item.budget} (${periodText(item.period)}): ${money(item.spend_nanos)} of ` +
    `${money(item.limit_nanos)} (${item.percent}%)${forecast}`
  );
}

export function overrunLine(item: DigestOverrun): string {
  const money = (n: Nanos) => formatMoney(n, item.currency);
  return (
    `• ${item.budget} (${periodText(item.period)}): ${money(item.spend_nanos)} of ` +
    `${money(item.limit_nanos)} (${item.percent}%), over by ${money(item.over_nanos)} (${item.over_percent}%)`
  );
}

const moreText = (n: number) => `… and ${n} more`;

/**
 * The digest's summary: an overview line, then the overruns (what made it a warning) and the
 * budgets approaching their limit, one line each. Lines that would not fit in `max` characters are
 * left off and counted in a last "… and N more" line.
 */
export function digestSummary(digest: TeamDigest, max = DIGEST_SUMMARY_MAX): string {
  const { approaching, overruns } = digest;
  const parts: string[] = [];
  if (overruns.length > 0) parts.push(`${overruns.length} overran last period`);
  if (approaching.length > 0) parts.push(`${approaching.length} approaching the limit`);
  const sections = [
    { header: `Overran last period (${overruns.length}):`, lines: overruns.map(overrunLine) },
    {
      header: `Approaching the limit, ${DIGEST_APPROACHING_PERCENT}% or more (${approaching.length}):`,
      lines: approaching.map(approachingLine),
    },
  ].filter((s) => s.lines.length > 0);
  const total = sections.reduce((n, s) => n + s.lines.length, 0);

  let text = `${digest.team}: ${parts.join(", ")}.`;
  let kept = 0;
  for (const section of sections) {
    let headed = false;
    for (const line of section.lines) {
      const addition = `${headed ? "" : `\n${section.header}`}\n${line}`;
      const left = total - kept - 1;
      const suffix = left > 0 ? `\n${moreText(left)}` : "";
      if (text.length + addition.length + suffix.length > max) {
        return `${text}\n${moreText(total - kept)}`.slice(0, max);
      }
      text += addition;
      headed = true;
      kept += 1;
    }
  }
  return text;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The `budget.digest` alert for a team, or null when it has nothing to report. Warning when any
 * budget overran last period, info otherwise; routed by scope.team, the owner.
 */
export function buildDigestAlert(digest: TeamDigest, now: Date): Alert | null {
  if (digest.approaching.length === 0 && digest.overruns.length === 0) return null;
  const key = digestKey(digest.team, now);
  const severity: Severity = digest.overruns.length > 0 ? "warning" : "info";
  return {
    idempotency_key: key,
    kind: "budget.digest",
    severity,
    title: clip(`Weekly budget digest for ${digest.team} (${isoWeek(now)})`, TITLE_MAX),
    summary: digestSummary(digest),
    action:
      severity === "warning"
        ? "Review why the overrun budgets went over and agree a fix or a new amount before this period ends too."
        : "Check the budgets approaching their limit: reduce spend or agree a higher budget before they are exceeded.",
    scope: { team: digest.team },
    source: { system: "finops", id: key },
    created_at: now.toISOString(),
  };
}
