import { TOPICS } from "#ports/bus.ts";
import type { TopicKey } from "./iam-roles.ts";

export const TOPIC_KEYS = Object.keys(TOPICS) as TopicKey[];

const DEAD_LETTER_SUFFIX = "DeadLetter";

function isDeadLetter(key: TopicKey): boolean {
  return key.endsWith(DEAD_LETTER_SUFFIX);
}

/**
 * How long a topic keeps messages, acknowledged or not, so a subscription made later can seek back and
 * replay: a week on the working topics covers an outage; dead-letter topics keep the 31-day maximum,
 * since no subscription of ours reads them and that retention is where an operator finds them.
 */
export const WORKING_TOPIC_RETENTION = "604800s";
const DEAD_LETTER_RETENTION = "2678400s";

export function topicRetention(key: TopicKey): string {
  return isDeadLetter(key) ? DEAD_LETTER_RETENTION : WORKING_TOPIC_RETENTION;
}

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

/** The dead-letter topic of a topic a function subscribes to: its key with "DeadLetter" appended. */
export function deadLetterOf(key: TopicKey): TopicKey {
  const deadLetter = `${key}${DEAD_LETTER_SUFFIX}`;
  if (isDeadLetter(key) || !TOPIC_KEYS.includes(deadLetter as TopicKey)) {
    throw new TopicError(
      `topic ${TOPICS[key]} has no dead-letter topic: add ${deadLetter} to TOPICS (shared/ports/bus.ts)`,
    );
  }
  return deadLetter as TopicKey;
}
