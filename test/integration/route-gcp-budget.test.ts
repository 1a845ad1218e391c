import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getTestServer } from "@google-cloud/functions-framework/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDuckDbSeenStore } from "#adapters/duckdb-seen-store/duckdb-seen-store.ts";
import { createMemorySeenStore } from "#adapters/memory-seen-store/memory-seen-store.ts";
import {
  type BudgetMessage,
  createRouteGcpBudget,
  type RouteGcpBudgetRuntime,
} from "#app/route-gcp-budget.ts";
import { parseAlert } from "#domain/alerts/alert.ts";
import { gcpBudgetsSettingsSchema } from "#domain/gcp-budget/gcp-budget-settings.ts";
import { type Bus, type BusMessage, TOPICS } from "#ports/bus.ts";
import { BusError } from "#ports/bus-error.ts";
import { fixedClock } from "#ports/clock.ts";
import type { SeenStore } from "#ports/seen-store.ts";
import { type Runtime, setRuntime } from "#runtime/runtime.ts";

const ENVELOPE = JSON.parse(
  readFileSync(
    new URL("../fixtures/gcp-budget/pubsub-push-budget.CONSTRUCTED.json", import.meta.url),
    "utf8",
  ),
) as { message: { data: string; attributes: Record<string, string> }; subscription: string };
const DATA = JSON.parse(Buffer.from(ENVELOPE.message.data, "base64").toString("utf8")) as Record<
  string,
  unknown
>;
const NOW = new Date("2026-11-20T10:00:00Z");
const START = "2026-11-01T07:00:00Z";

/** A bus that records what is published and can be made to fail. */
function recordingBus() {
  const published: Array<{ topic: string; message: BusMessage }> = [];
  let failing = false;
  const bus: Bus = {
    async publish(topic, messages) {
      if (failing) throw new BusError("unavailable", "publish: deadline exceeded");
      for (const message of messages) published.push({ topic, message });
      return messages.map((_, i) => String(published.length - messages.length + i));
    },
    async subscribe() {
      throw new Error("not used");
    },
    async close() {},
  };
  const alerts = () =>
    published
      .filter((p) => p.topic === TOPICS.alerts)
      .map((p) => {
        const parsed = parseAlert(JSON.parse(p.message.data.toString("utf8")));
        if (!parsed.ok) throw new Error(parsed.reason);
        return parsed.alert;
      });
  return { bus, published, alerts, failWith: (state: boolean) => (failing = state) };
}

function message(data: Record<string, unknown>, attributes = ENVELOPE.message.attributes): BudgetMessage {
  return { data: JSON.stringify({ ...DATA, costIntervalStart: START, ...data }), attributes };
}

const stores: Array<[string, () => SeenStore]> = [
  ["memory seen-store", () => createMemorySeenStore()],
  ["DuckDB seen-store", () => createDuckDbSeenStore({ path: ":memory:" })],
];

describe.each(stores)("routeGcpBudget (%s)", (_name, makeStore) => {
  function setup() {
    const recorder = recordingBus();
    const seen = makeStore();
    const route = createRouteGcpBudget({
      bus: recorder.bus,
      seen,
      clock: fixedClock(NOW),
      settings: gcpBudgetsSettingsSchema.parse({}),
      deadLetterTopic: "finops-gcp-budget-dead-letter",
    });
    return { ...recorder, seen, route };
  }

  it("alerts when the threshold rises, and never for repeats, routine updates or a late lower one", async () => {
    const { route, alerts } = setup();
    const outcomes = [];
    for (const data of [
      { alertThresholdExceeded: undefined, costAmount: 10 },
      { alertThresholdExceeded: 0.5, costAmount: 52 },
      { alertThresholdExceeded: 0.5, costAmount: 55 },
      { alertThresholdExceeded: undefined, costAmount: 56 },
      { alertThresholdExceeded: 0.8, costAmount: 81 },
      { alertThresholdExceeded: 0.5, costAmount: 81 },
      { alertThresholdExceeded: 1, costAmount: 100.01 },
      { alertThresholdExceeded: 1, costAmount: 104 },
    ]) {
      outcomes.push((await route.route(message(data))).outcome);
    }
    expect(outcomes).toEqual([
      "status",
      "alerted",
      "unchanged",
      "status",
      "alerted",
      "unchanged",
      "alerted",
      "unchanged",
    ]);
    expect(alerts().map((a) => [a.idempotency_key, a.severity])).toEqual([
      ["gcp-budget:de72f49d-779b-4945-a127-4d6ce8def0bb:2026-11-01T07:00:00Z:actual:0.5", "info"],
      ["gcp-budget:de72f49d-779b-4945-a127-4d6ce8def0bb:2026-11-01T07:00:00Z:actual:0.8", "warning"],
      ["gcp-budget:de72f49d-779b-4945-a127-4d6ce8def0bb:2026-11-01T07:00:00Z:actual:1", "critical"],
    ]);
  });

  it("routes a replayed notification once", async () => {
    const { route, alerts } = setup();
    const push = {
      data: Buffer.from(ENVELOPE.message.data, "base64"),
      attributes: ENVELOPE.message.attributes,
    };
    expect((await route.route(push)).outcome).toBe("alerted");
    expect((await route.route(push)).outcome).toBe("unchanged");
    expect(alerts()).toHaveLength(1);
    expect(alerts()[0]?.idempotency_key).toBe(
      "gcp-budget:de72f49d-779b-4945-a127-4d6ce8def0bb:2019-01-01T00:00:00Z:actual:1",
    );
  });

  it("tracks actual and forecast apart, per budget and per period", async () => {
    const { route, alerts } = setup();
    await route.route(message({ alertThresholdExceeded: 0.5, forecastThresholdExceeded: 1 }));
    await route.route(message({ alertThresholdExceeded: 0.5, forecastThresholdExceeded: 1 }));
    await route.route(message({ alertThresholdExceeded: 0.8, forecastThresholdExceeded: 1 }));
    await route.route(message({ alertThresholdExceeded: 0.5, costIntervalStart: "2026-12-01T08:00:00Z" }));
    await route.route(
      message({ alertThresholdExceeded: 0.5 }, { ...ENVELOPE.message.attributes, budgetId: "b2" }),
    );
    expect(
      alerts().map((a) => a.idempotency_key.replace("de72f49d-779b-4945-a127-4d6ce8def0bb", "b1")),
    ).toEqual([
      "gcp-budget:b1:2026-11-01T07:00:00Z:actual:0.5",
      "gcp-budget:b1:2026-11-01T07:00:00Z:forecast:1",
      "gcp-budget:b1:2026-11-01T07:00:00Z:actual:0.8",
      "gcp-budget:b1:2026-12-01T08:00:00Z:actual:0.5",
      "gcp-budget:b2:2026-11-01T07:00:00Z:actual:0.5",
    ]);
    expect(alerts()[1]?.title).toContain("forecast");
  });

  it("puts the threshold back when the alert cannot be published, so the redelivery alerts", async () => {
    const { route, alerts, failWith } = setup();
    failWith(true);
    await expect(route.route(message({ alertThresholdExceeded: 0.8 }))).rejects.toBeInstanceOf(BusError);
    failWith(false);
    expect((await route.route(message({ alertThresholdExceeded: 0.8 }))).outcome).toBe("alerted");
    expect(alerts()).toHaveLength(1);
  });

  it("rejects an invalid notification naming the field, to the dead-letter topic, with no alert", async () => {
    const { route, published } = setup();
    const result = await route.route(message({ costAmount: "lots" }));
    expect(result).toMatchObject({ outcome: "rejected", field: "data.costAmount" });
    expect(published.map((p) => [p.topic, p.message.attributes.rejected_field])).toEqual([
      ["finops-gcp-budget-dead-letter", "data.costAmount"],
    ]);
  });
});

describe("routeGcpBudget function (Functions Framework, messagePublished CloudEvent)", () => {
  let server: Server;
  let url: string;
  const recorder = recordingBus();

  beforeAll(async () => {
    const clock = fixedClock(NOW);
    // The function reads nothing else of the runtime.
    const runtime: RouteGcpBudgetRuntime = {
      routeGcpBudget: createRouteGcpBudget({ bus: recorder.bus, seen: createMemorySeenStore(), clock }),
    };
    setRuntime(runtime as Runtime);
    await import("../../functions/route-gcp-budget/index.ts");
    server = getTestServer("routeGcpBudget");
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it("routes the budget notification once, however often Pub/Sub delivers it", async () => {
    const post = () =>
      fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "ce-specversion": "1.0",
          "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
          "ce-source": "//pubsub.googleapis.com/projects/myproject/topics/billing-budgets",
          "ce-id": "2070443601311540",
          "ce-time": "2021-02-26T19:13:55.749Z",
        },
        body: JSON.stringify({ message: ENVELOPE.message, subscription: ENVELOPE.subscription }),
      });
    expect((await post()).status).toBe(204);
    expect((await post()).status).toBe(204);
    expect(recorder.alerts().map((a) => a.severity)).toEqual(["critical"]);
  });
});
