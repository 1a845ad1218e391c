import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Bus, DeliveredMessage } from "#ports/bus.ts";
import { BusError } from "#ports/bus-error.ts";

export interface BusUnderTest {
  bus: Bus;
  /** Waits long enough that anything still to be delivered would have been (drain, or a pause). */
  settle(): Promise<void>;
  /** Releases what the factory made besides the bus (a client, a process). */
  cleanup?(): Promise<void>;
}

export type BusFactory = () => Promise<BusUnderTest>;

const WAIT_MS = 15_000;

/** Names valid on every adapter and unique across runs (an emulator keeps its topics). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
}

export async function waitFor(what: string, condition: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function recorder(): { received: DeliveredMessage[]; handler: (message: DeliveredMessage) => Promise<void> } {
  const received: DeliveredMessage[] = [];
  return {
    received,
    handler: async (message) => {
      received.push(message);
    },
  };
}

async function expectBusError(promise: Promise<unknown>, code: BusError["code"]): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(BusError);
  expect((error as BusError).code).toBe(code);
}

/** The behaviour every Bus adapter owes its callers; run it against each adapter. */
export function describeBusContract(name: string, factory: BusFactory): void {
  describe(`Bus contract: ${name}`, () => {
    let subject: BusUnderTest;

    beforeEach(async () => {
      subject = await factory();
    });

    afterEach(async () => {
      await subject.bus.close();
      await subject.cleanup?.();
    });

    it("returns one distinct id per published message, and none for an empty publish", async () => {
      const topic = uniqueName("contract-ids");
      await subject.bus.subscribe(topic, uniqueName("contract-ids-sub"), async () => {});

      const ids = await subject.bus.publish(topic, [
        { data: Buffer.from("a"), attributes: {} },
        { data: Buffer.from("b"), attributes: {} },
        { data: Buffer.from("c"), attributes: {} },
      ]);

      expect(ids).toHaveLength(3);
      for (const id of ids) expect(id).toMatch(/\S/);
      expect(new Set(ids).size).toBe(3);
      expect(await subject.bus.publish(topic, [])).toEqual([]);
    });

    it("delivers bytes and attributes intact, with the id publish returned", async () => {
      const topic = uniqueName("contract-roundtrip");
      const { received, handler } = recorder();
      await subject.bus.subscribe(topic, uniqueName("contract-roundtrip-sub"), handler);
      const data = Buffer.from([0x00, 0xff, 0x7f, 0x80, 0x0a, 0xe2, 0x82, 0xac]);
      const attributes = { "ce-type": "ai.cost.inference.v1", empty: "", unicode: "€ – ✓" };
      const before = Date.now();

      const [id] = await subject.bus.publish(topic, [{ data, attributes }]);

      await waitFor("the message", () => received.length >= 1);
      const [message] = received;
      expect(message?.id).toBe(id);
      expect(message?.data.equals(data)).toBe(true);
      expect(message?.attributes).toEqual(attributes);
      expect(message?.deliveryAttempt).toBe(1);
      expect(message?.publishTime).toBeInstanceOf(Date);
      expect(Math.abs((message?.publishTime.getTime() ?? 0) - before)).toBeLessThan(60_000);
    });

    it("gives every subscription of a topic every message", async () => {
      const topic = uniqueName("contract-fanout");
      const first = recorder();
      const second = recorder();
      await subject.bus.subscribe(topic, uniqueName("contract-fanout-a"), first.handler);
      await subject.bus.subscribe(topic, uniqueName("contract-fanout-b"), second.handler);

      const ids = await subject.bus.publish(
        topic,
        ["1", "2", "3"].map((n) => ({ data: Buffer.from(n), attributes: { n } })),
      );

      await waitFor("both subscriptions", () => first.received.length >= 3 && second.received.length >= 3);
      await subject.settle();
      const idsOf = (messages: DeliveredMessage[]) => [...new Set(messages.map((m) => m.id))].sort();
      expect(idsOf(first.received)).toEqual([...ids].sort());
      expect(idsOf(second.received)).toEqual([...ids].sort());
    });

    it("redelivers a message whose handler threw, with a higher deliveryAttempt", async () => {
      const topic = uniqueName("contract-retry");
      const attempts: DeliveredMessage[] = [];
      let done = false;
      await subject.bus.subscribe(topic, uniqueName("contract-retry-sub"), async (message) => {
        attempts.push(message);
        if (attempts.length === 1) throw new Error("transient failure");
        done = true;
      });

      const [id] = await subject.bus.publish(topic, [
        { data: Buffer.from("retry me"), attributes: { k: "v" } },
      ]);

      await waitFor("the redelivery", () => done);
      const [first, second] = attempts;
      expect(first?.id).toBe(id);
      expect(first?.deliveryAttempt).toBe(1);
      expect(second?.id).toBe(id);
      expect(second?.deliveryAttempt).toBeGreaterThan(1);
      expect(second?.data.toString()).toBe("retry me");
      expect(second?.attributes).toEqual({ k: "v" });
    });

    it("stops delivering to a closed subscription and keeps its messages for the next handler", async () => {
      const topic = uniqueName("contract-close");
      const closedName = uniqueName("contract-close-closed");
      const closing = recorder();
      const witness = recorder();
      const subscription = await subject.bus.subscribe(topic, closedName, closing.handler);
      await subject.bus.subscribe(topic, uniqueName("contract-close-witness"), witness.handler);
      await subscription.close();

      const [id] = await subject.bus.publish(topic, [{ data: Buffer.from("after close"), attributes: {} }]);

      await waitFor("the witness subscription", () => witness.received.length >= 1);
      await subject.settle();
      expect(closing.received).toHaveLength(0);

      const resumed = recorder();
      await subject.bus.subscribe(topic, closedName, resumed.handler);
      await waitFor("the kept message", () => resumed.received.length >= 1);
      expect(resumed.received[0]?.id).toBe(id);
    });

    it("refuses publish and subscribe once closed, and closes more than once", async () => {
      const topic = uniqueName("contract-closed");
      await subject.bus.close();

      await expectBusError(
        subject.bus.publish(topic, [{ data: Buffer.from("x"), attributes: {} }]),
        "invalid",
      );
      await expectBusError(
        subject.bus.subscribe(topic, uniqueName("contract-closed-sub"), async () => {}),
        "invalid",
      );
      await subject.bus.close();
    });

    it("rejects bad names and messages with an invalid BusError, publishing none of the batch", async () => {
      const topic = uniqueName("contract-invalid");
      const { received, handler } = recorder();
      await subject.bus.subscribe(topic, uniqueName("contract-invalid-sub"), handler);

      await expectBusError(
        subject.bus.publish("no spaces allowed", [{ data: Buffer.from("x"), attributes: {} }]),
        "invalid",
      );
      await expectBusError(
        subject.bus.publish("goog-reserved", [{ data: Buffer.from("x"), attributes: {} }]),
        "invalid",
      );
      await expectBusError(subject.bus.subscribe(topic, "x", handler), "invalid");
      await expectBusError(
        subject.bus.publish(topic, [
          { data: Buffer.from("fine"), attributes: {} },
          { data: Buffer.alloc(0), attributes: {} },
        ]),
        "invalid",
      );
      await expectBusError(
        subject.bus.publish(topic, [{ data: Buffer.from("x"), attributes: { k: "v".repeat(1025) } }]),
        "invalid",
      );

      const [id] = await subject.bus.publish(topic, [
        { data: Buffer.alloc(0), attributes: { only: "attributes" } },
      ]);
      await waitFor("the valid message", () => received.length >= 1);
      await subject.settle();
      expect(received.map((m) => m.id)).toEqual([id]);
    });

    it("refuses a subscription name that belongs to another topic", async () => {
      const name = uniqueName("contract-owned");
      await subject.bus.subscribe(uniqueName("contract-owner"), name, async () => {});

      await expectBusError(
        subject.bus.subscribe(uniqueName("contract-other"), name, async () => {}),
        "invalid",
      );
    });
  });
}
