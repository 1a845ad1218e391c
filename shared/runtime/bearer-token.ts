import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { bearerTokenSchema, type Env } from "./env.ts";

/**
 * The bearer token the public receivers require of senders that cannot sign Google ID tokens (OTLP
 * exporters, LiteLLM's callback). Where it comes from, first found wins:
 * - FINOPS_INGEST_TOKEN, the token itself (locally, or wherever the environment is private);
 * - FINOPS_INGEST_TOKEN_FILE, a file holding it: deployed, the stack mounts the Secret Manager secret
 *   there at its latest version, so a version the operator adds is read within FILE_TTL_MS;
 * - neither: locally the receivers are open (the local stack listens on loopback); deployed
 *   (K_SERVICE set) they refuse every request, so a receiver never runs open in the cloud.
 */

export type ExpectedToken =
  | { kind: "token"; token: string }
  | { kind: "open" }
  /** No usable token where one is required: every request is refused; `reason` says what to fix. */
  | { kind: "unavailable"; reason: string };

export type Verdict = "accepted" | "missing" | "wrong";

/** How long a token read from the file is used before the file is read again. */
export const FILE_TTL_MS = 60_000;

const BEARER = /^bearer +(\S+) *$/i;

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * Whether `presented` is `expected`, in a time that tells nothing about either: their SHA-256
 * digests, always 32 bytes, are compared in constant time, so not even the length leaks.
 */
export function sameToken(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** The token of an `Authorization: Bearer <token>` header (RFC 6750: the scheme in any case). */
export function bearerOf(authorization: string | undefined): string | undefined {
  return authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
}

/** What a request's Authorization header is worth against the expected token. */
export function judge(authorization: string | undefined, expected: string): Verdict {
  const presented = bearerOf(authorization);
  if (presented === undefined) return "missing";
  return sameToken(presented, expected) ? "accepted" : "wrong";
}

export interface TokenSourceOptions {
  env: () => Env;
  /** Told why the token is unavailable, once per read of the file (at most once per FILE_TTL_MS). */
  onUnavailable: (reason: string) => void;
  readText?: (path: string) => Promise<string>;
  now?: () => number;
}

async function fromFile(path: string, readText: (path: string) => Promise<string>): Promise<ExpectedToken> {
  let text: string;
  try {
    text = await readText(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return {
      kind: "unavailable",
      reason: `FINOPS_INGEST_TOKEN_FILE ${path} cannot be read (${code}); deployed, this means its secret has no version yet (gcloud secrets versions add)`,
    };
  }
  const parsed = bearerTokenSchema.safeParse(text.replace(/\r?\n$/, ""));
  if (!parsed.success) {
    return {
      kind: "unavailable",
      reason: `FINOPS_INGEST_TOKEN_FILE ${path}: the token must be ${parsed.error.issues[0]?.message}`,
    };
  }
  return { kind: "token", token: parsed.data };
}

/** The expected token, as the environment says at each call; the file is read again after FILE_TTL_MS. */
export function createTokenSource(options: TokenSourceOptions): () => Promise<ExpectedToken> {
  const { readText = (path) => readFile(path, "utf8"), now = Date.now } = options;
  let cached: { path: string | undefined; at: number; expected: Promise<ExpectedToken> } | undefined;
  return () => {
    const env = options.env();
    if (env.FINOPS_INGEST_TOKEN !== undefined) {
      return Promise.resolve({ kind: "token", token: env.FINOPS_INGEST_TOKEN });
    }
    const path = env.FINOPS_INGEST_TOKEN_FILE;
    if (path === undefined && env.K_SERVICE === undefined) return Promise.resolve({ kind: "open" });
    if (cached !== undefined && cached.path === path && now() - cached.at < FILE_TTL_MS) {
      return cached.expected;
    }
    const expected: Promise<ExpectedToken> =
      path === undefined
        ? Promise.resolve({
            kind: "unavailable",
            reason: "deployed without FINOPS_INGEST_TOKEN or FINOPS_INGEST_TOKEN_FILE",
          })
        : fromFile(path, readText);
    cached = { path, at: now(), expected };
    void expected.then((e) => {
      if (e.kind === "unavailable") options.onUnavailable(e.reason);
    });
    return expected;
  };
}
