import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { parseSnsMessage, type SnsMessage } from "#domain/sns/sns-message.ts";
import {
  assertSigningCertUrl,
  assertSnsSignature,
  createSnsCertificateCache,
  isSnsUrl,
  SnsVerificationError,
} from "#domain/sns/sns-signature.ts";
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
if (!HAS_OPENSSL)
  console.warn(
    "sns-signature: `openssl` not found, signature tests are skipped (they need a test certificate)",
  );

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/aws-sns/${name}`, import.meta.url), "utf8")) as SnsBody;

function parsed(body: SnsBody): SnsMessage {
  const result = parseSnsMessage(JSON.stringify(body));
  if (!result.ok) throw new Error(result.reason);
  return result.message;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SnsVerificationError) return error.code;
    throw error;
  }
  return "accepted";
}

describe("SigningCertURL validation", () => {
  it("takes only https .pem URLs on sns.<region>.amazonaws.com(.cn)", () => {
    const good = [
      CERT_URL,
      "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
      "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem",
    ];
    for (const url of good) expect(() => assertSigningCertUrl(url), url).not.toThrow();
    const bad = [
      "http://sns.us-west-2.amazonaws.com/x.pem",
      "https://sns.us-west-2.amazonaws.com.evil.example/x.pem",
      "https://evil.example/sns.us-west-2.amazonaws.com/x.pem",
      "https://sns.us-west-2.amazonaws.com/x.txt",
      "https://sns.us-west-2.amazonaws.com:8443/x.pem",
      "https://user@sns.us-west-2.amazonaws.com/x.pem",
      "https://s3.amazonaws.com/x.pem",
      "https://sns.a.amazonaws.com/x.pem",
      "not a url",
    ];
    for (const url of bad) {
      expect(() => assertSigningCertUrl(url), url).toThrow(SnsVerificationError);
    }
    expect(isSnsUrl("https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription")).toBe(true);
  });
});

describe.skipIf(!HAS_OPENSSL)("SNS signatures (test key and certificate made here)", () => {
  let identity: SigningIdentity;
  const now = () => new Date();

  beforeAll(() => {
    identity = makeSigningIdentity();
  });

  it("verifies SignatureVersion 1 (SHA1withRSA) and 2 (SHA256withRSA) over every message type", async () => {
    const aws = fakeAwsFetch({ [CERT_URL]: identity.certificatePem });
    const cache = createSnsCertificateCache({ fetch: aws.fetch });
    for (const name of [
      "notification.json",
      "subscription-confirmation.json",
      "unsubscribe-confirmation.json",
    ]) {
      for (const version of ["1", "2"] as const) {
        const message = parsed(signSns(fixture(name), identity.privateKey, { version }));
        expect(await refusal(assertSnsSignature(message, cache, now())), `${name} v${version}`).toBe(
          "accepted",
        );
      }
    }
    const { Subject: _s, ...noSubject } = fixture("notification.json");
    expect(
      await refusal(assertSnsSignature(parsed(signSns(noSubject, identity.privateKey)), cache, now())),
    ).toBe("accepted");
    expect(aws.calls).toEqual([CERT_URL]);
  });

  it("refuses a changed body, a signature of the other version, another key, and the docs' EXAMPLE signature", async () => {
    const aws = fakeAwsFetch({ [CERT_URL]: identity.certificatePem });
    const cache = createSnsCertificateCache({ fetch: aws.fetch });
    const signed = signSns(fixture("notification.json"), identity.privateKey, { version: "2" });
    const tampered = parsed({ ...signed, Message: "Hello world?" });
    expect(await refusal(assertSnsSignature(tampered, cache, now()))).toBe("forged");
    const versionSwapped = parsed({ ...signed, SignatureVersion: "1" });
    expect(await refusal(assertSnsSignature(versionSwapped, cache, now()))).toBe("forged");
    const other = makeSigningIdentity();
    const byOtherKey = parsed(signSns(fixture("notification.json"), other.privateKey));
    expect(await refusal(assertSnsSignature(byOtherKey, cache, now()))).toBe("forged");
    const example = parsed({ ...fixture("notification.json"), SigningCertURL: CERT_URL });
    expect(await refusal(assertSnsSignature(example, cache, now()))).toBe("forged");
  });

  it("refuses a certificate that is not valid at the time of the check", async () => {
    const cache = createSnsCertificateCache({
      fetch: fakeAwsFetch({ [CERT_URL]: identity.certificatePem }).fetch,
    });
    const message = parsed(signSns(fixture("notification.json"), identity.privateKey));
    expect(await refusal(assertSnsSignature(message, cache, new Date(Date.now() + 30 * 86_400_000)))).toBe(
      "forged",
    );
  });

  it("never fetches from a host that is not SNS", async () => {
    const evil = "https://evil.example/cert.pem";
    const aws = fakeAwsFetch({ [evil]: identity.certificatePem });
    const cache = createSnsCertificateCache({ fetch: aws.fetch });
    const message = parsed(signSns(fixture("notification.json"), identity.privateKey, { certUrl: evil }));
    expect(await refusal(assertSnsSignature(message, cache, now()))).toBe("bad_cert_url");
    expect(aws.calls).toEqual([]);
  });

  it("fails closed when the certificate cannot be fetched or read, and does not cache the failure", async () => {
    const aws = fakeAwsFetch({ [CERT_URL]: identity.certificatePem });
    const cache = createSnsCertificateCache({ fetch: aws.fetch });
    const message = parsed(signSns(fixture("notification.json"), identity.privateKey));
    aws.failWith(true);
    expect(await refusal(assertSnsSignature(message, cache, now()))).toBe("cert_unavailable");
    aws.failWith(false);
    expect(await refusal(assertSnsSignature(message, cache, now()))).toBe("accepted");
    const garbage = createSnsCertificateCache({
      fetch: fakeAwsFetch({ [CERT_URL]: "not a certificate" }).fetch,
    });
    expect(await refusal(assertSnsSignature(message, garbage, now()))).toBe("cert_unavailable");
    const missing = createSnsCertificateCache({ fetch: fakeAwsFetch({}).fetch });
    expect(await refusal(assertSnsSignature(message, missing, now()))).toBe("cert_unavailable");
  });

  it("keeps a certificate for its TTL, then fetches it again", async () => {
    const aws = fakeAwsFetch({ [CERT_URL]: identity.certificatePem });
    let t = Date.now();
    const cache = createSnsCertificateCache({ fetch: aws.fetch, ttlMs: 60_000, now: () => new Date(t) });
    await cache.get(CERT_URL);
    await cache.get(CERT_URL);
    expect(aws.calls).toHaveLength(1);
    t += 61_000;
    await cache.get(CERT_URL);
    expect(aws.calls).toHaveLength(2);
  });
});
