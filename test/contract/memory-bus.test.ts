import { afterEach, describe, expect, it } from "vitest";
import { createMemoryBus, type MemoryBus, type MemoryBusOptions } from "#adapters/memory-bus/memory-bus.ts";
import type { DeliveredMessage } from "#ports/bus.ts";
import { BusError, DEAD_LETTER_ATTRIBUTES } from "#ports/bus-error.ts";
import { fixedClock } from "#ports/clock.ts";
import { type Logger, silentLogger } from "#ports/logger.ts";
import { describeBusContract } from "./bus-contract.ts";

describeBusContract("memory", async () => {
  const bus = createMemoryBus({ logger: silentLogger, retryDelayMs: 5 });
  return { bus, settle: () => bus.drain() };
});

interface LogLine {
  level: keyof Logger;
  message: string;
  fields: Record<string, unknown> | undefined;
}

function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: keyof Logger) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, fields });
    };
  return { lines, logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") } };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

const message = (text: string, attributes: Record<string, string> = {}) => ({
  data: Buffer.from(text),
  attributes,
});

describe("memory bus", () => {
  let bus: MemoryBus;
  const make = (options: Partial<MemoryBusOptions> = {}): MemoryBus => {
    bus = createMemoryBus({ logger: silentLogger, retryDelayMs: 1, ...options });
    return bus;
  };

  afterEach(async () => {
    await bus.close();
  });

  it("never runs a handler inside publish", async () => {
    make();
    let calls = 0;
    await bus.subscribe("events", "events-sub", async () => {
      calls++;
    });

    const publishing = bus.publish("events", [message("one")]);
    expect(calls).toBe(0);
    await publishing;
    expect(calls).toBe(0);

    await bus.drain();
    expect(calls).toBe(1);
  });

  it("redelivers when a handler throws before returning a promise", async () => {
    make();
    const attempts: number[] = [];
    await bus.subscribe("events", "events-sub", (m) => {
      attempts.push(m.deliveryAttempt);
      if (m.deliveryAttempt === 1) throw new Error("thrown synchronously");
      return Promise.resolve();
    });

    await bus.publish("events", [message("m")]);
    await bus.drain();

    expect(attempts).toEqual([1, 2]);
  });

  it("logs and drops a message when its dead-letter lookup throws", async () => {
    const { logger, lines } = recordingLogger();
    make({
      logger,
      maxDeliveryAttempts: 1,
      deadLetterTopic: () => {
        throw new Error("bad routing");
      },
    });
    await bus.subscribe("events", "events-sub", async () => {
      throw new Error("fails");
    });

    await bus.publish("events", [message("m")]);
    await bus.drain();

    expect(lines.filter((line) => line.level === "error").map((line) => line.fields?.error)).toEqual([
      "Error: bad routing",
    ]);
  });

  it("stamps publishTime from its clock and numbers ids in publish order", async () => {
    make({ clock: fixedClock("2026-03-01T12:00:00Z") });
    const received: DeliveredMessage[] = [];
    await bus.subscribe("events", "events-sub", async (m) => {
      received.push(m);
    });

    const ids = await bus.publish("events", [message("a"), message("b")]);
    await bus.drain();

    expect(ids.map(Number)).toEqual([Number(ids[0]), Number(ids[0]) + 1]);
    expect(received.map((m) => m.publishTime.toISOString())).toEqual([
      "2026-03-01T12:00:00.000Z",
      "2026-03-01T12:00:00.000Z",
    ]);
  });

  it("sends a message to the dead-letter topic after maxDeliveryAttempts, noting topic and error", async () => {
    make({ maxDeliveryAttempts: 3, deadLetterTopic: (topic) => `${topic}-dead-letter` });
    const attempts: number[] = [];
    const dead: DeliveredMessage[] = [];
    await bus.subscribe("events", "events-sub", async (m) => {
      attempts.push(m.deliveryAttempt);
      throw new TypeError(`cannot price ${m.data.toString()}`);
    });
    await bus.subscribe("events-dead-letter", "events-dead-letter-sub", async (m) => {
      dead.push(m);
    });

    await bus.publish("events", [message("poison", { source: "sdk" })]);
    await bus.drain();

    expect(attempts).toEqual([1, 2, 3]);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.data.toString()).toBe("poison");
    expect(dead[0]?.deliveryAttempt).toBe(1);
    expect(dead[0]?.attributes).toEqual({
      source: "sdk",
      [DEAD_LETTER_ATTRIBUTES.sourceTopic]: "events",
      [DEAD_LETTER_ATTRIBUTES.subscription]: "events-sub",
      [DEAD_LETTER_ATTRIBUTES.deliveryCount]: "3",
      [DEAD_LETTER_ATTRIBUTES.error]: "TypeError: cannot price poison",
    });
  });

  it("logs and drops a message that fails every attempt when its topic has no dead-letter topic", async () => {
    const { logger, lines } = recordingLogger();
    make({ logger, maxDeliveryAttempts: 2, deadLetterTopic: () => undefined });
    await bus.subscribe("alerts", "alerts-sub", async () => {
      throw new Error("slack is down");
    });

    const [id] = await bus.publish("alerts", [message("alert")]);
    await bus.drain();

    const errors = lines.filter((line) => line.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]?.fields).toMatchObject({
      topic: "alerts",
      subscription: "alerts-sub",
      messageId: id,
      deliveryAttempt: 2,
      error: "Error: slack is down",
    });
    expect(lines.filter((line) => line.level === "warn")).toHaveLength(1);
  });

  it("waits out the backoff before redelivering, and drain waits for it", async () => {
    const delays: number[] = [];
    make({
      maxDeliveryAttempts: 5,
      retryDelayMs: (failed) => {
        delays.push(failed);
        return 20 * failed;
      },
    });
    const seen: Array<{ attempt: number; at: number }> = [];
    await bus.subscribe("events", "events-sub", async (m) => {
      seen.push({ attempt: m.deliveryAttempt, at: Date.now() });
      if (m.deliveryAttempt < 3) throw new Error("not yet");
    });

    await bus.publish("events", [message("slow")]);
    await bus.drain();

    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
    expect(delays).toEqual([1, 2]);
    const [first, second, third] = seen;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(15);
    expect((third?.at ?? 0) - (second?.at ?? 0)).toBeGreaterThanOrEqual(35);
  });

  it("drains at once when idle, and waits for messages handlers publish while draining", async () => {
    make();
    await bus.drain();
    const alerts: string[] = [];
    await bus.subscribe("events", "events-sub", async (m) => {
      await bus.publish("alerts", [message(`alert for ${m.data.toString()}`)]);
    });
    await bus.subscribe("alerts", "alerts-sub", async (m) => {
      alerts.push(m.data.toString());
    });

    await bus.publish("events", [message("e1"), message("e2")]);
    await bus.drain();

    expect(alerts.sort()).toEqual(["alert for e1", "alert for e2"]);
  });

  it("runs at most maxConcurrency handlers of one subscribe call at once", async () => {
    make({ maxConcurrency: 2 });
    let running = 0;
    let peak = 0;
    const gates = Array.from({ length: 6 }, () => deferred());
    const done: string[] = [];
    await bus.subscribe("events", "events-sub", async (m) => {
      running++;
      peak = Math.max(peak, running);
      await gates[Number(m.attributes.n)]?.promise;
      running--;
      done.push(m.attributes.n ?? "");
    });

    await bus.publish(
      "events",
      gates.map((_, n) => message("x", { n: String(n) })),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(running).toBe(2);
    for (const gate of gates) gate.resolve();
    await bus.drain();

    expect(peak).toBe(2);
    expect(done).toHaveLength(6);
  });

  it("shares one subscription's messages among its handlers, each message handled once", async () => {
    make();
    const byHandler = { a: [] as string[], b: [] as string[] };
    await bus.subscribe("events", "shared", async (m) => {
      byHandler.a.push(m.id);
    });
    await bus.subscribe("events", "shared", async (m) => {
      byHandler.b.push(m.id);
    });

    const ids = await bus.publish(
      "events",
      Array.from({ length: 8 }, (_, n) => message(String(n))),
    );
    await bus.drain();

    expect([...byHandler.a, ...byHandler.b].sort()).toEqual([...ids].sort());
    expect(byHandler.a.length).toBeGreaterThan(0);
    expect(byHandler.b.length).toBeGreaterThan(0);
  });

  it("hands each delivery its own copy of the data", async () => {
    make();
    const seen: string[] = [];
    const mutate = async (m: DeliveredMessage) => {
      seen.push(m.data.toString());
      m.data.fill(0x21);
      m.attributes.k = "changed";
    };
    await bus.subscribe("events", "one", mutate);
    await bus.subscribe("events", "two", mutate);
    const data = Buffer.from("original");

    await bus.publish("events", [{ data, attributes: { k: "v" } }]);
    data.fill(0x3f);
    await bus.drain();

    expect(seen).toEqual(["original", "original"]);
  });

  it("drops pending redeliveries on close and resolves drain", async () => {
    make({ retryDelayMs: 60_000 });
    let calls = 0;
    await bus.subscribe("events", "events-sub", async () => {
      calls++;
      throw new Error("fails");
    });
    await bus.publish("events", [message("m")]);
    await new Promise((resolve) => setTimeout(resolve, 20));

    await bus.close();
    await bus.drain();

    expect(calls).toBe(1);
  });

  it("waits for running handlers when a subscription closes", async () => {
    make();
    const gate = deferred();
    let finished = false;
    const subscription = await bus.subscribe("events", "events-sub", async () => {
      await gate.promise;
      finished = true;
    });
    await bus.publish("events", [message("m")]);
    await new Promise((resolve) => setTimeout(resolve, 10));

    const closing = subscription.close();
    gate.resolve();
    await closing;

    expect(finished).toBe(true);
  });

  it("rejects options outside their range", () => {
    expect(() => createMemoryBus({ logger: silentLogger, maxDeliveryAttempts: 0 })).toThrow(BusError);
    expect(() => createMemoryBus({ logger: silentLogger, maxConcurrency: 1.5 })).toThrow(BusError);
    bus = createMemoryBus({ logger: silentLogger });
  });
});
