import { readFileSync } from "node:fs";
import type { Budget } from "#domain/budgets/budget-config.ts";
import { formatMoney } from "#domain/budgets/evaluate-budget.ts";
import { demoBudgetRange, demoBudgets } from "#domain/demo/demo-budgets.ts";
import { DEMO_GATEWAY_DEPLOYMENT } from "#domain/demo/gateway-traffic.ts";
import type { Nanos } from "#domain/money.ts";
import { TOPICS } from "#ports/bus.ts";
import { type Env, readEnv } from "#runtime/env.ts";
import { type DemoAnomaliesSummary, demoAnomalyAlerts } from "./demo-anomalies.ts";
import {
  DEMO_TOPIC_ARN,
  type DemoSnsSigner,
  demoAwsAnomaliesSettings,
  demoCertificateFetch,
  forgedCopy,
  makeDemoSigner,
  opensslAvailable,
  signedAnomalyNotification,
} from "./demo-sns.ts";
import {
  type DemoOut,
  type LocalSession,
  openLocalSession,
  runDemo,
  type SessionOverrides,
} from "./local-session.ts";

/**
 * The alerting half of the demo, through the same functions and bus as production: budgets
 * evaluated twice (POST /evaluateBudgets), a real GCP budget notification replayed
 * (POST /events/routeGcpBudget), a signed and a forged SNS anomaly (POST /routeAwsAnomaly), and
 * detectAnomalies on the demo's inference spike and runaway job (POST /detectAnomalies).
 * Alerts reach notifySlack through the alerts topic; a watch subscription counts what was published.
 */

const GCP_FIXTURES = new URL("../../test/fixtures/gcp-budget/", import.meta.url);

export interface DemoAlertsSummary {
  budgets: { count: number; firstRun: string[]; secondRun: number; alreadySent: number };
  gcp: { statuses: number[]; routed: number };
  aws:
    | { skipped: string }
    | {
        signed: { status: number; outcome: string };
        forged: { status: number; outcome: string };
        routed: number;
      };
  anomalies: DemoAnomaliesSummary;
  /** Messages the console notifier posted (its JSONL file), when no Slack token is set. */
  posted?: number;
}

interface Watch {
  alerts: { kind: string; key: string }[];
  close(): Promise<void>;
}

async function watchAlerts(session: LocalSession): Promise<Watch> {
  const alerts: Watch["alerts"] = [];
  const subscription = await session.runtime.bus.subscribe(TOPICS.alerts, "demo-alerts-watch", async (m) => {
    alerts.push({ kind: m.attributes.kind ?? "", key: m.attributes.idempotency_key ?? "" });
  });
  return { alerts, close: () => subscription.close() };
}

const drain = (session: LocalSession) => (session.runtime.bus as { drain?: () => Promise<void> }).drain?.();

function countPosts(file: string): number {
  try {
    return readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line.includes('"action":"post"')).length;
  } catch {
    return 0;
  }
}

async function spendByTeam(session: LocalSession): Promise<Map<string, Nanos>> {
  const range = demoBudgetRange(session.runtime.clock.now());
  // Sized from what the evaluation will judge: the rollup.
  const rows = await session.runtime.warehouse.report({ by: ["team"], ...range, reads: "rollup" });
  const spend = new Map<string, Nanos>();
  for (const row of rows) {
    if (row.currency !== "USD") continue;
    const team = row.group.team ?? "";
    spend.set(team, (spend.get(team) ?? 0n) + row.cost_nanos);
  }
  return spend;
}

function printBudgets(out: DemoOut, budgets: readonly Budget[], spend: Map<string, Nanos>): void {
  out.write("\nDemo budgets (the configuration has none): monthly, sized from this month's spend so far\n");
  for (const b of budgets) {
    const used = spend.get(b.owner) ?? 0n;
    const percent = Number((used * 1000n) / b.amount_nanos) / 10;
    out.write(
      `  ${b.name.padEnd(34)} ${formatMoney(b.amount_nanos, b.currency).padStart(12)}   spent ${formatMoney(used, b.currency)} (${percent.toFixed(1)}%)\n`,
    );
  }
}

async function evaluate(session: LocalSession) {
  const res = await session.stack.trigger("evaluateBudgets");
  if (!res.ok) throw new Error(`evaluateBudgets answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { budgets: number; published: { key: string }[]; already_sent: number };
}

async function budgetAlerts(session: LocalSession, out: DemoOut): Promise<DemoAlertsSummary["budgets"]> {
  out.write("\nBudget alerts (POST /evaluateBudgets, then the alerts topic to notifySlack)\n");
  const first = await evaluate(session);
  await drain(session);
  const second = await evaluate(session);
  await drain(session);
  const summary = {
    count: first.budgets,
    firstRun: first.published.map((p) => p.key),
    secondRun: second.published.length,
    alreadySent: second.already_sent,
  };
  out.write(
    `  first evaluation: ${summary.firstRun.length} alerts published${summary.firstRun.length === 0 ? " (already sent this period by an earlier run)" : ""}\n` +
      `  second evaluation: ${summary.secondRun} published, ${summary.alreadySent} already sent: the re-run posted none\n`,
  );
  return summary;
}

function gcpBudgetEvent() {
  const data = readFileSync(new URL("budget-notification-data.docs-sample.json", GCP_FIXTURES));
  const envelope = JSON.parse(
    readFileSync(new URL("pubsub-push-budget.CONSTRUCTED.json", GCP_FIXTURES), "utf8"),
  );
  const message = { ...envelope.message, data: data.toString("base64") };
  return {
    specversion: "1.0",
    id: message.messageId,
    source: "//pubsub.googleapis.com/projects/demo/topics/gcp-budget-notifications",
    type: "google.cloud.pubsub.topic.v1.messagePublished",
    time: message.publishTime,
    datacontenttype: "application/json",
    data: { message, subscription: envelope.subscription },
  };
}

async function replayGcpBudget(session: LocalSession, out: DemoOut, watch: Watch) {
  out.write("\nA Cloud Billing budget notification, delivered twice (POST /events/routeGcpBudget)\n");
  const body = JSON.stringify(gcpBudgetEvent());
  const statuses: number[] = [];
  for (let i = 0; i < 2; i += 1) {
    const res = await fetch(`${session.stack.url}/events/routeGcpBudget`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json" },
      body,
    });
    await res.arrayBuffer();
    statuses.push(res.status);
    await drain(session);
  }
  const routed = watch.alerts.filter((a) => a.kind === "gcp.budget").length;
  out.write(`  delivery answers: ${statuses.join(", ")}; routed ${routed} alert${routed === 1 ? "" : "s"}`);
  out.write(routed === 0 ? " (this threshold was routed by an earlier run)\n" : "; the replay routed none\n");
  return { statuses, routed };
}

async function postSns(session: LocalSession, message: object) {
  const res = await fetch(`${session.stack.url}/routeAwsAnomaly`, {
    method: "POST",
    headers: {
      "content-type": "text/plain; charset=UTF-8",
      "x-amz-sns-message-type": "Notification",
      "x-amz-sns-topic-arn": DEMO_TOPIC_ARN,
    },
    body: JSON.stringify(message),
  });
  const body = (await res.json()) as { outcome: string; detail?: string };
  await drain(session);
  return { status: res.status, outcome: body.outcome, detail: body.detail };
}

async function awsAnomaly(
  session: LocalSession,
  out: DemoOut,
  watch: Watch,
  signer: DemoSnsSigner | undefined,
): Promise<DemoAlertsSummary["aws"]> {
  out.write(`\nAWS Cost Anomaly Detection through SNS (POST /routeAwsAnomaly, topic ${DEMO_TOPIC_ARN})\n`);
  if (!signer) {
    const skipped = "skipped: openssl not found (the demo makes its SNS signing certificate with openssl)";
    out.write(`  ${skipped}\n`);
    return { skipped };
  }
  const signed = signedAnomalyNotification(signer, session.runtime.clock.now());
  const genuine = await postSns(session, signed);
  out.write(
    `  signed notification: ${genuine.status} ${genuine.outcome}${genuine.detail ? ` (${genuine.detail})` : ""}\n`,
  );
  const forged = await postSns(session, forgedCopy(signed));
  out.write(
    `  forged copy (signature altered): ${forged.status} ${forged.outcome}: ${forged.detail ?? ""}\n`,
  );
  const routed = watch.alerts.filter((a) => a.kind === "aws.anomaly").length;
  out.write(`  routed ${routed} alert${routed === 1 ? "" : "s"}; the forged copy none\n`);
  return { signed: genuine, forged, routed };
}

/**
 * Streams the demo org (runDemo), then — with the synthetic org's budgets when the configuration has
 * none, sized from the spend just ingested, so the runtime is composed again with them — shows the
 * alerts. Returns the open session (for `start`) and what happened.
 */
export async function runDemoWithAlerts(options: {
  port: number;
  hours: number;
  seed: string;
  out: DemoOut;
  env?: Env;
}): Promise<{ session: LocalSession; summary: DemoAlertsSummary }> {
  const { out } = options;
  const env = options.env ?? readEnv();
  const signer = opensslAvailable() ? makeDemoSigner() : undefined;
  const overrides: SessionOverrides = {
    env,
    extraDeployments: [DEMO_GATEWAY_DEPLOYMENT],
    ...(signer
      ? {
          awsAnomalies: demoAwsAnomaliesSettings(),
          certificateFetch: demoCertificateFetch(signer.certificatePem),
        }
      : {}),
  };
  let session = await openLocalSession(options.port, overrides);
  try {
    await runDemo(session, options);
    if (session.runtime.config.budgets.length === 0) {
      const spend = await spendByTeam(session);
      const budgets = demoBudgets(spend);
      await session.close();
      session = await openLocalSession(options.port, { ...overrides, budgets });
      printBudgets(out, budgets, spend);
    }
    const file = session.runtime.config.alerts.consoleFile;
    const postsBefore = env.SLACK_BOT_TOKEN ? undefined : countPosts(file);
    const watch = await watchAlerts(session);
    const budgets = await budgetAlerts(session, out);
    const gcp = await replayGcpBudget(session, out, watch);
    const aws = await awsAnomaly(session, out, watch, signer);
    const anomalies = await demoAnomalyAlerts(session, out, options.hours);
    await watch.close();
    const summary: DemoAlertsSummary = { budgets, gcp, aws, anomalies };
    if (postsBefore !== undefined) {
      summary.posted = countPosts(file) - postsBefore;
      out.write(`\nnotifySlack posted ${summary.posted} messages to the console and ${file}\n`);
    } else {
      out.write("\nnotifySlack posted the alerts to Slack (SLACK_BOT_TOKEN is set)\n");
    }
    return { session, summary };
  } catch (error) {
    await session.close();
    throw error;
  }
}
