import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getTestServer } from "@google-cloud/functions-framework/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemorySeenStore } from "#adapters/memory-seen-store/memory-seen-store.ts";
import {
  createRouteAwsAnomaly,
  isSubscribeUrlFor,
  type RouteAwsAnomalyRuntime,
} from "#app/route-aws-anomaly.ts";
import { type Alert, parseAlert } from "#domain/alerts/alert.ts";
import { awsAnomaliesSettingsSchema } from "#domain/aws-anomaly/aws-anomaly-settings.ts";
import type { Bus, BusMessage } from "#ports/bus.ts";
import { TOPICS } from "#ports/bus.ts";
import { BusError } from "#ports/bus-error.ts";
import { fixedClock } from "#ports/clock.ts";
import { type Runtime, setRuntime } from "#runtime/runtime.ts";
import {
  CERT_URL,
  fakeAwsFetch,
  makeSigningIdentity,
  opensslAvailable,
  type SigningIdentity,
  type SnsBody,
  signSns,
} from "../fixtures/aws-sns/sns-signing.ts";

const HAS_OPENSSL = opensslAvailable();
if (!HAS_OPENSSL) {
  console.warn("route-aws-anomaly: `openssl` not found, skipped (the test certificate is made with it)");
}

const TOPIC = "arn:aws:sns:us-west-2:123456789012:MyTopic";
const OTHER_TOPIC = "arn:aws:sns:us-west-2:123456789012:SomeoneElses";
/** A minute ahead of the wall clock: the test certificate, made in beforeAll, is valid by then. */
const NOW = new Date(Date.now() + 60_000);
const read = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), "utf8");
const NOTIFICATION = JSON.parse(read("aws-sns/notification.json")) as SnsBody;
const CONFIRMATION = JSON.parse(read("aws-sns/subscription-confirmation.json")) as SnsBody;
const UNSUBSCRIBE = JSON.parse(read("aws-sns/unsubscribe-confirmation.json")) as SnsBody;
const ANOMALY = read("aws-anomaly/sns-message-anomaly.json");
const ANOMALY_MINIMAL = read("aws-anomaly/sns-message-anomaly-minimal-rootcause.json");

let serial = 0;
/** The fixture envelope with a fresh MessageId and Timestamp, carrying `Message`. */
function fresh(base: SnsBody, fields: SnsBody = {}): SnsBody {
  serial += 1;
  return {
    ...base,
    MessageId: `${base.MessageId?.slice(0, -4)}${String(serial).padStart(4, "0")}`,
    Timestamp: new Date(NOW.getTime() - 60_000).toISOString(),
    ...fields,
  };
}

function withImpact(anomaly: string, totalImpact: number): string {
  const raw = JSON.parse(anomaly) as { impact: Record<string, number> };
  return JSON.stringify({ ...raw, impact: { ...raw.impact, totalImpact } });
}

function recordingBus() {
  const published: BusMessage[] = [];
  let failing = false;
  const bus: Bus = {
    async publish(topic, messages) {
      if (failing) throw new BusError("unavailable", "publish: deadline exceeded");
      if (topic === TOPICS.alerts) published.push(...messages);
      return messages.map(() => "id");
    },
    async subscribe() {
      throw new Error("not used");
    },
    async close() {},
  };
  const alerts = (): Alert[] =>
    published.map((m) => {
      const parsed = parseAlert(JSON.parse(m.data.toString("utf8")));
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.alert;
    });
  return { bus, alerts, failWith: (state: boolean) => (failing = state) };
}

describe.skipIf(!HAS_OPENSSL)("routeAwsAnomaly (SNS HTTP/S, signed with a test certificate)", () => {
  let identity: SigningIdentity;

  beforeAll(() => {
    identity = makeSigningIdentity();
  });

  function setup() {
    const aws = fakeAwsFetch({ [CERT_URL]: identity.certificatePem });
    const recorder = recordingBus();
    const route = createRouteAwsAnomaly({
      bus: recorder.bus,
      seen: createMemorySeenStore(),
      clock: fixedClock(NOW),
      settings: awsAnomaliesSettingsSchema.parse({ topicArns: [TOPIC] }),
      fetch: aws.fetch,
    });
    const deliver = (body: SnsBody | string, headers: Record<string, string> = {}) =>
      route.handle({ body: typeof body === "string" ? body : JSON.stringify(body), headers });
    const sign = (body: SnsBody, version: "1" | "2" = "1") => signSns(body, identity.privateKey, { version });
    return { ...recorder, aws, route, deliver, sign };
  }

  it("accepts an anomaly notification signed with SignatureVersion 1 and 2, one alert each", async () => {
    const { deliver, sign, alerts } = setup();
    const v1 = await deliver(sign(fresh(NOTIFICATION, { Message: ANOMALY }), "1"), {
      "x-amz-sns-message-type": "Notification",
      "x-amz-sns-topic-arn": TOPIC,
    });
    expect(v1).toMatchObject({ status: 200, body: { outcome: "alerted" } });
    const v2 = await deliver(sign(fresh(NOTIFICATION, { Message: withImpact(ANOMALY_MINIMAL, 1500) }), "2"));
    expect(v2).toMatchObject({ status: 200, body: { outcome: "alerted" } });
    expect(alerts().map((a) => [a.idempotency_key, a.thread_key, a.severity])).toEqual([
      [
        "aws-anomaly:12345678-abcd-ef12-3456-987654321a12:critical:1001000000000",
        "aws-anomaly:12345678-abcd-ef12-3456-987654321a12",
        "critical",
      ],
      [
        "aws-anomaly:12345678-abcd-ef12-3456-987654321a12:critical:1500000000000",
        "aws-anomaly:12345678-abcd-ef12-3456-987654321a12",
        "critical",
      ],
    ]);
  });

  it("alerts again on the same anomaly only as its impact grows, on one thread", async () => {
    const { deliver, sign, alerts } = setup();
    const answers = [];
    for (const impact of [150, 150, 120, 400, 1200]) {
      answers.push(
        (await deliver(sign(fresh(NOTIFICATION, { Message: withImpact(ANOMALY, impact) })))).body.outcome,
      );
    }
    expect(answers).toEqual(["alerted", "unchanged", "unchanged", "alerted", "alerted"]);
    expect(alerts().map((a) => a.severity)).toEqual(["warning", "warning", "critical"]);
    expect(new Set(alerts().map((a) => a.thread_key)).size).toBe(1);
  });

  it("refuses a forged signature with 403 and no alert", async () => {
    const { deliver, sign, alerts } = setup();
    const signed = sign(fresh(NOTIFICATION, { Message: ANOMALY }));
    const forged = { ...signed, Message: withImpact(ANOMALY, 99_999) };
    expect(await deliver(forged)).toMatchObject({ status: 403, body: { outcome: "forged" } });
    const docs = fresh(NOTIFICATION, { Message: ANOMALY, SigningCertURL: CERT_URL });
    expect(await deliver(docs)).toMatchObject({ status: 403, body: { outcome: "forged" } });
    expect(alerts()).toEqual([]);
  });

  it("refuses an unsigned message with 400 and no alert", async () => {
    const { deliver, alerts } = setup();
    const { Signature: _s, ...unsigned } = fresh(NOTIFICATION, { Message: ANOMALY });
    expect(await deliver(unsigned)).toMatchObject({ status: 400, body: { outcome: "unsigned" } });
    expect(await deliver("not json")).toMatchObject({ status: 400, body: { outcome: "malformed" } });
    expect(alerts()).toEqual([]);
  });

  it("refuses a message from another topic with 403, before fetching anything", async () => {
    const { deliver, sign, alerts, aws } = setup();
    const other = sign(fresh(NOTIFICATION, { Message: ANOMALY, TopicArn: OTHER_TOPIC }));
    expect(await deliver(other)).toMatchObject({ status: 403, body: { outcome: "other_topic" } });
    const mismatch = sign(fresh(NOTIFICATION, { Message: ANOMALY }));
    expect(await deliver(mismatch, { "x-amz-sns-topic-arn": OTHER_TOPIC })).toMatchObject({ status: 400 });
    expect(alerts()).toEqual([]);
    expect(aws.calls).toEqual([]);
  });

  it("refuses a stale message (older than maxAgeSeconds) and one from the future", async () => {
    const { deliver, sign, alerts } = setup();
    const old = new Date(NOW.getTime() - 3601_000).toISOString();
    expect(await deliver(sign(fresh(NOTIFICATION, { Message: ANOMALY, Timestamp: old })))).toMatchObject({
      status: 403,
      body: { outcome: "stale" },
    });
    const ahead = new Date(NOW.getTime() + 3600_000).toISOString();
    expect(await deliver(sign(fresh(NOTIFICATION, { Message: ANOMALY, Timestamp: ahead })))).toMatchObject({
      status: 403,
    });
    const fixtureTime = sign({ ...NOTIFICATION, Message: ANOMALY });
    expect(await deliver(fixtureTime)).toMatchObject({ status: 403, body: { outcome: "stale" } });
    expect(alerts()).toEqual([]);
  });

  it("refuses a replayed MessageId with 409 and no second alert", async () => {
    const { deliver, sign, alerts } = setup();
    const signed = sign(fresh(NOTIFICATION, { Message: ANOMALY }));
    expect((await deliver(signed)).status).toBe(200);
    expect(await deliver(signed)).toMatchObject({ status: 409, body: { outcome: "replayed" } });
    expect(alerts()).toHaveLength(1);
  });

  it("refuses a certificate URL off the SNS hosts with 403 without fetching it", async () => {
    const { deliver, aws, alerts } = setup();
    for (const certUrl of ["https://evil.example/cert.pem", "http://sns.us-west-2.amazonaws.com/cert.pem"]) {
      const body = signSns(fresh(NOTIFICATION, { Message: ANOMALY }), identity.privateKey, { certUrl });
      expect(await deliver(body)).toMatchObject({ status: 403, body: { outcome: "bad_cert_url" } });
    }
    expect(aws.calls).toEqual([]);
    expect(alerts()).toEqual([]);
  });

  it("fails closed with 503 when the certificate cannot be fetched, and takes SNS's retry", async () => {
    const { deliver, sign, aws, alerts } = setup();
    const signed = sign(fresh(NOTIFICATION, { Message: ANOMALY }));
    aws.failWith(true);
    const answer = await deliver(signed);
    expect(answer).toMatchObject({
      status: 503,
      headers: { "Retry-After": "30" },
      body: { outcome: "unavailable" },
    });
    expect(alerts()).toEqual([]);
    aws.failWith(false);
    expect(await deliver(signed)).toMatchObject({ status: 200, body: { outcome: "alerted" } });
  });

  it("answers 503 when the alert cannot be published, and alerts on SNS's retry of the same MessageId", async () => {
    const { deliver, sign, alerts, failWith } = setup();
    const signed = sign(fresh(NOTIFICATION, { Message: ANOMALY }));
    failWith(true);
    expect((await deliver(signed)).status).toBe(503);
    failWith(false);
    expect((await deliver(signed)).status).toBe(200);
    expect(alerts()).toHaveLength(1);
  });

  it("confirms a subscription only for a configured topic, by GETting the validated SubscribeURL", async () => {
    const { deliver, sign, aws } = setup();
    const confirmed = await deliver(sign(fresh(CONFIRMATION), "2"), {
      "x-amz-sns-message-type": "SubscriptionConfirmation",
    });
    expect(confirmed).toMatchObject({ status: 200, body: { outcome: "confirmed" } });
    expect(aws.calls).toEqual([CERT_URL, CONFIRMATION.SubscribeURL]);

    const other = fresh(CONFIRMATION, {
      TopicArn: OTHER_TOPIC,
      SubscribeURL: (CONFIRMATION.SubscribeURL as string).replace("MyTopic", "SomeoneElses"),
    });
    expect(await deliver(sign(other))).toMatchObject({ status: 403, body: { outcome: "other_topic" } });
    const evil = fresh(CONFIRMATION, { SubscribeURL: "https://evil.example/?Action=ConfirmSubscription" });
    expect(await deliver(sign(evil))).toMatchObject({ status: 403, body: { outcome: "bad_subscribe_url" } });
    const forged = { ...sign(fresh(CONFIRMATION)), Token: "0000" };
    expect(await deliver(forged)).toMatchObject({ status: 403, body: { outcome: "forged" } });
    expect(aws.calls.filter((u) => u.includes("ConfirmSubscription"))).toEqual([CONFIRMATION.SubscribeURL]);
  });

  it("verifies an UnsubscribeConfirmation and takes no action on it", async () => {
    const { deliver, sign, aws } = setup();
    expect(await deliver(sign(fresh(UNSUBSCRIBE)))).toMatchObject({
      status: 200,
      body: { outcome: "unsubscribed" },
    });
    expect(aws.calls).toEqual([CERT_URL]);
  });

  it("answers 422 for an authentic notification that is not a cost anomaly (the docs' Hello world!)", async () => {
    const { deliver, sign, alerts } = setup();
    expect(await deliver(sign(fresh(NOTIFICATION)))).toMatchObject({
      status: 422,
      body: { outcome: "ignored" },
    });
    expect(alerts()).toEqual([]);
  });

  it("fetches the certificate once for many messages", async () => {
    const { deliver, sign, aws } = setup();
    for (const impact of [200, 300, 400])
      await deliver(sign(fresh(NOTIFICATION, { Message: withImpact(ANOMALY, impact) })));
    expect(aws.calls).toEqual([CERT_URL]);
  });

  it("ties a SubscribeURL to the topic's own region and partition", () => {
    expect(isSubscribeUrlFor("https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription", TOPIC)).toBe(
      true,
    );
    expect(isSubscribeUrlFor("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription", TOPIC)).toBe(
      false,
    );
    expect(
      isSubscribeUrlFor(
        "https://sns.cn-north-1.amazonaws.com.cn/?x",
        "arn:aws-cn:sns:cn-north-1:123456789012:t",
      ),
    ).toBe(true);
  });
});

describe.skipIf(!HAS_OPENSSL)("routeAwsAnomaly function (Functions Framework, POST /routeAwsAnomaly)", () => {
  let server: Server;
  let url: string;
  let identity: SigningIdentity;
  const recorder = recordingBus();

  beforeAll(async () => {
    identity = makeSigningIdentity();
    const clock = fixedClock(NOW);
    // The function reads nothing else of the runtime.
    const runtime: RouteAwsAnomalyRuntime = {
      routeAwsAnomaly: createRouteAwsAnomaly({
        bus: recorder.bus,
        seen: createMemorySeenStore(),
        clock,
        settings: awsAnomaliesSettingsSchema.parse({ topicArns: [TOPIC] }),
        fetch: fakeAwsFetch({ [CERT_URL]: identity.certificatePem }).fetch,
      }),
    };
    setRuntime(runtime as Runtime);
    await import("../../functions/route-aws-anomaly/index.ts");
    server = getTestServer("routeAwsAnomaly");
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const post = (body: SnsBody) =>
    fetch(url, {
      method: "POST",
      // SNS's default: text/plain, whatever the body is.
      headers: { "content-type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "Notification" },
      body: JSON.stringify(body),
    });

  it("routes a signed anomaly and refuses a forged one", async () => {
    const signed = signSns(fresh(NOTIFICATION, { Message: ANOMALY }), identity.privateKey, { version: "2" });
    const ok = await post(signed);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ outcome: "alerted" });
    const forged = await post({
      ...signSns(fresh(NOTIFICATION, { Message: ANOMALY }), identity.privateKey),
      Subject: "x",
    });
    expect(forged.status).toBe(403);
    expect(recorder.alerts()).toHaveLength(1);
    expect((await fetch(url)).status).toBe(405);
  });
});
