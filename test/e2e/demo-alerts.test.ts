import { afterAll, describe, expect, it } from "vitest";
import { readEnv } from "#runtime/env.ts";
import { runDemoWithAlerts } from "../../bin/commands/demo-alerts.ts";
import { opensslAvailable } from "../fixtures/aws-sns/sns-signing.ts";
import { type FakeSlack, startFakeSlack } from "../fixtures/slack/fake-slack-server.ts";
import { tempDuckDb } from "../support/local-stack-session.ts";

const HAS_OPENSSL = opensslAvailable();
const db = tempDuckDb("finops-demo-alerts-");
let slack: FakeSlack | undefined;

afterAll(async () => {
  await slack?.close();
  db.remove();
});

describe("finops demo: the alerts, through the same functions and bus as production", () => {
  it("posts each budget threshold once, routes a replayed GCP notification once, a signed anomaly and not a forged one", async () => {
    // Prepare: a local Slack stand-in, the environment passed explicitly.
    slack = await startFakeSlack();
    const env = readEnv({
      FINOPS_DUCKDB_PATH: db.path,
      FINOPS_LOG_LEVEL: "error",
      SLACK_BOT_TOKEN: "xoxb-demo-test",
      SLACK_API_URL: slack.url,
    });
    let printed = "";

    // Act
    const { session, summary } = await runDemoWithAlerts({
      port: 0,
      hours: 6,
      seed: "e2e-demo-alerts",
      out: { write: (text: string) => (printed += text) },
      env,
    });
    await session.close();

    // Assert: three budgets past 50%, 80% and 100%: 1 + 2 + 3 thresholds claimed, one message per
    // budget (for its highest threshold, naming the others), each posted once.
    expect(summary.budgets.count).toBe(3);
    const keys = summary.budgets.firstRun;
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.map((k) => k.replace(/^budget:[^:]+:[^:]+:/, "")).sort()).toEqual(["100", "50", "80"].sort());
    expect(summary.budgets.secondRun).toBe(0);
    expect(summary.budgets.alreadySent).toBe(6);
    expect(summary.gcp).toEqual({ statuses: [204, 204], routed: 1 });
    const posts = slack.requests.filter((r) => r.method === "chat.postMessage");
    const texts = posts.map((p) => JSON.stringify(p.form));
    for (const key of keys) expect(texts.filter((t) => t.includes(key))).toHaveLength(1);
    expect(texts.filter((t) => t.includes("de72f49d-779b-4945-a127-4d6ce8def0bb"))).toHaveLength(1);
    expect(printed).toContain("the re-run posted none");
    if (!HAS_OPENSSL) {
      console.warn("openssl not found: the signed and forged SNS anomaly part of the demo is skipped");
      expect(summary.aws).toHaveProperty("skipped");
      expect(posts).toHaveLength(4);
      return;
    }
    expect(summary.aws).toMatchObject({
      signed: { status: 200, outcome: "alerted" },
      forged: { status: 403, outcome: "forged" },
      routed: 1,
    });
    expect(texts.filter((t) => t.includes("12345678-abcd-ef12-3456-987654321a12"))).toHaveLength(1);
    expect(posts).toHaveLength(5);
  }, 60_000);
});
