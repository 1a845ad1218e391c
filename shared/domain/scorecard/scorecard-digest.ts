import type { Alert } from "#domain/alerts/alert.ts";
import { formatMoney } from "#domain/alerts/format-money.ts";
import { truncateText } from "#domain/alerts/slack-message.ts";
import { IDLE_OWNER } from "#domain/allocation/owner.ts";
import { isoWeek } from "#domain/budgets/budget-digest.ts";
import { SHARED, UNALLOCATED } from "#domain/cost-row.ts";
import type { Nanos } from "#domain/money.ts";
import type { Lever } from "./compose-savings.ts";
import { LEVER_TITLES, paybackText, type TeamScorecard } from "./scorecard.ts";
import { compareNanosDesc } from "./scorecard-inputs.ts";

/**
 * The weekly scorecard digest per team: what the team could save a month with its levers combined,
 * and the biggest single savings by model, quickest payback named. Pure: the app builds the scorecard.
 */

/** The alert model's limits. */
const SUMMARY_MAX = 2000;
const TITLE_MAX = 150;
/** Most lines a digest lists; the rest are counted. */
export const DIGEST_TOP_SAVINGS = 5;

/** Owner names that are not a team anyone can act for. */
const NOT_A_TEAM = new Set([UNALLOCATED, SHARED, IDLE_OWNER]);

export interface DigestSaving {
  model: string;
  lever: Lever;
  monthly_savings_nanos: Nanos;
  percent: number;
  roi_weeks: number | null;
  risk: string;
}

/** `scorecard-digest:<team>:<currency>:<ISO week>`: one digest per team (and currency) per week, whatever re-runs happen. */
export function scorecardDigestKey(team: string, currency: string, now: Date): string {
  return `scorecard-digest:${team}:${currency}:${isoWeek(now)}`;
}

/** The team's biggest single-lever savings across its models, largest first. */
export function biggestSavings(card: TeamScorecard): DigestSaving[] {
  return card.models
    .flatMap((model) =>
      model.levers
        .filter((l) => l.monthly_savings_nanos > 0n)
        .map((l) => ({
          model: model.model,
          lever: l.lever,
          monthly_savings_nanos: l.monthly_savings_nanos,
          percent: l.percent,
          roi_weeks: l.roi_weeks,
          risk: l.risk.level,
        })),
    )
    .sort(
      (a, b) =>
        compareNanosDesc(a.monthly_savings_nanos, b.monthly_savings_nanos) ||
        (a.model < b.model ? -1 : a.model > b.model ? 1 : 0),
    );
}

function savingLine(s: DigestSaving, currency: string): string {
  const payback = s.roi_weeks === null ? "" : `, pays back in ${paybackText(s.roi_weeks)}`;
  return `• ${s.model}: ${LEVER_TITLES[s.lever]} ${formatMoney(s.monthly_savings_nanos, currency)}/month (${s.percent}% of its cost${payback}; ${s.risk} risk)`;
}

/**
 * The digest's text: the combined figure, then the biggest savings one per line (at most
 * DIGEST_TOP_SAVINGS); lines that would not fit in `max` characters are left off and counted.
 */
export function scorecardDigestSummary(card: TeamScorecard, max = SUMMARY_MAX): string {
  const money = (n: Nanos) => formatMoney(n, card.currency);
  const savings = biggestSavings(card);
  const head =
    `${card.team} could save ${money(card.monthly_savings_nanos)} a month, ${card.percent}% of ` +
    `${money(card.monthly_cost_nanos)}, with the levers combined (they compose; they do not add).\nBiggest savings:`;
  const more = (n: number) => (n > 0 ? `\n… and ${n} more` : "");
  let text = head;
  let kept = 0;
  for (const saving of savings.slice(0, DIGEST_TOP_SAVINGS)) {
    const line = `\n${savingLine(saving, card.currency)}`;
    if (text.length + line.length + more(savings.length - kept - 1).length > max) break;
    text += line;
    kept += 1;
  }
  return truncateText(text + more(savings.length - kept), max);
}

/**
 * The `scorecard.digest` alert for a team, or null when it has nothing to save or is not a team
 * (unallocated, shared, idle). Info: an opportunity, not a fault; routed by scope.team.
 */
export function buildScorecardDigestAlert(card: TeamScorecard, now: Date): Alert | null {
  if (NOT_A_TEAM.has(card.team) || card.monthly_savings_nanos <= 0n) return null;
  const key = scorecardDigestKey(card.team, card.currency, now);
  const quickest = card.models
    .flatMap((m) => m.levers.filter((l) => l.roi_weeks !== null).map((l) => ({ model: m.model, lever: l })))
    .sort((a, b) => (a.lever.roi_weeks ?? 0) - (b.lever.roi_weeks ?? 0))[0];
  const start = quickest
    ? `Start with ${LEVER_TITLES[quickest.lever.lever]} on ${quickest.model}: it pays back first (${paybackText(quickest.lever.roi_weeks ?? 0)}). `
    : "";
  return {
    idempotency_key: key,
    kind: "scorecard.digest",
    severity: "info",
    title: truncateText(`Weekly optimization scorecard for ${card.team} (${isoWeek(now)})`, TITLE_MAX),
    summary: scorecardDigestSummary(card),
    action: `${start}See \`finops scorecard --team ${card.team}\` for every lever, its risk and the assumptions.`,
    scope: { team: card.team },
    amounts: {
      spend_nanos: card.monthly_cost_nanos,
      savings_nanos: card.monthly_savings_nanos,
      currency: card.currency,
    },
    source: { system: "finops", id: key },
    created_at: now.toISOString(),
  };
}
