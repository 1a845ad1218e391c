import { PubSub } from "@google-cloud/pubsub";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkPubSubResources } from "#adapters/pubsub/pubsub-resources.ts";
import { TOPICS } from "#ports/bus.ts";
import { readEnv } from "#runtime/env.ts";
import { localSubscriptions } from "#runtime/local-subscriptions.ts";
import { openLocalSession } from "../../bin/commands/local-session.ts";
import { FUNCTIONS } from "../../functions/registry.ts";
import { inferenceEvent } from "../support/ingest-builders.ts";
import { floorHour, HOUR_MS, refreshRollups, report, tempDuckDb } from "../support/local-stack-session.ts";
import {
  emulatorUnavailableReason,
  type PubSubEmulator,
  startPubSubEmulator,
} from "./start-pubsub-emulator.ts";

const unavailable = emulatorUnavailableReason();
if (unavailable !== undefined) console.warn(`Pub/Sub local stack tests skipped: ${unavailable}`);

const PROJECT = "finops-local";

const DEAD_LETTERS: Record<string, string> = {
  [TOPICS.events]: TOPICS.eventsDeadLetter,
  [TOPICS.alerts]: TOPICS.alertsDeadLetter,
  [TOPICS.gcpBudgets]: TOPICS.gcpBudgetsDeadLetter,
};

describe.skipIf(unavailable !== undefined)("the local stack's Pub/Sub mode on a fresh emulator", () => {
  let emulator: PubSubEmulator | undefined;
  let db: ReturnType<typeof tempDuckDb> | undefined;

  beforeAll(async () => {
    emulator = await startPubSubEmulator(PROJECT);
    db = tempDuckDb("finops-pubsub-local-");
  });

  afterAll(async () => {
    await emulator?.stop();
    db?.remove();
  });

  const open = () => {
    if (emulator === undefined || db === undefined) throw new Error("the emulator did not start");
    return openLocalSession(0, {
      env: readEnv({
        FINOPS_BUS: "pubsub",
        PUBSUB_EMULATOR_HOST: emulator.host,
        GOOGLE_CLOUD_PROJECT: PROJECT,
        FINOPS_DUCKDB_PATH: db.path,
        FINOPS_LOG_LEVEL: "error",
      }),
      scheduleEveryMs: () => HOUR_MS,
    });
  };

  const adminClient = () =>
    new PubSub({
      projectId: PROJECT,
      apiEndpoint: emulator?.host as string,
      emulatorMode: true,
      universeDomain: "googleapis.com",
    });

  it("creates every topic, dead-letter topics included, and its subscriptions with their dead-letter policies", async () => {
    const admin = adminClient();
    // Before the start, the check real Pub/Sub gets names everything as missing, from the server's own answers.
    const resources = {
      topics: Object.values(TOPICS),
      subscriptions: localSubscriptions(FUNCTIONS).map((s) => ({
        ...s,
        deadLetterTopic: DEAD_LETTERS[s.topic],
      })),
    };
    const missing = await checkPubSubResources(admin, PROJECT, resources).catch((error: unknown) => error);
    expect(missing).toMatchObject({ name: "BusError", code: "invalid" });
    for (const topic of Object.values(TOPICS))
      expect((missing as Error).message).toContain(`topic ${topic},`);
    expect((missing as Error).message).toContain(
      "subscription ingestEvents-local (to topic finops-cost-events)",
    );

    const session = await open();
    try {
      const [topics] = await admin.getTopics();
      expect(topics.map((t) => t.name.split("/").at(-1)).sort()).toEqual(Object.values(TOPICS).sort());

      const expected = localSubscriptions(FUNCTIONS);
      expect(expected.map((s) => s.name).sort()).toEqual([
        "ingestEvents-local",
        "notifySlack-local",
        "routeGcpBudget-local",
      ]);
      for (const { topic, name } of expected) {
        const [metadata] = await admin.subscription(name).getMetadata();
        expect(metadata.topic).toBe(`projects/${PROJECT}/topics/${topic}`);
        expect(metadata.deadLetterPolicy).toMatchObject({
          deadLetterTopic: `projects/${PROJECT}/topics/${DEAD_LETTERS[topic]}`,
          maxDeliveryAttempts: 5,
        });
      }

      // The subscription feeds its function: an event published on the events topic is ingested.
      const hour = floorHour(Date.now());
      const event = inferenceEvent({
        id: `pubsub-local-${Date.now()}`,
        time: new Date(hour + 60_000).toISOString(),
      });
      await session.runtime.bus.publish(TOPICS.events, [
        { data: Buffer.from(JSON.stringify(event)), attributes: { "content-type": "application/json" } },
      ]);
      const window = { by: ["team" as const], from: new Date(hour), to: new Date(hour + HOUR_MS) };
      const deadline = Date.now() + 20_000;
      let teams: string[] = [];
      while (teams.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        await refreshRollups(session.stack);
        teams = (await report(session.runtime, window)).map((row) => String(row.group.team));
      }
      expect(teams).toEqual(["risk"]);
      await expect(checkPubSubResources(admin, PROJECT, resources)).resolves.toBeUndefined();
    } finally {
      await admin.close();
      await session.close();
    }

    // A restart finds everything there and starts again.
    const again = await open();
    await again.close();
  });
});
