import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inferenceEvent } from "../support/ingest-builders.ts";
import { type StackProcess, startStackProcess } from "../support/local-stack-process.ts";
import { floorHour, HOUR_MS, tempDuckDb } from "../support/local-stack-session.ts";

const MB = 1024 ** 2;
const LIMITS = { maxInFlightBodies: 4, maxInFlightBytes: 1 * MB };
/** 16× the bodies and about 16× the bytes the stack takes at once (each body is about 250 KB). */
const BODIES = 64;
const EVENTS_PER_BODY = 45;
/**
 * Peak resident memory above idle. Measured: 128–146 MB, DuckDB's cache of what was stored
 * included; the same flood without the bounds took about 210 MB.
 */
const MEMORY_BOUND = 176 * MB;
const TEAMS = ["risk", "search", "ads", "assistants", "vision"];

const hour = floorHour(Date.now()) - 2 * HOUR_MS;

/** Body `b` (events as emitters send them, labels and all) and what each team's events in it cost. */
function body(b: number): { bytes: Buffer; costs: Map<string, bigint> } {
  const costs = new Map<string, bigint>();
  const labels = Object.fromEntries(Array.from({ length: 20 }, (_, l) => [`label-${l}`, "x".repeat(256)]));
  const events = Array.from({ length: EVENTS_PER_BODY }, (_, e) => {
    const team = TEAMS[(b + e) % TEAMS.length] ?? "risk";
    const nanos = BigInt(1_000_003 * (b + 1) + e);
    costs.set(team, (costs.get(team) ?? 0n) + nanos);
    return inferenceEvent({
      id: `flood-${b}-${e}`,
      time: new Date(hour + b * 1000 + e).toISOString(),
      data: { team, cost_nanos: String(nanos), labels },
    });
  });
  return { bytes: Buffer.from(JSON.stringify(events)), costs };
}

describe("the local stack under far more concurrent bodies than it takes", () => {
  const db = tempDuckDb("finops-backpressure-");
  let stack: StackProcess;

  beforeAll(async () => {
    const config = join(db.dir, "finops.config.json");
    writeFileSync(config, JSON.stringify({ version: 1, local: LIMITS }));
    stack = await startStackProcess({ FINOPS_DUCKDB_PATH: db.path, FINOPS_CONFIG: config });
  });
  afterAll(() => {
    stack?.kill();
    db.remove();
  });

  it("answers 503 with Retry-After beyond its bounds, stays within its memory, and counts every retried body once", async () => {
    // Prepare
    const bodies = Array.from({ length: BODIES }, (_, b) => body(b));
    const expected = new Map<string, bigint>();
    for (const { costs } of bodies)
      for (const [team, nanos] of costs) expected.set(team, (expected.get(team) ?? 0n) + nanos);
    const idle = stack.memory().rss;
    const refusals: Array<{ retryAfter: string | null; body: unknown }> = [];

    // Act: a producer that waits what Retry-After says (jittered) and sends again
    const send = async (bytes: Buffer): Promise<number> => {
      for (;;) {
        const res = await fetch(`${stack.url}/v1/events`, {
          method: "POST",
          body: bytes,
          headers: { "content-type": "application/cloudevents-batch+json" },
        });
        if (res.status !== 503) {
          await res.arrayBuffer();
          return res.status;
        }
        const retryAfter = res.headers.get("retry-after");
        refusals.push({ retryAfter, body: await res.json() });
        await new Promise((resolve) =>
          setTimeout(resolve, Number(retryAfter) * 1000 * (0.5 + Math.random())),
        );
      }
    };
    const statuses = await Promise.all(bodies.map((b) => send(b.bytes)));
    const peak = stack.memory().peakRss;
    const refreshed = await fetch(`${stack.url}/refreshRollups`, { method: "POST" });
    await refreshed.arrayBuffer();
    const range = `from=${new Date(hour).toISOString()}&to=${new Date(hour + HOUR_MS).toISOString()}`;
    const report = (await (await fetch(`${stack.url}/costReport?by=team&${range}`)).json()) as Array<{
      team: string;
      cost_nanos: string;
    }>;

    // Assess
    expect(statuses).toEqual(bodies.map(() => 200));
    expect(refusals.length).toBeGreaterThan(0);
    for (const refusal of refusals) {
      expect(refusal.retryAfter).toBe("1");
      expect(refusal.body).toEqual({ error: expect.stringMatching(/in flight, retry later$/) });
    }
    expect(peak - idle).toBeLessThan(MEMORY_BOUND);
    expect(refreshed.status).toBe(200);
    expect(new Map(report.map((r) => [r.team, BigInt(r.cost_nanos)]))).toEqual(expected);
  }, 30_000);
});
