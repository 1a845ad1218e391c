import { writeFileSync } from "node:fs";
import { Agent, type ClientRequest, type IncomingMessage, request } from "node:http";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { inferenceEvent } from "../support/ingest-builders.ts";
import { type StackProcess, startStackProcess } from "../support/local-stack-process.ts";
import { floorHour, HOUR_MS, tempDuckDb } from "../support/local-stack-session.ts";
import { runCli } from "../support/run-cli.ts";

const hour = floorHour(Date.now()) - HOUR_MS;
const events = (prefix: string, count: number, nanos: number) =>
  JSON.stringify(
    Array.from({ length: count }, (_, i) =>
      inferenceEvent({
        id: `${prefix}-${i}`,
        time: new Date(hour + i * 1000).toISOString(),
        data: { team: prefix, cost_nanos: String(nanos) },
      }),
    ),
  );

/** An answer read whole: status, Retry-After and the body. */
function answer(req: ClientRequest): Promise<{ status: number; retryAfter?: string; body: string }> {
  return new Promise((resolve, reject) => {
    req.once("error", reject).once("response", (res: IncomingMessage) => {
      let body = "";
      res.setEncoding("utf8").on("data", (text: string) => {
        body += text;
      });
      res.once("end", () =>
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"], body }),
      );
    });
  });
}

describe("finops start on SIGTERM", () => {
  const db = tempDuckDb("finops-sigterm-");
  const config = join(db.dir, "finops.config.json");
  let stack: StackProcess | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  afterAll(() => {
    agent.destroy();
    stack?.kill();
    db.remove();
  });

  it("finishes the body in flight, refuses new ones, refreshes the rollup and exits 0 with a connection kept open", async () => {
    // Prepare: no scheduled refresh within the test, so only the last one can roll the events up
    writeFileSync(config, JSON.stringify({ version: 1, local: { rollupIntervalMs: HOUR_MS } }));
    const env = { FINOPS_DUCKDB_PATH: db.path, FINOPS_CONFIG: config };
    stack = await startStackProcess(env);
    const { port } = new URL(stack.url);
    const post = (body: string, agent: Agent | false = false) =>
      request({
        port,
        host: "127.0.0.1",
        method: "POST",
        path: "/v1/events",
        agent,
        headers: { "content-type": "application/json", "content-length": body.length },
      });
    const send = (body: string, agent: Agent | false = false) => answer(post(body, agent).end(body));
    expect((await send(events("before", 50, 1_000_000))).status).toBe(200);
    expect((await send(events("kept", 1, 5), agent)).status).toBe(200);
    const slowBody = events("inflight", 20, 3_000_000);
    const slow = post(slowBody);
    const slowAnswer = answer(slow);
    slow.write(slowBody.slice(0, 1000));
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Act
    const signalled = performance.now();
    stack.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const late = await send(events("late", 1, 7), agent);
    slow.end(slowBody.slice(1000));
    const inflight = await slowAnswer;
    const exit = await stack.exited;
    const seconds = (performance.now() - signalled) / 1000;
    const report = await runCli(
      [
        "report",
        "--by",
        "team",
        "--from",
        new Date(hour).toISOString(),
        "--to",
        new Date(hour + HOUR_MS).toISOString(),
        "--format",
        "json",
      ],
      env,
    );

    // Assess
    expect(late.status).toBe(503);
    expect(late.retryAfter).toBe("1");
    expect(JSON.parse(late.body)).toEqual({ error: "stopping, retry later" });
    expect(inflight.status).toBe(200);
    expect(JSON.parse(inflight.body)).toMatchObject({ received: 20, accepted: 20 });
    expect(exit.code).toBe(0);
    expect(seconds).toBeLessThan(5);
    expect(report.code).toBe(0);
    expect(JSON.parse(report.stdout)).toEqual([
      { team: "inflight", currency: "USD", cost_nanos: "60000000", amount: "0.06" },
      { team: "before", currency: "USD", cost_nanos: "50000000", amount: "0.05" },
      { team: "kept", currency: "USD", cost_nanos: "5", amount: "0.000000005" },
    ]);
  }, 30_000);
});
