import { TOPICS } from "#ports/bus.ts";
import type { TopicKey } from "./iam-roles.ts";

/**
 * How long each topic keeps messages, acknowledged or not, so a new subscription can seek back and
 * replay: a week of events covers an ingest outage; refused input is kept the 31-day maximum, since
 * the dead-letter topic is where an operator looks for it; alerts a week.
 */
export const TOPIC_RETENTION: Readonly<Record<TopicKey, string>> = {
  events: "604800s",
  eventsDeadLetter: "2678400s",
  alerts: "604800s",
  alertsDeadLetter: "2678400s",
  gcpBudgets: "604800s",
  gcpBudgetsDeadLetter: "2678400s",
};

export const TOPIC_KEYS = Object.keys(TOPICS) as TopicKey[];

export class TopicError extends Error {
  override readonly name = "TopicError";
}

/** The TOPICS key of a topic name from the registry. */
export function topicKeyOf(name: string): TopicKey {
  const key = TOPIC_KEYS.find((k) => TOPICS[k] === name);
  if (key === undefined)
    throw new TopicError(`topic ${JSON.stringify(name)} is not in TOPICS (shared/ports/bus.ts)`);
  return key;
}
