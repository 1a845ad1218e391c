import { createVerify, type KeyObject, X509Certificate } from "node:crypto";
import { type SnsMessage, stringToSign } from "./sns-message.ts";

/**
 * SNS signature verification: the signing certificate's URL must be an SNS endpoint of AWS, the
 * certificate is fetched through an injected fetch and cached, and the signature (SignatureVersion
 * 1: SHA1withRSA, 2: SHA256withRSA) must verify over the message's canonical string.
 */

/** The host pattern of aws-js-sns-message-validator: sns.<region>.amazonaws.com(.cn). */
export const SNS_HOST = /^sns\.[a-zA-Z0-9-]{3,}\.amazonaws\.com(\.cn)?$/;

export type SnsVerificationErrorCode =
  /** The certificate URL is not an https SNS endpoint of AWS: the message is refused (4xx). */
  | "bad_cert_url"
  /** The signature does not verify, or the certificate is not valid now: refused (4xx). */
  | "forged"
  /** The certificate could not be fetched or read: fail closed and let SNS retry (5xx). */
  | "cert_unavailable";

export class SnsVerificationError extends Error {
  override readonly name = "SnsVerificationError";
  readonly code: SnsVerificationErrorCode;

  constructor(code: SnsVerificationErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Whether `url` is an https URL on an SNS host of AWS (no credentials, default port). */
export function isSnsUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.protocol === "https:" &&
    parsed.username === "" &&
    parsed.password === "" &&
    parsed.port === "" &&
    SNS_HOST.test(parsed.hostname)
  );
}

/** Throws `bad_cert_url` unless `url` is an https SNS endpoint of AWS serving a .pem file. */
export function assertSigningCertUrl(url: string): void {
  if (!isSnsUrl(url) || !new URL(url).pathname.endsWith(".pem")) {
    throw new SnsVerificationError(
      "bad_cert_url",
      `SigningCertURL: ${JSON.stringify(url.slice(0, 200))} is not an https .pem URL on an SNS host (sns.<region>.amazonaws.com)`,
    );
  }
}

const ALGORITHMS: Record<SnsMessage["SignatureVersion"], string> = { "1": "RSA-SHA1", "2": "RSA-SHA256" };

/** Checks the message's signature with `publicKey` (the signing certificate's). */
export function verifySnsSignature(message: SnsMessage, publicKey: KeyObject): boolean {
  const signature = Buffer.from(message.Signature, "base64");
  if (signature.length === 0) return false;
  const verifier = createVerify(ALGORITHMS[message.SignatureVersion]);
  verifier.update(stringToSign(message), "utf8");
  try {
    return verifier.verify(publicKey, signature);
  } catch {
    return false;
  }
}

export interface SnsCertificateCacheOptions {
  /** Injected fetch (tests serve their own certificate); default the global fetch. */
  fetch?: typeof globalThis.fetch;
  /** How long a fetched certificate is trusted before it is fetched again. Default 24 h. */
  ttlMs?: number;
  /** Most certificates kept (SNS uses a handful). Default 32. */
  maxEntries?: number;
  /** Per fetch. Default 5 s. */
  timeoutMs?: number;
  now?: () => Date;
}

export interface SnsCertificateCache {
  /** The certificate at `url` (validated first), fetched at most once per TTL; throws SnsVerificationError. */
  get(url: string): Promise<X509Certificate>;
}

interface Entry {
  at: number;
  certificate: Promise<X509Certificate>;
}

/** Fetches signing certificates from SNS hosts only, keeps them by URL; failures are not kept. */
export function createSnsCertificateCache(options: SnsCertificateCacheOptions = {}): SnsCertificateCache {
  const doFetch = options.fetch ?? globalThis.fetch;
  const ttlMs = options.ttlMs ?? 24 * 3600 * 1000;
  const maxEntries = options.maxEntries ?? 32;
  const timeoutMs = options.timeoutMs ?? 5000;
  const now = options.now ?? (() => new Date());
  const entries = new Map<string, Entry>();

  async function load(url: string): Promise<X509Certificate> {
    let pem: string;
    try {
      // Never follow a redirect: it could lead off the SNS host that was checked.
      const response = await doFetch(url, { redirect: "error", signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      pem = await response.text();
    } catch (cause) {
      throw new SnsVerificationError(
        "cert_unavailable",
        `signing certificate ${url} could not be fetched: ${(cause as Error).message}`,
        { cause },
      );
    }
    try {
      return new X509Certificate(pem);
    } catch (cause) {
      throw new SnsVerificationError(
        "cert_unavailable",
        `signing certificate ${url} is not a PEM certificate`,
        {
          cause,
        },
      );
    }
  }

  return {
    get(url) {
      assertSigningCertUrl(url);
      const at = now().getTime();
      const cached = entries.get(url);
      if (cached && at - cached.at < ttlMs) return cached.certificate;
      const certificate = load(url);
      entries.delete(url);
      entries.set(url, { at, certificate });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
      certificate.catch(() => {
        if (entries.get(url)?.certificate === certificate) entries.delete(url);
      });
      return certificate;
    },
  };
}

/**
 * Verifies a message against its signing certificate: the URL is an SNS endpoint, the certificate
 * is valid at `now`, and the signature verifies. Throws SnsVerificationError otherwise.
 */
export async function assertSnsSignature(
  message: SnsMessage,
  certificates: SnsCertificateCache,
  now: Date,
): Promise<void> {
  const certificate = await certificates.get(message.SigningCertURL);
  const t = now.getTime();
  if (t < Date.parse(certificate.validFrom) || t > Date.parse(certificate.validTo)) {
    throw new SnsVerificationError(
      "forged",
      `signing certificate ${message.SigningCertURL} is not valid now`,
    );
  }
  if (!verifySnsSignature(message, certificate.publicKey)) {
    throw new SnsVerificationError("forged", `Signature: does not verify for message ${message.MessageId}`);
  }
}
