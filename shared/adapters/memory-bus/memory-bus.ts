import type { Bus, BusMessage, DeliveredMessage, MessageHandler, Subscription } from "#ports/bus.ts";
import {
  assertBusName,
  assertPublishable,
  BUS_LIMITS,
  BusError,
  DEAD_LETTER_ATTRIBUTES,
  truncateUtf8,
} from "#ports/bus-error.ts";
import { type Clock, systemClock } from "#ports/clock.ts";
import type { Logger } from "#ports/logger.ts";

export interface MemoryBusOptions {
  logger: Logger;
  /** Deliveries per message and subscription before it is dead-lettered or dropped. Default 5. */
  maxDeliveryAttempts?: number;
  /**
   * Wait before redelivering after a handler failure: a fixed number of milliseconds, or a function
   * of the attempt that failed (1, 2, ...). Default: 100 ms doubling per attempt, at most 10 s.
   */
  retryDelayMs?: number | ((failedAttempt: number) => number);
  /** Names the dead-letter topic of a topic; `undefined` (or no function) drops after logging. */
  deadLetterTopic?: (topic: string) => string | undefined;
  /** Handlers running at once per `subscribe` call. Default 4. */
  maxConcurrency?: number;
  clock?: Clock;
}

export interface MemoryBus extends Bus {
  /**
   * Resolves once nothing is left to do for attached handlers: no queued message, no handler
   * running, no redelivery waiting for its backoff. Work that handlers publish while draining is
   * waited for too.
   */
  drain(): Promise<void>;
}

interface Pending {
  id: string;
  data: Buffer;
  attributes: Record<string, string>;
  publishTime: Date;
  deliveryAttempt: number;
}

interface Consumer {
  handler: MessageHandler;
  inFlight: number;
  tasks: Set<Promise<void>>;
}

interface SubscriptionState {
  name: string;
  topic: string;
  queue: Pending[];
  consumers: Consumer[];
  nextConsumer: number;
  pumpScheduled: boolean;
}

const defaultRetryDelay = (failedAttempt: number): number => Math.min(100 * 2 ** (failedAttempt - 1), 10_000);

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new BusError("invalid", `${name} must be a positive integer, got ${value}`);
  }
  return value;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * An in-process Bus with Pub/Sub's semantics: every named subscription of a topic gets every
 * message published after it was created, at least once and asynchronously; a handler that throws
 * gets the message again after a backoff with `deliveryAttempt` one higher, and after
 * `maxDeliveryAttempts` the message goes to the topic's dead-letter topic or is logged and dropped.
 * Several `subscribe` calls with one subscription name share its messages. A subscription keeps
 * its messages while no handler is attached (until the bus closes), as Pub/Sub does.
 */
export function createMemoryBus(options: MemoryBusOptions): MemoryBus {
  const logger = options.logger;
  const clock = options.clock ?? systemClock;
  const maxDeliveryAttempts = positiveInteger("maxDeliveryAttempts", options.maxDeliveryAttempts ?? 5);
  const maxConcurrency = positiveInteger("maxConcurrency", options.maxConcurrency ?? 4);
  const retryOption = options.retryDelayMs ?? defaultRetryDelay;
  const retryDelay = typeof retryOption === "number" ? () => retryOption : retryOption;

  const subscriptions = new Map<string, SubscriptionState>();
  const byTopic = new Map<string, Set<SubscriptionState>>();
  const timers = new Set<NodeJS.Timeout>();
  let waiters: Array<() => void> = [];
  let inFlight = 0;
  let sequence = 0;
  let closed = false;

  function notify(): void {
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  }

  function idle(): boolean {
    if (inFlight > 0 || timers.size > 0) return false;
    for (const state of subscriptions.values()) {
      if (state.consumers.length > 0 && state.queue.length > 0) return false;
    }
    return true;
  }

  function schedulePump(state: SubscriptionState): void {
    if (state.pumpScheduled || closed) return;
    state.pumpScheduled = true;
    setImmediate(() => {
      state.pumpScheduled = false;
      pump(state);
    });
  }

  function pickConsumer(state: SubscriptionState): Consumer | undefined {
    const count = state.consumers.length;
    for (let step = 0; step < count; step++) {
      const index = (state.nextConsumer + step) % count;
      const consumer = state.consumers[index];
      if (consumer !== undefined && consumer.inFlight < maxConcurrency) {
        state.nextConsumer = (index + 1) % count;
        return consumer;
      }
    }
    return undefined;
  }

  function pump(state: SubscriptionState): void {
    while (!closed && state.queue.length > 0) {
      const consumer = pickConsumer(state);
      if (consumer === undefined) return;
      const pending = state.queue.shift() as Pending;
      deliver(state, consumer, pending);
    }
  }

  function deliver(state: SubscriptionState, consumer: Consumer, pending: Pending): void {
    consumer.inFlight++;
    inFlight++;
    const message: DeliveredMessage = {
      id: pending.id,
      data: Buffer.from(pending.data),
      attributes: { ...pending.attributes },
      publishTime: new Date(pending.publishTime),
      deliveryAttempt: pending.deliveryAttempt,
    };
    const run = async (): Promise<void> => {
      try {
        await consumer.handler(message);
      } catch (error) {
        failed(state, pending, error);
      }
    };
    // Started from a resolved promise so that `task` exists before any of the handler runs.
    const task: Promise<void> = Promise.resolve()
      .then(run)
      .catch((error: unknown) => {
        logger.error("bus could not redeliver or dead-letter a failed message; message dropped", {
          topic: state.topic,
          subscription: state.name,
          messageId: pending.id,
          error: errorText(error),
        });
      })
      .finally(() => {
        consumer.inFlight--;
        inFlight--;
        consumer.tasks.delete(task);
        schedulePump(state);
        notify();
      });
    consumer.tasks.add(task);
  }

  function failed(state: SubscriptionState, pending: Pending, error: unknown): void {
    const fields = {
      topic: state.topic,
      subscription: state.name,
      messageId: pending.id,
      deliveryAttempt: pending.deliveryAttempt,
      error: errorText(error),
    };
    if (closed) {
      logger.warn("bus handler failed while the bus was closing; message not redelivered", fields);
      return;
    }
    if (pending.deliveryAttempt < maxDeliveryAttempts) {
      const delay = Math.max(0, retryDelay(pending.deliveryAttempt));
      logger.warn("bus handler failed; message will be redelivered", { ...fields, retryInMs: delay });
      const timer = setTimeout(() => {
        timers.delete(timer);
        state.queue.push({ ...pending, deliveryAttempt: pending.deliveryAttempt + 1 });
        schedulePump(state);
        notify();
      }, delay);
      timers.add(timer);
      return;
    }
    const deadLetter = options.deadLetterTopic?.(state.topic);
    if (deadLetter === undefined || deadLetter === state.topic) {
      logger.error("bus message dropped after its last delivery attempt", {
        ...fields,
        reason: deadLetter === undefined ? "no dead-letter topic" : "dead-letter topic is the topic itself",
      });
      return;
    }
    logger.warn("bus message sent to its dead-letter topic", { ...fields, deadLetterTopic: deadLetter });
    enqueue(deadLetter, {
      data: pending.data,
      attributes: {
        ...pending.attributes,
        [DEAD_LETTER_ATTRIBUTES.deliveryCount]: String(pending.deliveryAttempt),
        [DEAD_LETTER_ATTRIBUTES.subscription]: state.name,
        [DEAD_LETTER_ATTRIBUTES.sourceTopic]: state.topic,
        [DEAD_LETTER_ATTRIBUTES.error]: truncateUtf8(errorText(error), BUS_LIMITS.maxAttributeValueBytes),
      },
    });
  }

  function enqueue(topic: string, message: BusMessage): string {
    sequence++;
    const id = String(sequence);
    const publishTime = clock.now();
    for (const state of byTopic.get(topic) ?? []) {
      state.queue.push({
        id,
        data: Buffer.from(message.data),
        attributes: { ...message.attributes },
        publishTime,
        deliveryAttempt: 1,
      });
      schedulePump(state);
    }
    return id;
  }

  function assertOpen(): void {
    if (closed) throw new BusError("invalid", "the bus is closed");
  }

  return {
    async publish(topic, messages) {
      assertOpen();
      assertBusName("topic", topic);
      assertPublishable(messages);
      return messages.map((message) => enqueue(topic, message));
    },

    async subscribe(topic, subscription, handler): Promise<Subscription> {
      assertOpen();
      assertBusName("topic", topic);
      assertBusName("subscription", subscription);
      let state = subscriptions.get(subscription);
      if (state === undefined) {
        state = {
          name: subscription,
          topic,
          queue: [],
          consumers: [],
          nextConsumer: 0,
          pumpScheduled: false,
        };
        subscriptions.set(subscription, state);
        const states = byTopic.get(topic) ?? new Set<SubscriptionState>();
        states.add(state);
        byTopic.set(topic, states);
      } else if (state.topic !== topic) {
        throw new BusError(
          "invalid",
          `subscription ${subscription} belongs to topic ${state.topic}, not ${topic}`,
        );
      }
      const consumer: Consumer = { handler, inFlight: 0, tasks: new Set() };
      state.consumers.push(consumer);
      schedulePump(state);
      const attached = state;
      return {
        async close() {
          const index = attached.consumers.indexOf(consumer);
          if (index >= 0) attached.consumers.splice(index, 1);
          await Promise.all(consumer.tasks);
          notify();
        },
      };
    },

    async drain() {
      while (!idle()) {
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },

    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const tasks: Promise<void>[] = [];
      for (const state of subscriptions.values()) {
        for (const consumer of state.consumers) tasks.push(...consumer.tasks);
        state.consumers = [];
        state.queue = [];
      }
      await Promise.all(tasks);
      notify();
    },
  };
}
