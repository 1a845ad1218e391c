import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findRunningStack, stackFilePath } from "../../bin/stack-discovery.ts";
import { openTestSession, type TestSession, tempDuckDb } from "../support/local-stack-session.ts";

// The local stack's endpoints for the CLI (bin/stack-endpoints.ts) and its discovery file, asked as
// the CLI asks them; the commands themselves through them are in test/e2e/cli-beside-stack.test.ts.

describe("the local stack's /cli endpoints", () => {
  const db = tempDuckDb("finops-cli-endpoints-");
  let session: TestSession;

  beforeAll(async () => {
    session = await openTestSession(db.path);
  });
  afterAll(async () => {
    await session.close();
    db.remove();
  });

  it("writes its discovery file, by which it is found, and says who it is at GET /cli", async () => {
    const file = JSON.parse(readFileSync(stackFilePath(db.path), "utf8"));
    const who = (await (await fetch(`${session.stack.url}/cli`)).json()) as { commands: unknown[] };

    expect(file).toMatchObject({ url: session.stack.url, pid: process.pid, warehouse: db.path });
    expect(who).toMatchObject({ pid: process.pid, warehouse: db.path });
    expect(who.commands).toContainEqual({ name: "jobs", method: "GET" });
    // The CLI never takes its own process for a stack: findRunningStack is for other processes.
    expect(await findRunningStack(db.path)).toBeUndefined();
  });

  it("streams a command's output and exit code as NDJSON", async () => {
    const res = await fetch(`${session.stack.url}/cli/jobs?format=json&from=2026-11-01&to=2026-11-02`);
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));

    expect(res.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    expect(JSON.parse(lines[0].out)).toMatchObject({ jobs: [], from: "2026-11-01T00:00:00.000Z" });
    expect(lines.at(-1)).toEqual({ exit: 0 });
  });

  it("answers 400 with the CLI's line and exit 2 for flags the command refuses, 404 and 405 otherwise", async () => {
    const bad = await fetch(`${session.stack.url}/cli/jobs?from=2026-11-31`);
    const missing = await fetch(`${session.stack.url}/cli/frobnicate`);
    const wrong = await fetch(`${session.stack.url}/cli/reconcile`);
    const twice = await fetch(`${session.stack.url}/cli/jobs?from=2026-11-01&from=2026-11-02`);

    expect(twice.status).toBe(400);
    expect(await twice.json()).toEqual({ error: "--from: give it once, as text", exit: 2 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: '--from: "2026-11-31" is not a date: November 2026 has 30 days',
      exit: 2,
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({
      error: expect.stringMatching(/^no command "frobnicate" here/),
    });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
  });

  it("removes its discovery file when it closes", async () => {
    const other = tempDuckDb("finops-cli-endpoints-close-");
    const closing = await openTestSession(other.path);
    expect(existsSync(stackFilePath(other.path))).toBe(true);

    await closing.close();

    expect(existsSync(stackFilePath(other.path))).toBe(false);
    other.remove();
  });
});
