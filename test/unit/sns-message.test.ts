import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseSnsMessage, stringToSign, topicArnParts } from "#domain/sns/sns-message.ts";

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/aws-sns/${name}`, import.meta.url), "utf8");

describe("SNS message", () => {
  it("parses the documented Notification, SubscriptionConfirmation and UnsubscribeConfirmation", () => {
    for (const name of [
      "notification.json",
      "subscription-confirmation.json",
      "unsubscribe-confirmation.json",
    ]) {
      const parsed = parseSnsMessage(fixture(name));
      expect(parsed.ok, name).toBe(true);
    }
    const note = parseSnsMessage(Buffer.from(fixture("notification.json")));
    expect(note.ok && note.message).toMatchObject({ Type: "Notification", Subject: "My First Message" });
  });

  it("builds the Notification string to sign in byte order, with Subject only when present", () => {
    const parsed = parseSnsMessage(fixture("notification.json"));
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(stringToSign(parsed.message)).toBe(
      "Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nSubject\nMy First Message\n" +
        "Timestamp\n2012-05-02T00:54:06.655Z\nTopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n",
    );
    const { Subject: _subject, ...rest } = parsed.message;
    expect(stringToSign(rest)).not.toContain("Subject");
  });

  it("signs a confirmation over SubscribeURL and Token, the Message's newline decoded", () => {
    const parsed = parseSnsMessage(fixture("subscription-confirmation.json"));
    if (!parsed.ok) throw new Error(parsed.reason);
    const text = stringToSign(parsed.message);
    expect(text.split("\n").filter((_, i) => i % 2 === 0 && i < 16)).toEqual([
      "Message",
      "To confirm the subscription, visit the SubscribeURL included in this message.",
      "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
      "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
      "2012-04-26T20:45:04.751Z",
      "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
      "arn:aws:sns:us-west-2:123456789012:MyTopic",
      "SubscriptionConfirmation",
    ]);
    expect(text.startsWith("Message\nYou have chosen to subscribe")).toBe(true);
  });

  it("names the missing or bad field", () => {
    const body = JSON.parse(fixture("subscription-confirmation.json")) as Record<string, unknown>;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...body, Signature: undefined }, "Signature"],
      [{ ...body, SignatureVersion: "3" }, "SignatureVersion"],
      [{ ...body, Token: undefined }, "Token"],
      [{ ...body, Timestamp: "yesterday" }, "Timestamp"],
      [{ ...body, Type: "Other" }, "Type"],
    ];
    for (const [raw, field] of cases) {
      const parsed = parseSnsMessage(JSON.stringify(raw));
      expect(parsed.ok ? "" : parsed.field).toBe(field);
    }
    expect(parseSnsMessage("{oops")).toMatchObject({ ok: false, field: "body" });
    expect(parseSnsMessage("[1]")).toMatchObject({ ok: false, field: "body" });
  });

  it("reads a topic ARN's partition and region", () => {
    expect(topicArnParts("arn:aws:sns:us-west-2:123456789012:MyTopic")).toEqual({
      partition: "aws",
      region: "us-west-2",
    });
    expect(topicArnParts("arn:aws-cn:sns:cn-north-1:123456789012:t")).toEqual({
      partition: "aws-cn",
      region: "cn-north-1",
    });
    expect(topicArnParts("arn:aws:sqs:us-west-2:123456789012:q")).toBeUndefined();
  });
});
