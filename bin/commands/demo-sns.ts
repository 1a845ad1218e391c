import { spawnSync } from "node:child_process";
import { createSign, generateKeyPairSync, type KeyObject, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AwsAnomaliesSettings,
  awsAnomaliesSettingsSchema,
} from "#domain/aws-anomaly/aws-anomaly-settings.ts";
import { type SnsMessage, stringToSign } from "#domain/sns/sns-message.ts";

/**
 * The demo's stand-in for AWS's side of SNS: a key and a certificate made with `openssl` at start,
 * a topic the demo's configuration trusts, a certificate fetch that serves that certificate for the
 * demo's SigningCertURL (an SNS host, as the router requires), and a signer. Demo-only plumbing.
 */

export const DEMO_TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:finops-demo-cost-anomalies";
export const DEMO_CERT_URL =
  "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-finops-demo0000000000000.pem";

const ANOMALY_FIXTURE = new URL("../../test/fixtures/aws-anomaly/sns-message-anomaly.json", import.meta.url);

export interface DemoSnsSigner {
  certificatePem: string;
  privateKey: KeyObject;
}

export function opensslAvailable(): boolean {
  return spawnSync("openssl", ["version"], { stdio: "ignore" }).status === 0;
}

/** An RSA key and a self-signed certificate for it (node:crypto cannot build one; openssl can). */
export function makeDemoSigner(): DemoSnsSigner {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const dir = mkdtempSync(join(tmpdir(), "finops-demo-sns-"));
  try {
    const keyFile = join(dir, "key.pem");
    const certFile = join(dir, "cert.pem");
    writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }));
    const args = ["req", "-x509", "-new", "-key", keyFile, "-subj", "/CN=sns.amazonaws.com", "-days", "2"];
    const run = spawnSync("openssl", [...args, "-out", certFile], { encoding: "utf8" });
    if (run.status !== 0) throw new Error(`openssl req failed: ${run.stderr}`);
    return { privateKey, certificatePem: readFileSync(certFile, "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Serves the demo certificate at DEMO_CERT_URL; anything else is not found. */
export function demoCertificateFetch(certificatePem: string): typeof globalThis.fetch {
  return async (input) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    return url === DEMO_CERT_URL
      ? new Response(certificatePem, { status: 200 })
      : new Response("not found", { status: 404 });
  };
}

/** The awsAnomalies settings of the demo: its topic only, the platform team owning what nothing maps. */
export function demoAwsAnomaliesSettings(): AwsAnomaliesSettings {
  return awsAnomaliesSettingsSchema.parse({ topicArns: [DEMO_TOPIC_ARN], fallbackTeam: "ml-platform" });
}

/** The real anomaly message (test/fixtures/aws-anomaly) as a fresh SNS notification, signed (SignatureVersion 2). */
export function signedAnomalyNotification(signer: DemoSnsSigner, now: Date): SnsMessage {
  const unsigned: SnsMessage = {
    Type: "Notification",
    MessageId: randomUUID(),
    TopicArn: DEMO_TOPIC_ARN,
    Subject: "AWS Cost Anomaly Detection alert",
    Message: readFileSync(ANOMALY_FIXTURE, "utf8"),
    Timestamp: now.toISOString(),
    SignatureVersion: "2",
    Signature: "-",
    SigningCertURL: DEMO_CERT_URL,
  };
  const signature = createSign("RSA-SHA256").update(stringToSign(unsigned), "utf8").sign(signer.privateKey);
  return { ...unsigned, Signature: signature.toString("base64") };
}

/** The same notification with one bit of its signature flipped. */
export function forgedCopy(message: SnsMessage): SnsMessage {
  const signature = Buffer.from(message.Signature, "base64");
  signature[0] = (signature[0] ?? 0) ^ 1;
  return { ...message, Signature: signature.toString("base64") };
}
