import { mkdtempSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getTestServer } from "@google-cloud/functions-framework/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createMemoryAlertLog, type MemoryAlertLog } from "#adapters/memory-alert-log/memory-alert-log.ts";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import { createSlackNotifier } from "#adapters/slack/slack-notifier.ts";
import { createNotifyAlert } from "#app/notify-alert.ts";
import { alertToJson } from "#domain/alerts/alert.ts";
import { parseAlertRouting } from "#domain/alerts/alert-routing.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { loadConfig } from "#runtime/config.ts";
import { type Runtime, setRuntime } from "#runtime/runtime.ts";
import { alertOf } from "../fixtures/slack/alert-builders.ts";
import { ANSWERS, type FakeSlack, startFakeSlack } from "../fixtures/slack/fake-slack-server.ts";

// notifySlack under the real Functions Framework, posting through the real WebClient to a local Slack.

const PUSH_ENVELOPE = JSON.parse(
  readFileSync(
    new URL("../fixtures/gcp-budget/pubsub-push-envelope.docs-sample.json", import.meta.url),
    "utf8",
  ),
) as { message: Record<string, unknown>; subscription: string };

const HEADERS = {
  "content-type": "application/json",
  "ce-specversion": "1.0",
  "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
  "ce-source": "//pubsub.googleapis.com/projects/myproject/topics/finops-alerts",
  "ce-id": "2070443601311541",
  "ce-time": "2026-11-20T10:00:00.000Z",
};

let slack: FakeSlack;
let fn: { server: Server; url: string };
let alertLog: MemoryAlertLog;

/** The runtime the composition root builds, with notifyAlert over the real client; the warehouse is unused. */
function useRuntime() {
  alertLog = createMemoryAlertLog();
  const clock = fixedClock("2026-11-20T10:00:00Z");
  const bus = createMemoryBus({ logger: silentLogger });
  const notifier = createSlackNotifier({
    token: "xoxb-test",
    apiUrl: slack.url,
    logger: silentLogger,
    maxRetryAfterSeconds: 5,
    retryConfig: { retries: 0 },
  });
  const notifyAlert = createNotifyAlert({
    notifier,
    alertLog,
    routing: parseAlertRouting({}),
    logger: silentLogger,
    clock,
  });
  const runtime = {
    config: loadConfig({}, mkdtempSync(join(tmpdir(), "finops-notify-"))),
    logger: silentLogger,
    clock,
    warehouse: {} as Warehouse,
    bus,
    notifyAlert,
    close: () => bus.close(),
  };
  setRuntime(runtime as unknown as Runtime);
}

const deliver = (data: string) =>
  fetch(fn.url, {
    method: "POST",
    headers: HEADERS,
    body: JSON.stringify({
      ...PUSH_ENVELOPE,
      message: { ...PUSH_ENVELOPE.message, data: Buffer.from(data).toString("base64") },
    }),
  });

beforeAll(async () => {
  slack = await startFakeSlack();
  await import("../../functions/notify-slack/index.ts");
  const server = getTestServer("notifySlack");
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fn = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
});

afterAll(async () => {
  await new Promise((resolve) => fn.server.close(resolve));
  await slack.close();
});

beforeEach(() => {
  slack.reset();
  useRuntime();
});

describe("notifySlack (Functions Framework)", () => {
  it("posts an alert from the alerts topic once, however often it is delivered", async () => {
    expect((await deliver(alertToJson(alertOf()))).status).toBe(204);
    expect((await deliver(alertToJson(alertOf()))).status).toBe(204);
    expect(slack.requests.map((r) => [r.method, r.form.channel])).toEqual([
      ["chat.postMessage", "#team-nlp-team-alerts"],
    ]);
    expect(alertLog.deliveries()).toHaveLength(1);
  });

  it("acknowledges a poison alert without posting", async () => {
    expect((await deliver("{broken")).status).toBe(204);
    expect((await deliver(JSON.stringify({ kind: "budget.threshold" }))).status).toBe(204);
    expect(slack.requests).toHaveLength(0);
  });

  it("answers 500 on a transient failure, so Pub/Sub redelivers, and posts on the redelivery", async () => {
    slack.answer("chat.postMessage", ANSWERS.rateLimited());
    expect((await deliver(alertToJson(alertOf()))).status).toBe(500);
    expect(alertLog.deliveries()).toHaveLength(0);
    expect((await deliver(alertToJson(alertOf()))).status).toBe(204);
    expect(alertLog.deliveries()).toHaveLength(1);
  });

  it("answers 500 on invalid_auth: not acknowledged, so the alert ends on the dead-letter topic", async () => {
    slack.answer("chat.postMessage", ANSWERS.invalidAuth());
    expect((await deliver(alertToJson(alertOf()))).status).toBe(500);
  });
});
