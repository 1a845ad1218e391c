import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, request, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readEnv } from "#runtime/env.ts";
import { type BodyGate, type BodyLimits, createBodyGate } from "#runtime/local/body-gate.ts";
import { openLocalSession } from "../../bin/commands/local-session.ts";
import { inferenceEvent } from "../support/ingest-builders.ts";
import {
  floorHour,
  HOUR_MS,
  refreshRollups,
  report,
  type TestSession,
  tempDuckDb,
} from "../support/local-stack-session.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends a request's head and the first part of its body by hand; the rest is the caller's. */
function openBody(port: number, path: string, declared: number | "chunked", first: string): Socket {
  const length = declared === "chunked" ? "Transfer-Encoding: chunked" : `Content-Length: ${declared}`;
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  socket.write(`POST ${path} HTTP/1.1\r\nHost: local\r\nContent-Type: application/json\r\n${length}\r\n\r\n`);
  socket.write(first);
  return socket;
}

/** The status of the first answer on a hand-made connection. */
function statusOf(socket: Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = "";
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      text += chunk;
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      if (status !== undefined) resolve(Number(status));
    });
    socket.once("close", () => reject(new Error(`closed before an answer: ${text}`)));
  });
}

async function post(url: string, body: string) {
  const res = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json" } });
  const text = await res.text();
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: text };
}

describe("the body gate", () => {
  let server: Server;
  let gate: BodyGate;
  let url: string;
  let port: number;
  /** How long the handler works on a body once it has read it. */
  let workMs = 0;
  const started: IncomingMessage[] = [];

  async function serve(limits: BodyLimits) {
    gate = createBodyGate(limits);
    server = createServer((req, res) => {
      if (!gate.admit(req, res)) return;
      started.push(req);
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        setTimeout(() => res.end(`read ${Buffer.concat(chunks).length}`), workMs);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
    url = `http://127.0.0.1:${port}/`;
  }
  const admitted = async (count: number) => {
    while (started.length < count) await sleep(5);
  };

  afterEach(async () => {
    started.length = 0;
    workMs = 0;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("refuses a body beyond the count at once, 503 with Retry-After, and serves requests without one", async () => {
    // Prepare
    await serve({ maxBodies: 2, maxBytes: 10_000 });
    const held = [openBody(port, "/", 20, "0123456789"), openBody(port, "/", 20, "0123456789")];
    await admitted(2);

    // Act
    const refused = await post(url, "{}");
    const get = await fetch(url);
    const answers = held.map(statusOf);
    for (const socket of held) socket.write("0123456789");
    const finished = await Promise.all(answers);
    const after = await post(url, "{}");

    // Assess
    expect(refused).toEqual({
      status: 503,
      retryAfter: "1",
      body: JSON.stringify({ error: "2 bodies (40 bytes) in flight, retry later" }),
    });
    expect(get.status).toBe(200);
    expect(finished).toEqual([200, 200]);
    expect(after).toEqual({ status: 200, retryAfter: null, body: "read 2" });
    for (const socket of held) socket.destroy();
  });

  it("counts declared bytes: 503 beyond what is left, 413 for a body over the whole bound", async () => {
    // Prepare
    await serve({ maxBodies: 10, maxBytes: 1000 });
    const held = openBody(port, "/", 600, "x");
    await admitted(1);

    // Act
    const tooBig = await post(url, "x".repeat(1001));
    const noRoom = await post(url, "x".repeat(500));
    const fits = await post(url, "x".repeat(400));

    // Assess
    expect(tooBig).toEqual({
      status: 413,
      retryAfter: null,
      body: JSON.stringify({ error: "a body of 1001 bytes is over the 1000 bytes allowed in flight" }),
    });
    expect(noRoom.status).toBe(503);
    expect(fits.status).toBe(200);
    held.destroy();
  });

  it("counts a body sent without a length as it is read: 413 once it alone goes over, 503 when the others' bytes do", async () => {
    // Prepare
    await serve({ maxBodies: 10, maxBytes: 1000 });
    const chunked = () => {
      const req = request(url, { method: "POST", headers: { "content-type": "application/json" } });
      req.on("error", () => {});
      return {
        req,
        answered: new Promise<number>((resolve) => req.once("response", (r) => resolve(r.statusCode ?? 0))),
      };
    };

    // Act: one body of 2,000 bytes alone; then one of 500 beside a held body of 600.
    const alone = chunked();
    for (let i = 0; i < 20; i++) alone.req.write("x".repeat(100));
    const aloneStatus = await alone.answered;
    const held = openBody(port, "/", 600, "[");
    await sleep(100);
    const beside = chunked();
    for (let i = 0; i < 5; i++) beside.req.write("x".repeat(100));
    const besideStatus = await beside.answered;
    held.destroy();
    await sleep(100);
    const after = await post(url, "{}");

    // Assess: a body too large for the bound whatever runs is not to be sent again; one that met others is.
    expect(aloneStatus).toBe(413);
    expect(besideStatus).toBe(503);
    expect(after.status).toBe(200);
  });

  it("frees the place of a body whose client leaves before sending it all", async () => {
    // Prepare
    await serve({ maxBodies: 1, maxBytes: 1000 });
    const left = openBody(port, "/", 100, "half");
    await admitted(1);
    const refused = await post(url, "{}");

    // Act
    left.destroy();
    await sleep(50);
    const after = await post(url, "{}");

    // Assess
    expect(refused.status).toBe(503);
    expect(after.status).toBe(200);
  });

  it("keeps the place of a body the handler is still working on after its client left", async () => {
    // Prepare
    await serve({ maxBodies: 1, maxBytes: 1000 });
    workMs = 300;
    const left = openBody(port, "/", 2, "{}");
    await admitted(1);
    await sleep(20);

    // Act
    left.destroy();
    await sleep(50);
    const during = await post(url, "{}");
    await sleep(300);
    const after = await post(url, "{}");

    // Assess
    expect(during.status).toBe(503);
    expect(after.status).toBe(200);
  });

  it("drains: refuses new bodies and resolves once those in flight are answered", async () => {
    // Prepare
    await serve({ maxBodies: 4, maxBytes: 1000 });
    const held = openBody(port, "/", 4, "ab");
    await admitted(1);
    let drained = false;

    // Act
    const draining = gate.drain().then(() => {
      drained = true;
    });
    const refused = await post(url, "{}");
    const drainedBefore = drained;
    const answer = statusOf(held);
    held.write("cd");
    const finished = await answer;
    await draining;

    // Assess
    expect(refused).toEqual({
      status: 503,
      retryAfter: "1",
      body: JSON.stringify({ error: "stopping, retry later" }),
    });
    expect(drainedBefore).toBe(false);
    expect(finished).toBe(200);
    held.destroy();
  });
});

describe("the local stack's body gate", () => {
  const db = tempDuckDb("finops-body-gate-");
  const hour = floorHour(Date.now()) - HOUR_MS;
  let session: TestSession;
  let port: number;
  const body = (id: string, team: string) =>
    JSON.stringify([
      inferenceEvent({ id, time: new Date(hour + 60_000).toISOString(), data: { team, cost_nanos: "7" } }),
    ]);

  beforeAll(async () => {
    const config = join(db.dir, "finops.config.json");
    writeFileSync(
      config,
      JSON.stringify({ version: 1, local: { maxInFlightBodies: 1, maxInFlightBytes: 4096 } }),
    );
    session = await openLocalSession(0, {
      env: readEnv({ FINOPS_DUCKDB_PATH: db.path, FINOPS_CONFIG: config, FINOPS_LOG_LEVEL: "error" }),
      scheduleEveryMs: () => HOUR_MS,
    });
    port = Number(new URL(session.stack.url).port);
  });
  afterAll(async () => {
    await session?.close();
    db.remove();
  });

  it("never ingests a body whose client left before it all arrived, and takes the next", async () => {
    // Prepare: the whole JSON sent, one declared byte missing
    const abandoned = body("gone-1", "gone");
    const socket = openBody(port, "/v1/events", abandoned.length + 1, abandoned);
    await sleep(100);

    // Act
    socket.destroy();
    await sleep(50);
    const next = await post(`${session.stack.url}/v1/events`, body("kept-1", "kept"));
    await refreshRollups(session.stack);
    const rows = await report(session.runtime, {
      by: ["team"],
      from: new Date(hour),
      to: new Date(hour + HOUR_MS),
    });

    // Assess
    expect(next.status).toBe(200);
    expect(rows.map((r) => [r.group.team, r.cost_nanos])).toEqual([["kept", 7n]]);
  });

  it("refuses a body sent without a length once it passes the bytes bound, and goes on serving", async () => {
    // Prepare
    const chunked = request(`${session.stack.url}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    chunked.on("error", () => {});
    const answered = new Promise<number>((resolve) =>
      chunked.once("response", (r) => resolve(r.statusCode ?? 0)),
    );

    // Act
    chunked.write("[");
    for (let i = 0; i < 80; i++) chunked.write(`${" ".repeat(99)}\n`);
    const status = await answered;
    await sleep(1100);
    const next = await post(`${session.stack.url}/v1/events`, body("after-chunked-1", "after"));

    // Assess
    expect(status).toBe(413);
    expect(next.status).toBe(200);
  });

  it("refuses a client that asks first (Expect: 100-continue) before it sends its body", async () => {
    // Prepare
    const held = openBody(port, "/v1/events", 10, "[");
    await sleep(100);
    const asking = request(`${session.stack.url}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/json", expect: "100-continue", "content-length": 2 },
    });
    let continued = false;
    asking.on("continue", () => {
      continued = true;
    });

    // Act
    asking.flushHeaders();
    const status = await new Promise<number>((resolve) =>
      asking.once("response", (r) => resolve(r.statusCode ?? 0)),
    );

    // Assess
    expect(status).toBe(503);
    expect(continued).toBe(false);
    asking.destroy();
    held.destroy();
  });
});
