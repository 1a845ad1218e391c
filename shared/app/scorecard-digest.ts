import type { Alert } from "#domain/alerts/alert.ts";
import { isoWeek } from "#domain/budgets/budget-digest.ts";
import { buildScorecardDigestAlert } from "#domain/scorecard/scorecard-digest.ts";
import type { AlertClaims } from "#ports/alert-claims.ts";
import { type Bus, TOPICS } from "#ports/bus.ts";
import type { Clock } from "#ports/clock.ts";
import { type Logger, silentLogger } from "#ports/logger.ts";
import { claimAndPublish, type PublishedAlert } from "./publish-alerts.ts";
import type { Scorecard } from "./scorecard.ts";

export interface ScorecardDigestDeps {
  scorecard: Scorecard;
  bus: Bus;
  claims: AlertClaims;
  clock: Clock;
  logger?: Logger;
  /** Where digests go; the alerts topic unless told. */
  alertsTopic?: string;
}

export interface ScorecardDigestResult {
  sentAt: Date;
  /** ISO week of the run in UTC: the digests' idempotency keys name it. */
  week: string;
  /** Teams with something to save. */
  teams: number;
  sent: (PublishedAlert & { team: string })[];
  /** Digests an earlier run this week already sent. */
  alreadySent: number;
}

/**
 * Builds the scorecard over the default window and publishes one `scorecard.digest` alert per team
 * that could save something, naming its biggest savings, at most once per team per ISO week (the
 * key is claimed first).
 */
export type ScorecardDigest = () => Promise<ScorecardDigestResult>;

export function createScorecardDigest({
  scorecard,
  bus,
  claims,
  clock,
  logger = silentLogger,
  alertsTopic = TOPICS.alerts,
}: ScorecardDigestDeps): ScorecardDigest {
  return async function sendScorecardDigest() {
    const report = await scorecard();
    const now = clock.now();
    const alerts = report.teams
      .map((team) => buildScorecardDigestAlert(team, now))
      .filter((alert): alert is Alert => alert !== null);
    const { published, alreadySent } = await claimAndPublish(alerts, {
      claims,
      bus,
      topic: alertsTopic,
      logger,
    });
    const teamOf = new Map(alerts.map((a) => [a.idempotency_key, a.scope.team ?? ""]));
    for (const p of published) logger.info("scorecard digest published", { key: p.key });
    return {
      sentAt: now,
      week: isoWeek(now),
      teams: alerts.length,
      sent: published.map((p) => ({ ...p, team: teamOf.get(p.key) ?? "" })),
      alreadySent,
    };
  };
}

/** The scheduled function's answer body. */
export function scorecardDigestResultToJson(result: ScorecardDigestResult) {
  return {
    sent_at: result.sentAt.toISOString(),
    week: result.week,
    teams: result.teams,
    sent: result.sent,
    already_sent: result.alreadySent,
  };
}
