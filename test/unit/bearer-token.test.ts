import { describe, expect, it } from "vitest";
import {
  bearerOf,
  createTokenSource,
  type ExpectedToken,
  FILE_TTL_MS,
  judge,
  sameToken,
} from "#runtime/bearer-token.ts";
import { type Env, readEnv } from "#runtime/env.ts";

const TOKEN = "0123456789abcdef0123456789abcdef";

describe("comparing tokens", () => {
  it("accepts only the same token, whatever the other's length", () => {
    expect(sameToken(TOKEN, TOKEN)).toBe(true);
    expect(sameToken(`${TOKEN.slice(0, -1)}0`, TOKEN)).toBe(false);
    expect(sameToken(TOKEN.slice(0, 8), TOKEN)).toBe(false);
    expect(sameToken(`${TOKEN}${TOKEN}`, TOKEN)).toBe(false);
    expect(sameToken("", TOKEN)).toBe(false);
  });

  it("reads the token of a Bearer Authorization header, the scheme in any case", () => {
    expect(bearerOf(`Bearer ${TOKEN}`)).toBe(TOKEN);
    expect(bearerOf(`BEARER  ${TOKEN} `)).toBe(TOKEN);
    expect(bearerOf(`Basic ${TOKEN}`)).toBeUndefined();
    expect(bearerOf("Bearer")).toBeUndefined();
    expect(bearerOf(`Bearer ${TOKEN} extra`)).toBeUndefined();
    expect(bearerOf(undefined)).toBeUndefined();
  });

  it("judges a header missing, wrong or accepted", () => {
    expect(judge(undefined, TOKEN)).toBe("missing");
    expect(judge(`Token ${TOKEN}`, TOKEN)).toBe("missing");
    expect(judge("Bearer nope", TOKEN)).toBe("wrong");
    expect(judge(`Bearer ${TOKEN}`, TOKEN)).toBe("accepted");
  });
});

describe("the expected token", () => {
  /** A source over `env`, a file system of `files` and a clock at `clock.ms`, recording reads and reasons. */
  function source(env: Record<string, string>, files: Map<string, string>) {
    const clock = { ms: 0 };
    const reads: string[] = [];
    const reasons: string[] = [];
    const expected = createTokenSource({
      env: (): Env => readEnv(env),
      onUnavailable: (reason) => reasons.push(reason),
      readText: async (path) => {
        reads.push(path);
        const text = files.get(path);
        if (text === undefined) throw Object.assign(new Error(`no ${path}`), { code: "ENOENT" });
        return text;
      },
      now: () => clock.ms,
    });
    return { expected, clock, reads, reasons };
  }
  const token = (value: string): ExpectedToken => ({ kind: "token", token: value });

  it("is FINOPS_INGEST_TOKEN first; with nothing set, open locally and unavailable deployed", async () => {
    expect(await source({ FINOPS_INGEST_TOKEN: TOKEN, K_SERVICE: "s" }, new Map()).expected()).toEqual(
      token(TOKEN),
    );
    expect(await source({}, new Map()).expected()).toEqual({ kind: "open" });
    const deployed = source({ K_SERVICE: "finops-ingest-traces" }, new Map());
    expect(await deployed.expected()).toEqual({
      kind: "unavailable",
      reason: "deployed without FINOPS_INGEST_TOKEN or FINOPS_INGEST_TOKEN_FILE",
    });
    expect(deployed.reasons).toHaveLength(1);
  });

  it("reads the file again only after FILE_TTL_MS, so a rotated secret is taken within it", async () => {
    // Prepare
    const files = new Map([["/etc/secrets/ingest-token/latest", `${TOKEN}\n`]]);
    const s = source({ FINOPS_INGEST_TOKEN_FILE: "/etc/secrets/ingest-token/latest" }, files);

    // Act
    const first = await s.expected();
    files.set("/etc/secrets/ingest-token/latest", "fedcba9876543210fedcba9876543210");
    s.clock.ms = FILE_TTL_MS - 1;
    const cached = await s.expected();
    s.clock.ms = FILE_TTL_MS;
    const rotated = await s.expected();

    // Assess
    expect([first, cached, rotated]).toEqual([
      token(TOKEN),
      token(TOKEN),
      token("fedcba9876543210fedcba9876543210"),
    ]);
    expect(s.reads).toHaveLength(2);
  });

  it("is unavailable, said once per read, while the file is missing or holds no usable token", async () => {
    // Prepare
    const path = "/etc/secrets/ingest-token/latest";
    const files = new Map<string, string>();
    const s = source({ FINOPS_INGEST_TOKEN_FILE: path }, files);

    // Act
    const missing = await s.expected();
    await s.expected();
    files.set(path, "short");
    s.clock.ms = FILE_TTL_MS;
    const short = await s.expected();
    files.set(path, `${TOKEN}\n`);
    s.clock.ms = 2 * FILE_TTL_MS;
    const added = await s.expected();

    // Assess
    expect(missing.kind).toBe("unavailable");
    expect(short.kind).toBe("unavailable");
    expect(added).toEqual(token(TOKEN));
    expect(s.reasons).toEqual([
      `FINOPS_INGEST_TOKEN_FILE ${path} cannot be read (ENOENT); deployed, this means its secret has no version yet (gcloud secrets versions add)`,
      `FINOPS_INGEST_TOKEN_FILE ${path}: the token must be at least 16 characters (openssl rand -hex 32 makes one)`,
    ]);
  });

  it("refuses a FINOPS_INGEST_TOKEN too short or with spaces, naming the variable", () => {
    expect(() => readEnv({ FINOPS_INGEST_TOKEN: "short" })).toThrow(
      "environment variable FINOPS_INGEST_TOKEN: at least 16 characters (openssl rand -hex 32 makes one)",
    );
    expect(() => readEnv({ FINOPS_INGEST_TOKEN: `${TOKEN} ${TOKEN}` })).toThrow(
      /printable ASCII without spaces/,
    );
  });
});
