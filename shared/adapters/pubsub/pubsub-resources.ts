import type { CreateSubscriptionOptions } from "@google-cloud/pubsub";
import { BusError } from "#ports/bus-error.ts";
import type { Logger } from "#ports/logger.ts";
import { GRPC_STATUS, grpcCode, toBusError } from "./pubsub-errors.ts";

/** A subscription a process pulls from, and where its undeliverable messages go. */
export interface SubscriptionSpec {
  name: string;
  topic: string;
  /** The dead-letter topic of its dead-letter policy, when it has one. */
  deadLetterTopic?: string;
}

/** What a process needs to exist on Pub/Sub before it starts. */
export interface PubSubResources {
  topics: readonly string[];
  subscriptions: readonly SubscriptionSpec[];
}

/** The delivery policy of the subscriptions created here. */
export interface SubscriptionPolicy {
  /** Delivery attempts before Pub/Sub dead-letters (5 to 100). */
  maxDeliveryAttempts: number;
  /** Redelivery backoff; without it Pub/Sub redelivers at once. */
  retryBackoff?: { minimumMs: number; maximumMs: number };
}

/** The part of the Pub/Sub client used here (so a test can stand in for it). */
export interface PubSubAdmin {
  createTopic(name: string): Promise<unknown>;
  topic(name: string): {
    getMetadata(): Promise<unknown>;
    createSubscription(name: string, options?: CreateSubscriptionOptions): Promise<unknown>;
  };
  subscription(name: string): { getMetadata(): Promise<[{ topic?: string | null }, ...unknown[]]> };
}

const { NOT_FOUND, ALREADY_EXISTS } = GRPC_STATUS;

export function topicPath(projectId: string, topic: string): string {
  return `projects/${projectId}/topics/${topic}`;
}

function duration(ms: number): { seconds: number; nanos: number } {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

/** Every topic the resources name, the subscriptions' topics and dead-letter topics included, once each. */
function allTopics(resources: PubSubResources): string[] {
  const topics = new Set(resources.topics);
  for (const s of resources.subscriptions) {
    topics.add(s.topic);
    if (s.deadLetterTopic !== undefined) topics.add(s.deadLetterTopic);
  }
  return [...topics];
}

/** Creates `topic` unless it exists. */
export async function createTopicIfMissing(admin: PubSubAdmin, topic: string, logger: Logger): Promise<void> {
  try {
    await admin.createTopic(topic);
    logger.info("pubsub topic created", { topic });
  } catch (error) {
    if (grpcCode(error) !== ALREADY_EXISTS) throw toBusError(`creating topic ${topic} failed`, error);
  }
}

/** Creates the subscription (its topic and dead-letter topic must exist) unless it exists. */
export async function createSubscriptionIfMissing(
  admin: PubSubAdmin,
  projectId: string,
  spec: SubscriptionSpec,
  policy: SubscriptionPolicy,
  logger: Logger,
): Promise<void> {
  const settings: CreateSubscriptionOptions = {};
  if (spec.deadLetterTopic !== undefined) {
    settings.deadLetterPolicy = {
      deadLetterTopic: topicPath(projectId, spec.deadLetterTopic),
      maxDeliveryAttempts: policy.maxDeliveryAttempts,
    };
  }
  if (policy.retryBackoff !== undefined) {
    settings.retryPolicy = {
      minimumBackoff: duration(policy.retryBackoff.minimumMs),
      maximumBackoff: duration(policy.retryBackoff.maximumMs),
    };
  }
  try {
    await admin.topic(spec.topic).createSubscription(spec.name, settings);
    logger.info("pubsub subscription created", {
      topic: spec.topic,
      subscription: spec.name,
      deadLetterTopic: spec.deadLetterTopic,
    });
  } catch (error) {
    if (grpcCode(error) !== ALREADY_EXISTS) {
      throw toBusError(`creating subscription ${spec.name} failed`, error);
    }
  }
}

/**
 * Creates whatever of `resources` does not exist yet: the topics (dead-letter topics included),
 * then the subscriptions with their dead-letter and retry policies. For an emulator, whose state
 * is gone at each restart; in the cloud they come from infra/.
 */
export async function createPubSubResources(
  admin: PubSubAdmin,
  projectId: string,
  resources: PubSubResources,
  policy: SubscriptionPolicy,
  logger: Logger,
): Promise<void> {
  await Promise.all(allTopics(resources).map((topic) => createTopicIfMissing(admin, topic, logger)));
  await Promise.all(
    resources.subscriptions.map((spec) =>
      createSubscriptionIfMissing(admin, projectId, spec, policy, logger),
    ),
  );
}

/** What of `resources` is missing, or attached to another topic, each said in a few words; [] when all is there. */
export async function missingPubSubResources(
  admin: PubSubAdmin,
  projectId: string,
  resources: PubSubResources,
): Promise<string[]> {
  const absent = async (what: string, read: () => Promise<unknown>): Promise<boolean> => {
    try {
      await read();
      return false;
    } catch (error) {
      if (grpcCode(error) === NOT_FOUND) return true;
      throw toBusError(`cannot check Pub/Sub ${what}`, error);
    }
  };
  const topics = allTopics(resources);
  const missingTopics = (
    await Promise.all(
      topics.map(async (topic) =>
        (await absent(`topic ${topic}`, () => admin.topic(topic).getMetadata())) ? topic : undefined,
      ),
    )
  ).filter((topic) => topic !== undefined);
  const subscriptionProblems = (
    await Promise.all(
      resources.subscriptions.map(async (spec) => {
        let attachedTo: string | null | undefined;
        const missing = await absent(`subscription ${spec.name}`, async () => {
          [{ topic: attachedTo }] = await admin.subscription(spec.name).getMetadata();
        });
        if (missing) return `subscription ${spec.name} (to topic ${spec.topic})`;
        if (attachedTo !== topicPath(projectId, spec.topic)) {
          return `subscription ${spec.name} to topic ${spec.topic} (it exists, attached to ${attachedTo ?? "no topic"})`;
        }
        return undefined;
      }),
    )
  ).filter((problem) => problem !== undefined);
  return [...missingTopics.map((topic) => `topic ${topic}`), ...subscriptionProblems];
}

/**
 * Checks that every topic and subscription of `resources` exists on real Pub/Sub, creating
 * nothing; throws one `invalid` BusError whose one-line message names everything missing.
 */
export async function checkPubSubResources(
  admin: PubSubAdmin,
  projectId: string,
  resources: PubSubResources,
): Promise<void> {
  const missing = await missingPubSubResources(admin, projectId, resources);
  if (missing.length === 0) return;
  throw new BusError(
    "invalid",
    `Pub/Sub project ${projectId} lacks ${missing.join(", ")}; nothing is created on real Pub/Sub: ` +
      "create them (infra/, or gcloud pubsub topics|subscriptions create) or set PUBSUB_EMULATOR_HOST " +
      "to use the emulator, where they are created at start",
  );
}
