import { z } from "zod";

/**
 * An Amazon SNS HTTP/S delivery (the JSON body SNS POSTs, whatever its Content-Type says), and the
 * canonical string its signature covers.
 */
export const SNS_MESSAGE_TYPES = [
  "Notification",
  "SubscriptionConfirmation",
  "UnsubscribeConfirmation",
] as const;
export type SnsMessageType = (typeof SNS_MESSAGE_TYPES)[number];

const text = z.string().min(1, "must not be empty");

export const snsMessageSchema = z
  .object({
    Type: z.enum(SNS_MESSAGE_TYPES),
    MessageId: text.max(256),
    TopicArn: text.max(1024),
    Message: z.string().max(262_144),
    Timestamp: z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" }),
    SignatureVersion: z.enum(["1", "2"], { message: 'must be "1" (SHA1withRSA) or "2" (SHA256withRSA)' }),
    Signature: text.max(4096),
    SigningCertURL: text.max(2048),
    Subject: z.string().max(100).optional(),
    UnsubscribeURL: z.string().max(2048).optional(),
    Token: text.max(2048).optional(),
    SubscribeURL: text.max(4096).optional(),
    MessageAttributes: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((message, ctx) => {
    if (message.Type === "Notification") return;
    for (const field of ["Token", "SubscribeURL"] as const) {
      if (message[field] === undefined) {
        ctx.addIssue({ code: "custom", path: [field], message: `required for ${message.Type}` });
      }
    }
  });

export type SnsMessage = z.output<typeof snsMessageSchema>;

export type SnsParseResult = { ok: true; message: SnsMessage } | { ok: false; field: string; reason: string };

/** Parses a delivery body (text or bytes, JSON whatever the content type) into an SNS message. */
export function parseSnsMessage(body: string | Buffer): SnsParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof body === "string" ? body : body.toString("utf8"));
  } catch (error) {
    return { ok: false, field: "body", reason: `body: not JSON (${(error as Error).message})` };
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { ok: false, field: "body", reason: "body: must be a JSON object" };
  }
  const parsed = snsMessageSchema.safeParse(raw);
  if (parsed.success) return { ok: true, message: parsed.data };
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String).join(".") || "body";
  return { ok: false, field, reason: `${field}: ${issue?.message ?? "invalid"}` };
}

const NOTIFICATION_KEYS = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"] as const;
const CONFIRMATION_KEYS = [
  "Message",
  "MessageId",
  "SubscribeURL",
  "Timestamp",
  "Token",
  "TopicArn",
  "Type",
] as const;

/**
 * The string SNS signs: "Key\nValue\n" for each of the type's keys in byte order, skipping absent
 * ones (a Notification's Subject), values as JSON-decoded.
 */
export function stringToSign(message: SnsMessage): string {
  const keys = message.Type === "Notification" ? NOTIFICATION_KEYS : CONFIRMATION_KEYS;
  let out = "";
  for (const key of keys) {
    const value = message[key];
    if (value !== undefined) out += `${key}\n${value}\n`;
  }
  return out;
}

/** The region and partition of an SNS topic ARN (arn:aws:sns:us-west-2:123456789012:MyTopic), or undefined. */
export function topicArnParts(arn: string): { partition: string; region: string } | undefined {
  const m = /^arn:(aws(?:-[a-z]+)*):sns:([a-z0-9-]+):\d{12}:[\w.-]{1,256}$/.exec(arn);
  return m ? { partition: m[1] as string, region: m[2] as string } : undefined;
}
