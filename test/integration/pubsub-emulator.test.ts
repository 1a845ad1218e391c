import { PubSub } from "@google-cloud/pubsub";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPubSubBus } from "#adapters/pubsub/pubsub-bus.ts";
import { DEAD_LETTER_ATTRIBUTES } from "#ports/bus-error.ts";
import { silentLogger } from "#ports/logger.ts";
import { describeBusContract, uniqueName, waitFor } from "../contract/bus-contract.ts";
import {
  emulatorUnavailableReason,
  type PubSubEmulator,
  startPubSubEmulator,
} from "./start-pubsub-emulator.ts";

const unavailable = emulatorUnavailableReason();
if (unavailable !== undefined) console.warn(`Pub/Sub emulator tests skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)("Pub/Sub bus against the real emulator", () => {
  let emulator: PubSubEmulator | undefined;

  beforeAll(async () => {
    emulator = await startPubSubEmulator("finops-test");
  });

  afterAll(async () => {
    await emulator?.stop();
  });

  const client = (): PubSub => {
    if (emulator === undefined) throw new Error("the emulator did not start");
    // universeDomain spares google-auth a metadata-server probe (and its warning) per client.
    return new PubSub({
      projectId: emulator.projectId,
      apiEndpoint: emulator.host,
      emulatorMode: true,
      universeDomain: "googleapis.com",
    });
  };

  describeBusContract("pubsub (emulator)", async () => {
    const pubsub = client();
    const bus = createPubSubBus({
      client: pubsub,
      projectId: "finops-test",
      logger: silentLogger,
      batching: { maxMessages: 100, maxMilliseconds: 5 },
      createMissing: true,
    });
    return {
      bus,
      settle: () => new Promise((resolve) => setTimeout(resolve, 300)),
      cleanup: () => pubsub.close(),
    };
  });

  it("lets Pub/Sub count attempts and dead-letter when createMissing sets a dead-letter policy", async () => {
    const pubsub = client();
    const bus = createPubSubBus({
      client: pubsub,
      projectId: "finops-test",
      logger: silentLogger,
      batching: { maxMessages: 10, maxMilliseconds: 5 },
      createMissing: true,
      deadLetterTopic: (topic) => `${topic}-dead-letter`,
      maxDeliveryAttempts: 5,
    });
    try {
      const topic = uniqueName("emulator-dlq");
      const attempts: number[] = [];
      const dead: Array<Record<string, string>> = [];
      await bus.subscribe(`${topic}-dead-letter`, `${topic}-dead-letter-sub`, async (m) => {
        dead.push(m.attributes);
      });
      await bus.subscribe(topic, `${topic}-sub`, async (m) => {
        attempts.push(m.deliveryAttempt);
        throw new Error("always fails");
      });

      await bus.publish(topic, [{ data: Buffer.from("poison"), attributes: { k: "v" } }]);

      await waitFor("the dead-lettered message", () => dead.length >= 1, 20_000);
      expect(attempts).toEqual([1, 2, 3, 4, 5]);
      expect(dead[0]).toMatchObject({
        k: "v",
        [DEAD_LETTER_ATTRIBUTES.deliveryCount]: "5",
        [DEAD_LETTER_ATTRIBUTES.subscription]: `${topic}-sub`,
      });
    } finally {
      await bus.close();
      await pubsub.close();
    }
  });

  it("wraps a publish to a missing topic in an invalid BusError when createMissing is off", async () => {
    const pubsub = client();
    const bus = createPubSubBus({
      client: pubsub,
      projectId: "finops-test",
      logger: silentLogger,
      batching: { maxMessages: 10, maxMilliseconds: 5 },
    });
    try {
      const error = await bus
        .publish(uniqueName("emulator-missing"), [{ data: Buffer.from("x"), attributes: {} }])
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ name: "BusError", code: "invalid" });
      const subscribing = await bus
        .subscribe(uniqueName("emulator-missing"), uniqueName("emulator-missing-sub"), async () => {})
        .catch((caught: unknown) => caught);
      expect(subscribing).toMatchObject({ name: "BusError", code: "invalid" });
    } finally {
      await bus.close();
      await pubsub.close();
    }
  });
});
