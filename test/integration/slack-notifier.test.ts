import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDuckDbAlertLog } from "#adapters/duckdb-alert-log/duckdb-alert-log.ts";
import { createSlackNotifier, type SlackNotifierOptions } from "#adapters/slack/slack-notifier.ts";
import { createNotifyAlert } from "#app/notify-alert.ts";
import type { Alert } from "#domain/alerts/alert.ts";
import { parseAlertRouting } from "#domain/alerts/alert-routing.ts";
import { BUDGET_EXCEEDED_ACTION, renderAlertMessage } from "#domain/alerts/slack-message.ts";
import type { AlertLog } from "#ports/alert-log.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import { NotifierError } from "#ports/notifier.ts";
import { alertOf, seedBudgetAlerts } from "../fixtures/slack/alert-builders.ts";
import { ANSWERS, type FakeSlack, startFakeSlack } from "../fixtures/slack/fake-slack-server.ts";

// The real @slack/web-api WebClient against a local server that answers as Slack does (the fixtures in
// ../fixtures/slack), reached through SLACK_API_URL's setting, apiUrl.

const TOKEN = "xoxb-test-not-a-real-token";
let slack: FakeSlack;
let logs: AlertLog[] = [];

beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(() => slack.close());
afterEach(async () => {
  slack.reset();
  await Promise.all(logs.map((log) => log.close()));
  logs = [];
});

function notifier(overrides: Partial<SlackNotifierOptions> = {}) {
  return createSlackNotifier({
    token: TOKEN,
    apiUrl: slack.url,
    logger: silentLogger,
    maxRetryAfterSeconds: 5,
    retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 20 },
    ...overrides,
  });
}

async function useCase() {
  const alertLog = createDuckDbAlertLog({ path: ":memory:" });
  await alertLog.init();
  logs.push(alertLog);
  const warnings: string[] = [];
  const logger = { ...silentLogger, warn: (message: string) => void warnings.push(message) };
  const notify = createNotifyAlert({
    notifier: notifier(),
    alertLog,
    routing: parseAlertRouting({ fallbackChannel: "#finops-alerts" }),
    logger,
    clock: fixedClock("2026-11-20T10:00:00Z"),
  });
  return { notify, warnings, alertLog };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (error: unknown) => error as NotifierError,
  );

describe("Slack notifier (real WebClient, local Slack)", () => {
  it("posts the Block Kit message as Slack's form and returns Slack's channel and ts", async () => {
    const message = renderAlertMessage(alertOf());
    const posted = await notifier().post("#team-nlp-team-alerts", message);
    expect(posted).toEqual({ channel: "C1H9RESGL", ts: "1503435956.000247" });
    const [request] = slack.requests;
    expect(request?.method).toBe("chat.postMessage");
    expect(request?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.form).toMatchObject({
      channel: "#team-nlp-team-alerts",
      text: message.text,
      blocks: message.blocks,
      attachments: message.attachments,
      unfurl_links: "false",
    });
  });

  it("waits out a 429 whose Retry-After fits the budget, and retries once", async () => {
    slack.answer("chat.postMessage", ANSWERS.rateLimited(1));
    const started = Date.now();
    const posted = await notifier({ maxRetryAfterSeconds: 2 }).post("#x", renderAlertMessage(alertOf()));
    expect(posted.ts).toBe("1503435956.000247");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(slack.requests.map((r) => r.method)).toEqual(["chat.postMessage", "chat.postMessage"]);
  });

  it("fails transiently, without waiting, when Retry-After is over the budget", async () => {
    slack.answer("chat.postMessage", ANSWERS.rateLimited());
    const started = Date.now();
    const error = await failure(
      notifier({ maxRetryAfterSeconds: 5 }).post("#x", renderAlertMessage(alertOf())),
    );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error).toBeInstanceOf(NotifierError);
    expect(error).toMatchObject({ code: "rate_limited", retryable: true, retryAfterSeconds: 30 });
    expect(slack.requests).toHaveLength(1);
  });

  it("fails transiently when a second 429 follows the one it waited for", async () => {
    slack.answer("chat.postMessage", ANSWERS.rateLimited(1), ANSWERS.rateLimited(1));
    const error = await failure(notifier().post("#x", renderAlertMessage(alertOf())));
    expect(error).toMatchObject({ code: "rate_limited", retryable: true });
    expect(slack.requests).toHaveLength(2);
  });

  it.each([
    ["channel_not_found", "channel"],
    ["not_in_channel", "channel"],
    ["is_archived", "channel"],
    ["msg_too_long", "invalid"],
    ["rate_limited", "rate_limited"],
  ])("maps %s to the %s code", async (reason, code) => {
    slack.answer("chat.postMessage", ANSWERS.error(reason));
    const error = await failure(notifier().post("#x", renderAlertMessage(alertOf())));
    expect(error).toMatchObject({ name: "NotifierError", code, reason });
  });

  it("invalid_auth is permanent: code auth, not retryable, the token never in the message", async () => {
    slack.answer("chat.postMessage", ANSWERS.invalidAuth());
    const error = await failure(notifier().post("#x", renderAlertMessage(alertOf())));
    expect(error).toMatchObject({ code: "auth", reason: "invalid_auth", retryable: false });
    expect(error.message).not.toContain(TOKEN);
    expect(slack.requests).toHaveLength(1);
  });

  it("a 500 is retried by the short policy, then fails as unavailable", async () => {
    slack.answer("chat.postMessage", ANSWERS.serverError(), ANSWERS.serverError(), ANSWERS.serverError());
    const error = await failure(notifier().post("#x", renderAlertMessage(alertOf())));
    expect(error).toMatchObject({ code: "unavailable", retryable: true });
    expect(slack.requests).toHaveLength(3);
  });

  it("a 500 followed by ok succeeds within the call", async () => {
    slack.answer("chat.postMessage", ANSWERS.serverError());
    expect((await notifier().post("#x", renderAlertMessage(alertOf()))).ts).toBe("1503435956.000247");
    expect(slack.requests).toHaveLength(2);
  });

  it("an unreachable Slack is unavailable", async () => {
    const error = await failure(
      notifier({ apiUrl: "http://127.0.0.1:1/api/", retryConfig: { retries: 0 } }).post(
        "#x",
        renderAlertMessage(alertOf()),
      ),
    );
    expect(error).toMatchObject({ code: "unavailable", retryable: true });
  });
});

describe("notifyAlert over the real client", () => {
  it("channel_not_found: posts to the fallback channel and reports it", async () => {
    slack.answer("chat.postMessage", ANSWERS.error("channel_not_found"));
    const { notify, warnings, alertLog } = await useCase();
    const outcome = await notify.notify(alertOf());
    expect(outcome).toMatchObject({
      status: "posted",
      channel: "C1H9RESGL",
      fallback: { from: "#team-nlp-team-alerts", reason: "channel_not_found" },
    });
    expect(slack.requests.map((r) => r.form.channel)).toEqual(["#team-nlp-team-alerts", "#finops-alerts"]);
    expect(warnings).toContain("alert channel refused the message; posting to the fallback channel");
    expect(await alertLog.find(alertOf().idempotency_key)).toMatchObject({
      routed_channel: "#team-nlp-team-alerts",
    });
  });

  it("not_in_channel: the same fallback", async () => {
    slack.answer("chat.postMessage", ANSWERS.error("not_in_channel"));
    const { notify } = await useCase();
    expect(await notify.notify(alertOf())).toMatchObject({ fallback: { reason: "not_in_channel" } });
  });

  it("a redelivered alert is not posted twice", async () => {
    const { notify } = await useCase();
    await notify.notify(alertOf());
    expect((await notify.notify(alertOf())).status).toBe("duplicate");
    expect(slack.requests).toHaveLength(1);
  });

  it("an alert that was rate limited is posted once when the bus redelivers it", async () => {
    slack.answer("chat.postMessage", ANSWERS.rateLimited());
    const { notify } = await useCase();
    await expect(notify.notify(alertOf())).rejects.toMatchObject({ code: "rate_limited" });
    expect((await notify.notify(alertOf())).status).toBe("posted");
    expect((await notify.notify(alertOf())).status).toBe("duplicate");
    expect(slack.requests).toHaveLength(2);
  });

  it("invalid_auth propagates (the bus retries, then dead-letters it with the reason)", async () => {
    slack.answer("chat.postMessage", ANSWERS.invalidAuth());
    const { notify } = await useCase();
    await expect(notify.notify(alertOf())).rejects.toMatchObject({ code: "auth", retryable: false });
  });

  it("a thread_key seen before updates the message with chat.update; a higher severity posts anew", async () => {
    const { notify } = await useCase();
    const anomaly = (key: string, severity: Alert["severity"], impact: string): Alert =>
      alertOf({
        idempotency_key: key,
        kind: "aws.anomaly",
        severity,
        thread_key: "aws-anomaly:abc",
        title: `Cost anomaly in Amazon SageMaker: ${impact}`,
        amounts: undefined,
        source: { system: "aws-cost-anomaly", id: "abc" },
      });
    await notify.notify(anomaly("abc:1", "warning", "$120"));
    const updated = await notify.notify(anomaly("abc:2", "warning", "$180"));
    expect(updated).toMatchObject({ status: "updated", channel: "C1H9RESGL", ts: "1503435956.000247" });
    const update = slack.requests[1];
    expect(update?.method).toBe("chat.update");
    expect(update?.form).toMatchObject({ channel: "C1H9RESGL", ts: "1503435956.000247" });
    expect(JSON.stringify(update?.form.blocks)).toContain("$180");
    expect((await notify.notify(anomaly("abc:3", "critical", "$900"))).status).toBe("posted");
    expect(slack.requests.map((r) => r.method)).toEqual([
      "chat.postMessage",
      "chat.update",
      "chat.postMessage",
    ]);
  });

  it("posts the seed's three budget messages, 📊 ⚠️ 🚨, the last saying the budget is exceeded", async () => {
    const { notify } = await useCase();
    for (const alert of seedBudgetAlerts()) await notify.notify(alert);
    for (const alert of seedBudgetAlerts()) await notify.notify(alert);
    const headers = slack.requests.map(
      (r) => (r.form.blocks as Array<{ text: { text: string } }>)[0]?.text.text,
    );
    expect(headers).toEqual([
      "📊 nlp-team monthly budget at 50%",
      "⚠️ nlp-team monthly budget at 80%",
      "🚨 nlp-team monthly budget at 100%",
    ]);
    expect(slack.requests.map((r) => r.form.channel)).toEqual(Array(3).fill("#team-nlp-team-alerts"));
    expect(JSON.stringify(slack.requests[2]?.form.attachments)).toContain(BUDGET_EXCEEDED_ACTION);
    expect(String(slack.requests[2]?.form.text)).toContain(BUDGET_EXCEEDED_ACTION);
  });
});
