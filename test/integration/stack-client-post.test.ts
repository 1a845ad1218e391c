import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { postEvents } from "../../bin/stack-client.ts";

/**
 * `finops ingest` beside a stack posts each body with postEvents: a busy stack (503) is asked again
 * as its Retry-After says, backing off, until a bound; a stack that does not answer is taken as
 * stuck instead of waited on forever. Against a local HTTP server that plays each.
 */

const ANSWER = { received: 1, accepted: 1, duplicates: 0, conflicts: 0, rejected: [] };
let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function serve(answer: (n: number) => { status: number; body?: unknown } | "silent"): Promise<string> {
  let n = 0;
  const created = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      n += 1;
      const a = answer(n);
      if (a === "silent") return;
      res
        .writeHead(a.status, { "content-type": "application/json", "retry-after": "1" })
        .end(JSON.stringify(a.body ?? {}));
    });
  });
  server = created;
  await new Promise<void>((resolve) => created.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(created.address() as AddressInfo).port}`;
}

describe("postEvents", () => {
  it("asks a busy stack again after its Retry-After until it takes the body", async () => {
    const url = await serve((n) =>
      n < 3 ? { status: 503, body: { error: "busy" } } : { status: 200, body: ANSWER },
    );

    const answer = await postEvents(url, "{}", "application/json", {
      busyGiveUpMs: 10_000,
      answerTimeoutMs: 5_000,
    });

    expect(answer).toEqual(ANSWER);
  });

  it("gives up on a stack busy past the bound, saying a resend is safe", async () => {
    const url = await serve(() => ({ status: 503, body: { error: "1 bodies in flight, retry later" } }));

    await expect(
      postEvents(url, "{}", "application/json", { busyGiveUpMs: 1_500, answerTimeoutMs: 5_000 }),
    ).rejects.toThrow(
      /did not take the events: 1 bodies in flight, retry later \(still busy after 1\.5 s; sending the file again adds only what the stack did not store\)$/,
    );
  });

  it("takes a stack that does not answer for stuck instead of waiting on it", async () => {
    const url = await serve(() => "silent");

    await expect(
      postEvents(url, "{}", "application/json", { busyGiveUpMs: 1_000, answerTimeoutMs: 500 }),
    ).rejects.toThrow(/did not answer a body of events within 0\.5 s \(is it stuck\? see its log\)/);
  });
});
