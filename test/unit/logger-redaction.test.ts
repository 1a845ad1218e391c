import { describe, expect, it } from "vitest";
import { createLogger } from "#runtime/logger.ts";

/** What a log line keeps of its fields: credentials never, the token counts cost is made of always. */
describe("the logger's redaction", () => {
  const logged = (fields: Record<string, unknown>) => {
    const lines: string[] = [];
    createLogger({ write: (line) => lines.push(line) }).info("m", fields);
    return JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
  };

  it("hides credentials, whatever their case", () => {
    const line = logged({
      token: "t",
      accessToken: "t",
      SLACK_BOT_TOKEN: "t",
      client_secret: "s",
      password: "p",
      Authorization: "Bearer x",
      signature: "s",
    });
    for (const key of [
      "token",
      "accessToken",
      "SLACK_BOT_TOKEN",
      "client_secret",
      "password",
      "Authorization",
      "signature",
    ]) {
      expect(line[key]).toBe("[redacted]");
    }
  });

  it("keeps token counts, and writes bigints as decimal strings", () => {
    const line = logged({ input_tokens: 812, nonFiniteTokens: 2, tokens: 10, costNanos: 10n ** 20n });
    expect(line).toMatchObject({
      input_tokens: 812,
      nonFiniteTokens: 2,
      tokens: 10,
      costNanos: "100000000000000000000",
    });
  });
});
