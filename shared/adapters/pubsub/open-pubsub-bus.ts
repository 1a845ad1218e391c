import { PubSub } from "@google-cloud/pubsub";
import type { Bus } from "#ports/bus.ts";
import { BusError } from "#ports/bus-error.ts";
import type { Logger } from "#ports/logger.ts";
import { createPubSubBus } from "./pubsub-bus.ts";
import {
  checkPubSubResources,
  createPubSubResources,
  type PubSubResources,
  type SubscriptionPolicy,
} from "./pubsub-resources.ts";

export interface OpenPubSubBusOptions {
  projectId: string;
  logger: Logger;
  /**
   * host:port of a Pub/Sub emulator (PUBSUB_EMULATOR_HOST). With it, every topic and subscription
   * below is created at start (and any other topic on its first publish); without it, the real
   * service, where nothing is created.
   */
  emulatorHost?: string;
  /** The topics the process publishes to (created on the emulator; on real Pub/Sub, checked with the subscriptions). */
  topics: readonly string[];
  /**
   * The subscriptions the process pulls from. On the emulator they are created with a dead-letter
   * policy to `deadLetterTopic(topic)`; on real Pub/Sub, when there are any, they and the topics are
   * checked and the start fails naming whatever is missing.
   */
  subscriptions: readonly { topic: string; name: string }[];
  deadLetterTopic: (topic: string) => string | undefined;
  batching: { maxMessages: number; maxMilliseconds: number };
}

/** The delivery policy of what is created on the emulator: as the memory bus, 5 attempts, then the dead-letter topic. */
export const EMULATOR_SUBSCRIPTION_POLICY: SubscriptionPolicy = {
  maxDeliveryAttempts: 5,
  retryBackoff: { minimumMs: 1_000, maximumMs: 10_000 },
};

/** How long the emulator may take to answer before the start fails. */
const EMULATOR_PROBE_MS = 5_000;

/**
 * Fails fast, in one line, when nothing answers at the emulator's address: the client would
 * otherwise retry for a minute and end with a page of identical errors.
 */
async function assertEmulatorAnswers(host: string): Promise<void> {
  const url = `http://${host.replace(/^https?:\/\//, "")}/`;
  try {
    await fetch(url, { signal: AbortSignal.timeout(EMULATOR_PROBE_MS) }).then((response) =>
      response.body?.cancel(),
    );
  } catch (error) {
    const reason =
      error instanceof Error
        ? error.cause instanceof Error
          ? error.cause.message
          : error.message
        : String(error);
    throw new BusError(
      "unavailable",
      `no Pub/Sub emulator answers at PUBSUB_EMULATOR_HOST=${host} (${reason}); start one with ` +
        `gcloud beta emulators pubsub start --host-port=${host.replace(/^https?:\/\//, "")}`,
      { cause: error },
    );
  }
}

/**
 * Fails in one line when there are no Google credentials. Asked first because the client, left to
 * find out on its first call, also leaves a rejection nobody handles, which ends the process.
 */
async function assertCredentials(client: PubSub, projectId: string): Promise<void> {
  try {
    await client.auth.getClient();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BusError(
      "invalid",
      `no Google credentials for Pub/Sub project ${projectId} (${reason}); run ` +
        "gcloud auth application-default login, or set PUBSUB_EMULATOR_HOST to use the emulator",
      { cause: error },
    );
  }
}

/**
 * The Pub/Sub bus a process starts with: on an emulator, after creating the topics, dead-letter
 * topics and subscriptions it needs (an emulator forgets them at each restart); on real Pub/Sub,
 * after checking that the topics and subscriptions it pulls from exist (a BusError `invalid` whose
 * one-line message names what is missing otherwise). Closing the bus closes its client.
 */
export async function openPubSubBus(options: OpenPubSubBusOptions): Promise<Bus> {
  const { projectId, logger, emulatorHost } = options;
  if (emulatorHost !== undefined) await assertEmulatorAnswers(emulatorHost);
  const client = new PubSub({
    projectId,
    // universeDomain spares google-auth a metadata-server probe that an emulator does not need.
    ...(emulatorHost === undefined
      ? {}
      : { apiEndpoint: emulatorHost, emulatorMode: true, universeDomain: "googleapis.com" }),
  });
  const resources: PubSubResources = {
    topics: options.topics,
    subscriptions: options.subscriptions.map(({ topic, name }) => {
      const deadLetterTopic = options.deadLetterTopic(topic);
      return { name, topic, ...(deadLetterTopic === undefined ? {} : { deadLetterTopic }) };
    }),
  };
  try {
    if (emulatorHost !== undefined) {
      await createPubSubResources(client, projectId, resources, EMULATOR_SUBSCRIPTION_POLICY, logger);
    } else if (resources.subscriptions.length > 0) {
      await assertCredentials(client, projectId);
      await checkPubSubResources(client, projectId, resources);
    }
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  const bus = createPubSubBus({
    client,
    projectId,
    logger,
    batching: options.batching,
    ...(emulatorHost === undefined
      ? {}
      : {
          createMissing: true,
          deadLetterTopic: options.deadLetterTopic,
          maxDeliveryAttempts: EMULATOR_SUBSCRIPTION_POLICY.maxDeliveryAttempts,
          ...(EMULATOR_SUBSCRIPTION_POLICY.retryBackoff === undefined
            ? {}
            : { retryBackoff: EMULATOR_SUBSCRIPTION_POLICY.retryBackoff }),
        }),
  });
  return {
    publish: (topic, messages) => bus.publish(topic, messages),
    subscribe: (topic, subscription, handler) => bus.subscribe(topic, subscription, handler),
    async close() {
      try {
        await bus.close();
      } finally {
        await client.close();
      }
    },
  };
}
