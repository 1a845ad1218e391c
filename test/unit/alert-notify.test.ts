import { describe, expect, it } from "vitest";
import { createMemoryAlertLog } from "#adapters/memory-alert-log/memory-alert-log.ts";
import { createNotifyAlert } from "#app/notify-alert.ts";
import { alertToJson } from "#domain/alerts/alert.ts";
import { parseAlertRouting } from "#domain/alerts/alert-routing.ts";
import type { SlackMessage } from "#domain/alerts/slack-message.ts";
import type { AlertLog } from "#ports/alert-log.ts";
import { AlertLogError } from "#ports/alert-log.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import { type Notifier, NotifierError } from "#ports/notifier.ts";
import { alertOf } from "../fixtures/slack/alert-builders.ts";

interface Call {
  op: "post" | "update";
  channel: string;
  ts?: string;
  message: SlackMessage;
}

/** A notifier that records calls and fails where told (by channel), like Slack would. */
function fakeNotifier(failures: Record<string, NotifierError> = {}) {
  const calls: Call[] = [];
  let n = 0;
  const fail = (channel: string) => {
    const error = failures[channel];
    if (error) throw error;
  };
  const notifier: Notifier = {
    async post(channel, message) {
      calls.push({ op: "post", channel, message });
      fail(channel);
      n += 1;
      return { channel: `C-${channel.slice(1)}`, ts: `1700000000.00000${n}` };
    },
    async update(channel, ts, message) {
      calls.push({ op: "update", channel, ts, message });
      fail(channel);
      return { channel, ts };
    },
  };
  return { notifier, calls };
}

function setup(failures: Record<string, NotifierError> = {}, alertLog: AlertLog = createMemoryAlertLog()) {
  const { notifier, calls } = fakeNotifier(failures);
  const logs: Array<[string, Record<string, unknown> | undefined]> = [];
  const logger = {
    ...silentLogger,
    warn: (m: string, f?: Record<string, unknown>) => void logs.push([m, f]),
  };
  const notify = createNotifyAlert({
    notifier,
    alertLog,
    routing: parseAlertRouting({ fallbackChannel: "#finops-alerts" }),
    logger: { ...logger, error: (m, f) => void logs.push([m, f]) },
    clock: fixedClock("2026-11-20T10:00:00Z"),
  });
  return { notify, calls, logs, alertLog };
}

const channelError = (reason: string) => new NotifierError("channel", `Slack failed: ${reason}`, { reason });
const anomaly = (key: string, severity: "info" | "warning" | "critical") =>
  alertOf({
    idempotency_key: key,
    kind: "aws.anomaly",
    severity,
    thread_key: "anomaly-1",
    amounts: undefined,
    title: `Anomaly ${key}`,
  });

describe("notifyAlert", () => {
  it("posts to the routed channel once per key, and logs the alert's title and scope", async () => {
    const { notify, calls, alertLog } = setup();
    const alert = alertOf({ scope: { team: "nlp-team", model: "llm", namespace: "serving", budget: "b" } });
    const first = await notify.notify(alert);
    expect(first).toMatchObject({
      status: "posted",
      channel: "C-team-nlp-team-alerts",
      rule: "team",
      recorded: true,
    });
    const again = await notify.notify(alertOf());
    expect(again).toEqual({
      status: "duplicate",
      idempotency_key: alertOf().idempotency_key,
      channel: first.channel,
      ts: (first as { ts: string }).ts,
    });
    expect(calls.map((c) => c.op)).toEqual(["post"]);
    expect(await alertLog.find(alert.idempotency_key)).toEqual(
      expect.objectContaining({ title: "nlp-team budget at 80%", scope: { team: "nlp-team", model: "llm" } }),
    );
  });

  it("does not post twice when the same alert arrives twice at once", async () => {
    const { notify, calls } = setup();
    const outcomes = await Promise.all([notify.notify(alertOf()), notify.notify(alertOf())]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(["duplicate", "posted"]);
    expect(calls).toHaveLength(1);
  });

  it("falls back when the channel is refused, says so, and keeps the alert", async () => {
    const { notify, calls, logs, alertLog } = setup({
      "#team-nlp-team-alerts": channelError("channel_not_found"),
    });
    const outcome = await notify.notify(alertOf());
    expect(outcome).toMatchObject({
      status: "posted",
      channel: "C-finops-alerts",
      fallback: { from: "#team-nlp-team-alerts", reason: "channel_not_found" },
    });
    expect(calls.map((c) => c.channel)).toEqual(["#team-nlp-team-alerts", "#finops-alerts"]);
    const note = calls[1]?.message.attachments[0]?.blocks.find((b) => b.type === "context");
    expect(JSON.stringify(note)).toContain("Meant for #team-nlp-team-alerts");
    expect(logs.map(([m]) => m)).toContain(
      "alert channel refused the message; posting to the fallback channel",
    );
    expect(await alertLog.find(alertOf().idempotency_key)).toMatchObject({
      routed_channel: "#team-nlp-team-alerts",
    });
  });

  it("throws when even the fallback channel refuses, so the bus keeps the alert", async () => {
    const { notify } = setup({
      "#team-nlp-team-alerts": channelError("not_in_channel"),
      "#finops-alerts": channelError("is_archived"),
    });
    await expect(notify.notify(alertOf())).rejects.toMatchObject({ code: "channel", reason: "is_archived" });
  });

  it("updates a thread's message, and posts anew when the severity rises", async () => {
    const { notify, calls } = setup();
    const posted = await notify.notify(anomaly("a1", "warning"));
    const updated = await notify.notify(anomaly("a2", "warning"));
    expect(updated).toMatchObject({
      status: "updated",
      thread_key: "anomaly-1",
      channel: posted.channel,
      ts: (posted as { ts: string }).ts,
    });
    const rose = await notify.notify(anomaly("a3", "critical"));
    expect(rose.status).toBe("posted");
    const lower = await notify.notify(anomaly("a4", "info"));
    expect(lower).toMatchObject({ status: "updated", ts: (rose as { ts: string }).ts });
    expect(calls.map((c) => c.op)).toEqual(["post", "update", "post", "update"]);
  });

  it("posts anew when the thread's message is gone", async () => {
    const log = createMemoryAlertLog();
    const gone = new NotifierError("message", "gone", { reason: "message_not_found" });
    const { notify, calls } = setup({ C0GONE000: gone }, log);
    await log.record({
      idempotency_key: "a1",
      thread_key: "anomaly-1",
      kind: "aws.anomaly",
      severity: "warning",
      scope: {},
      channel: "C0GONE000",
      ts: "1700000000.000001",
      action: "posted",
      delivered_at: new Date("2026-11-20T09:00:00Z"),
    });
    expect((await notify.notify(anomaly("a2", "warning"))).status).toBe("posted");
    expect(calls.map((c) => [c.op, c.channel])).toEqual([
      ["update", "C0GONE000"],
      ["post", "#team-nlp-team-alerts"],
    ]);
  });

  it("rethrows transient failures for the bus to retry", async () => {
    const { notify } = setup({
      "#team-nlp-team-alerts": new NotifierError("rate_limited", "429", { retryAfterSeconds: 30 }),
    });
    const error = await notify.notify(alertOf()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "rate_limited", retryable: true, retryAfterSeconds: 30 });
  });

  it("does not throw after posting when only the record fails (a retry would post twice)", async () => {
    const log = createMemoryAlertLog();
    const broken: AlertLog = {
      ...log,
      record: async () => Promise.reject(new AlertLogError("unavailable", "disk")),
    };
    const { notify, logs } = setup({}, broken);
    expect(await notify.notify(alertOf())).toMatchObject({ status: "posted", recorded: false });
    expect(logs.map(([m]) => m)).toContain(
      "alert delivered but not recorded; a later redelivery could post it again",
    );
  });

  it("acknowledges a poison message with the field at fault", async () => {
    const { notify, calls, logs } = setup();
    expect(await notify.notifyMessage("{not json")).toMatchObject({ status: "rejected", field: "body" });
    const bad = JSON.stringify({ ...JSON.parse(alertToJson(alertOf())), severity: "panic" });
    expect(await notify.notifyMessage(Buffer.from(bad))).toMatchObject({
      status: "rejected",
      field: "severity",
    });
    expect(await notify.notifyMessage(alertToJson(alertOf()))).toMatchObject({ status: "posted" });
    expect(calls).toHaveLength(1);
    expect(logs.filter(([m]) => m === "poison alert acknowledged and dropped")).toHaveLength(2);
  });
});
