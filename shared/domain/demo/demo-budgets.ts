import { type Budget, DEFAULT_THRESHOLDS } from "../budgets/budget-config.ts";
import { HOUR_MS, periodAt } from "../budgets/budget-period.ts";
import type { Nanos } from "../money.ts";
import { syntheticOrg } from "./synthetic-org.ts";

/**
 * The synthetic org's budgets for the demo when the configuration has none: a monthly budget for
 * each of the three org teams that spent most so far this month (not idle or unallocated), sized from that spend so that they
 * sit at different levels — one past 50%, one past 80%, one past 100% of its amount.
 */

/** Percent of its budget each demo team has used, highest spender first. */
export const DEMO_BUDGET_LEVELS: readonly number[] = [110, 90, 60];

const NANOS_PER_CENT = 10_000_000n;

/** The hours a monthly UTC budget's spend to date covers at `now` (what evaluateBudgets reads). */
export function demoBudgetRange(now: Date): { from: Date; to: Date } {
  const period = periodAt("monthly", now, "UTC");
  const currentHourEnd = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS + HOUR_MS;
  return { from: period.hoursFrom, to: new Date(Math.min(currentHourEnd, period.hoursTo.getTime())) };
}

/** The budget amount (whole cents) at which `spend` is `level` percent used. */
export function amountAtLevel(spend: Nanos, level: number): Nanos {
  const cents = (spend * 100n) / BigInt(level) / NANOS_PER_CENT;
  return (cents > 0n ? cents : 1n) * NANOS_PER_CENT;
}

/** One budget per level for the teams with the most spend (ties by name); teams without spend get none. */
export function demoBudgets(spendByTeam: ReadonlyMap<string, Nanos>, currency = "USD"): Budget[] {
  const names = new Set(syntheticOrg().teams.map((t) => t.name));
  const teams = [...spendByTeam]
    .filter(([team, spend]) => names.has(team) && spend > 0n)
    .sort(([a, x], [b, y]) => (x === y ? a.localeCompare(b) : x > y ? -1 : 1));
  return DEMO_BUDGET_LEVELS.flatMap((level, index) => {
    const entry = teams[index];
    if (!entry) return [];
    const [team, spend] = entry;
    return [
      {
        name: `demo-${team}-monthly`,
        scope: { team },
        period: "monthly",
        timeZone: "UTC",
        amount_nanos: amountAtLevel(spend, level),
        currency,
        thresholds: DEFAULT_THRESHOLDS,
        forecast: false,
        owner: team,
      } satisfies Budget,
    ];
  });
}
