import {
  type Message,
  PubSub,
  type Subscription as PubSubSubscription,
  type Topic,
} from "@google-cloud/pubsub";
import type { Bus, DeliveredMessage, MessageHandler, Subscription } from "#ports/bus.ts";
import { assertBusName, assertPublishable, BusError } from "#ports/bus-error.ts";
import type { Logger } from "#ports/logger.ts";
import { GRPC_STATUS, grpcCode, toBusError } from "./pubsub-errors.ts";
import {
  createSubscriptionIfMissing,
  createTopicIfMissing,
  topicPath as pathOf,
} from "./pubsub-resources.ts";

export interface PubSubBusOptions {
  projectId: string;
  logger: Logger;
  /** An injected client stays the caller's: close() leaves it open. */
  client?: PubSub;
  /**
   * Host and port of a Pub/Sub emulator (e.g. "127.0.0.1:8085"), used only when no client is given.
   * Without it the client library falls back to PUBSUB_EMULATOR_HOST, then the real service.
   */
  apiEndpoint?: string;
  /** Settings of each topic's batching publisher. */
  batching: { maxMessages: number; maxMilliseconds: number };
  /**
   * Create a topic or subscription that does not exist yet (emulator and local use). In the cloud
   * they come from infra/, with their dead-letter and retry policies, and this stays off.
   */
  createMissing?: boolean;
  /** Messages leased at once per `subscribe` call (flow control). Default 4. */
  maxConcurrency?: number;
  /** Dead-letter topic given to subscriptions that createMissing creates. */
  deadLetterTopic?: (topic: string) => string | undefined;
  /** Delivery attempts before Pub/Sub dead-letters (5 to 100), for subscriptions created here. Default 5. */
  maxDeliveryAttempts?: number;
  /** Redelivery backoff for subscriptions created here; without it Pub/Sub redelivers at once. */
  retryBackoff?: { minimumMs: number; maximumMs: number };
}

const { NOT_FOUND } = GRPC_STATUS;
const MAX_LOCAL_ATTEMPT_ENTRIES = 10_000;

/**
 * The Bus on Google Cloud Pub/Sub (or its emulator). Publishing goes through one batching
 * publisher per topic; subscribing opens a streaming pull on a named subscription, acks when the
 * handler returns and nacks when it throws, so Pub/Sub redelivers.
 *
 * `deliveryAttempt` is Pub/Sub's own count when the subscription has a dead-letter policy (the
 * service only counts then); otherwise this subscriber counts the deliveries it saw of each
 * message, which is exact as long as one process consumes the subscription.
 */
export function createPubSubBus(options: PubSubBusOptions): Bus {
  const logger = options.logger;
  const ownsClient = options.client === undefined;
  const client =
    options.client ??
    new PubSub({
      projectId: options.projectId,
      ...(options.apiEndpoint === undefined ? {} : { apiEndpoint: options.apiEndpoint }),
    });
  const maxConcurrency = options.maxConcurrency ?? 4;
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) {
    throw new BusError("invalid", `maxConcurrency must be a positive integer, got ${maxConcurrency}`);
  }
  const maxDeliveryAttempts = options.maxDeliveryAttempts ?? 5;
  if (!Number.isInteger(maxDeliveryAttempts) || maxDeliveryAttempts < 5 || maxDeliveryAttempts > 100) {
    throw new BusError(
      "invalid",
      `maxDeliveryAttempts must be an integer from 5 to 100, got ${maxDeliveryAttempts}`,
    );
  }
  const publishers = new Map<string, Topic>();
  const ensuredTopics = new Map<string, Promise<void>>();
  const open = new Set<Subscription>();
  let closed = false;

  const topicPath = (topic: string): string => pathOf(options.projectId, topic);

  function assertOpen(): void {
    if (closed) throw new BusError("invalid", "the bus is closed");
  }

  function publisher(topic: string): Topic {
    let existing = publishers.get(topic);
    if (existing === undefined) {
      existing = client.topic(topic, {
        batching: {
          maxMessages: options.batching.maxMessages,
          maxMilliseconds: options.batching.maxMilliseconds,
        },
      });
      publishers.set(topic, existing);
    }
    return existing;
  }

  function ensureTopic(topic: string): Promise<void> {
    let ensured = ensuredTopics.get(topic);
    if (ensured === undefined) {
      ensured = createTopicIfMissing(client, topic, logger).catch((error: unknown) => {
        ensuredTopics.delete(topic);
        throw error;
      });
      ensuredTopics.set(topic, ensured);
    }
    return ensured;
  }

  async function createSubscription(topic: string, subscription: string): Promise<void> {
    await ensureTopic(topic);
    const deadLetter = options.deadLetterTopic?.(topic);
    if (deadLetter !== undefined) {
      assertBusName("topic", deadLetter);
      await ensureTopic(deadLetter);
    }
    await createSubscriptionIfMissing(
      client,
      options.projectId,
      { name: subscription, topic, ...(deadLetter === undefined ? {} : { deadLetterTopic: deadLetter }) },
      {
        maxDeliveryAttempts,
        ...(options.retryBackoff === undefined ? {} : { retryBackoff: options.retryBackoff }),
      },
      logger,
    );
  }

  async function attach(topic: string, name: string): Promise<PubSubSubscription> {
    const subscription = client.subscription(name, {
      flowControl: { maxMessages: maxConcurrency, allowExcessMessages: false },
    });
    let metadataTopic: string | null | undefined;
    try {
      [{ topic: metadataTopic }] = await subscription.getMetadata();
    } catch (error) {
      if (!(options.createMissing === true && grpcCode(error) === NOT_FOUND)) {
        throw toBusError(`subscription ${name} is not available`, error);
      }
      await createSubscription(topic, name);
      try {
        [{ topic: metadataTopic }] = await subscription.getMetadata();
      } catch (again) {
        throw toBusError(`subscription ${name} is not available`, again);
      }
    }
    if (metadataTopic !== topicPath(topic)) {
      throw new BusError(
        "invalid",
        `subscription ${name} belongs to ${metadataTopic ?? "no topic"}, not ${topic}`,
      );
    }
    return subscription;
  }

  return {
    async publish(topic, messages) {
      assertOpen();
      assertBusName("topic", topic);
      assertPublishable(messages);
      if (messages.length === 0) return [];
      if (options.createMissing === true) await ensureTopic(topic);
      const target = publisher(topic);
      try {
        return await Promise.all(
          messages.map((message) =>
            target.publishMessage({ data: message.data, attributes: { ...message.attributes } }),
          ),
        );
      } catch (error) {
        throw toBusError(`publishing to ${topic} failed`, error);
      }
    },

    async subscribe(topic, name, handler: MessageHandler): Promise<Subscription> {
      assertOpen();
      assertBusName("topic", topic);
      assertBusName("subscription", name);
      const subscription = await attach(topic, name);
      const inFlight = new Set<Promise<void>>();
      const seen = new Map<string, number>();
      let closing = false;

      const attemptOf = (message: Message): number => {
        if (message.deliveryAttempt > 0) return message.deliveryAttempt;
        const attempt = (seen.get(message.id) ?? 0) + 1;
        seen.delete(message.id);
        seen.set(message.id, attempt);
        if (seen.size > MAX_LOCAL_ATTEMPT_ENTRIES) {
          const oldest = seen.keys().next();
          if (oldest.done !== true) seen.delete(oldest.value);
        }
        return attempt;
      };

      const onMessage = (message: Message): void => {
        if (closing) {
          message.nack();
          return;
        }
        const delivered: DeliveredMessage = {
          id: message.id,
          data: message.data,
          attributes: { ...message.attributes },
          publishTime: new Date(message.publishTime.getTime()),
          deliveryAttempt: attemptOf(message),
        };
        const task = (async () => {
          try {
            await handler(delivered);
            seen.delete(message.id);
            message.ack();
          } catch (error) {
            logger.warn("bus handler failed; message nacked for redelivery", {
              topic,
              subscription: name,
              messageId: message.id,
              deliveryAttempt: delivered.deliveryAttempt,
              error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
            });
            message.nack();
          }
        })();
        inFlight.add(task);
        void task.then(() => inFlight.delete(task));
      };
      const onError = (error: unknown): void => {
        logger.error("pubsub subscription stream failed", {
          topic,
          subscription: name,
          error: error instanceof Error ? error.message : String(error),
          code: grpcCode(error),
        });
      };
      subscription.on("message", onMessage);
      subscription.on("error", onError);

      const handle: Subscription = {
        async close() {
          if (closing) return;
          closing = true;
          open.delete(handle);
          await Promise.all(inFlight);
          try {
            await subscription.close();
          } catch (error) {
            throw toBusError(`closing subscription ${name} failed`, error);
          } finally {
            subscription.removeListener("message", onMessage);
            subscription.removeListener("error", onError);
          }
        },
      };
      open.add(handle);
      return handle;
    },

    async close() {
      if (closed) return;
      closed = true;
      const results = await Promise.allSettled([
        ...[...open].map((handle) => handle.close()),
        ...[...publishers.values()].map((topic) => topic.flush()),
      ]);
      if (ownsClient) results.push(...(await Promise.allSettled([client.close()])));
      const failure = results.find((result) => result.status === "rejected");
      if (failure !== undefined) throw toBusError("closing the bus failed", failure.reason);
    },
  };
}
