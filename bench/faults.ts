import { join } from "node:path";
import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import { type StackProcess, startStackProcess } from "../test/support/local-stack-process.ts";

// A fault-injection run against the local stack as a real process: producers post bodies of events
// (some twice, as a producer that lost an answer would), the stack is killed with -9 while bodies
// are in flight, restarted, and the producers resend whatever was not acknowledged. At the end the
// warehouse is read: every event sent must be reported exactly once.

const HOUR_MS = 3_600_000;
const TEAMS = ["risk", "search", "vision", "ads"];

export interface FaultRun {
  events: number;
  /** Bodies posted, resends included. */
  posts: number;
  /** Posts answered 2xx. */
  acknowledged: number;
  /** Posts that got no answer (connection lost in a kill) or a 503, later resent. */
  unanswered: number;
  kills: number;
  /** Distinct events in the raw table and rows that repeat a key. */
  stored: number;
  doubled: number;
  /** Events sent but missing from the warehouse. */
  lost: number;
  reportedNanos: bigint;
  expectedNanos: bigint;
  seconds: number;
}

function bodies(events: number, perBody: number, hour: number) {
  const out: string[] = [];
  let expected = 0n;
  for (let start = 0; start < events; start += perBody) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(events, start + perBody); i++) {
      const cost = 1_000_003n * BigInt(i + 1);
      expected += cost;
      lines.push(
        JSON.stringify({
          specversion: "1.0",
          id: `fault-${i}`,
          source: "//inference/fault-bench",
          type: "ai.cost.inference.v1",
          time: new Date(hour - 6 * HOUR_MS + Math.floor((i * 6 * HOUR_MS) / events)).toISOString(),
          data: {
            team: TEAMS[i % TEAMS.length],
            model: "ranker",
            model_version: "v1",
            business_unit: "search",
            provider: "self",
            cost_nanos: String(cost),
          },
        }),
      );
    }
    out.push(lines.join("\n"));
  }
  return { out, expected };
}

export async function runFaultInjection(
  dir: string,
  options: { events: number; perBody: number; producers: number; kills: number },
): Promise<FaultRun> {
  const began = performance.now();
  const path = join(dir, "faults.duckdb");
  const hour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  const { out, expected } = bodies(options.events, options.perBody, hour);
  // Every 20th body is sent twice: a producer that lost the answer to a delivery that landed.
  const queue = out.flatMap((body, i) => (i % 20 === 0 ? [body, body] : [body]));
  let stack: StackProcess = await startStackProcess({ FINOPS_DUCKDB_PATH: path });
  let restarting: Promise<void> | null = null;
  const run = { posts: 0, acknowledged: 0, unanswered: 0, kills: 0 };
  const killEvery = Math.floor(queue.length / (options.kills + 1));

  const restart = () => {
    restarting ??= (async () => {
      stack.child.kill("SIGKILL");
      await stack.exited;
      run.kills += 1;
      stack = await startStackProcess({ FINOPS_DUCKDB_PATH: path });
      restarting = null;
    })();
    return restarting;
  };

  async function post(body: string): Promise<void> {
    for (;;) {
      if (restarting) await restarting;
      run.posts += 1;
      try {
        const res = await fetch(`${stack.url}/v1/events`, {
          method: "POST",
          headers: { "content-type": "application/x-ndjson" },
          body,
        });
        await res.arrayBuffer();
        if (res.ok) {
          run.acknowledged += 1;
          return;
        }
      } catch {
        // The stack died with the body in flight: not acknowledged, so it is sent again.
      }
      run.unanswered += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  let next = 0;
  await Promise.all(
    Array.from({ length: options.producers }, async () => {
      while (next < queue.length) {
        const index = next++;
        const sending = post(queue[index] as string);
        // Kill while this body and the other producers' are in flight.
        if (index > 0 && index % killEvery === 0 && run.kills < options.kills) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          await restart();
        }
        await sending;
      }
    }),
  );
  await fetch(`${stack.url}/refreshRollups`, { method: "POST" });
  stack.child.kill("SIGTERM");
  await stack.exited;

  const warehouse = createDuckDbWarehouse({ path });
  try {
    const range = { from: new Date(hour - 7 * HOUR_MS), to: new Date(hour + HOUR_MS) };
    const raw = await warehouse.readEvents(range);
    const keys = new Set(raw.map((r) => r.event_id));
    const [total] = await warehouse.report({ ...range, by: [], reads: "rollup" });
    return {
      events: options.events,
      ...run,
      stored: keys.size,
      doubled: raw.length - keys.size,
      lost: options.events - keys.size,
      reportedNanos: total?.cost_nanos ?? 0n,
      expectedNanos: expected,
      seconds: (performance.now() - began) / 1000,
    };
  } finally {
    await warehouse.close();
  }
}
