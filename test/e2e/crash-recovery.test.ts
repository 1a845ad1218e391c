import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import { createIngestEvents } from "#app/ingest-events.ts";
import { parsePriceCatalog } from "#domain/pricing/catalog.ts";
import { createPricer } from "#domain/pricing/pricer.ts";
import { silentLogger } from "#ports/logger.ts";
import type { TimeRange } from "#ports/warehouse.ts";
import { BATCH_LINES, LOCAL_BODIES_PER_CALL } from "../../bin/commands/event-batches.ts";
import { type StackProcess, startStackProcess } from "../support/local-stack-process.ts";
import { runCli, startCli } from "../support/run-cli.ts";

// Fault injection with real processes: `finops ingest` and `finops start` killed with -9 mid-stream,
// then rerun or restarted. What must hold whatever the timing of the kill: every event is in the
// reports exactly once, and the raw table holds each key once.

const HOUR_MS = 3_600_000;
const CATALOG = fileURLToPath(new URL("../../config/price-catalog.json", import.meta.url));
const NOW_HOUR = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
const RANGE: TimeRange = { from: new Date(NOW_HOUR - 50 * HOUR_MS), to: new Date(NOW_HOUR + HOUR_MS) };
const TEAMS = ["risk", "search", "vision"];

interface Stream {
  events: Record<string, unknown>[];
  /** What the report must show per team, to the nano. */
  expected: Map<string, bigint>;
}

/** `count` inference events over the 48 hours before the current one, each with its own cost, sorted by time. */
function stream(count: number, prefix: string): Stream {
  const expected = new Map<string, bigint>();
  const events = Array.from({ length: count }, (_, i) => {
    const team = TEAMS[i % TEAMS.length] as string;
    const cost = 1_000_003n * BigInt(i + 1);
    expected.set(team, (expected.get(team) ?? 0n) + cost);
    return {
      specversion: "1.0",
      id: `${prefix}-${i}`,
      source: "//inference/crash-test",
      type: "ai.cost.inference.v1",
      time: new Date(NOW_HOUR - 48 * HOUR_MS + Math.floor((i * 48 * HOUR_MS) / count)).toISOString(),
      data: {
        team,
        model: "ranker",
        model_version: "v1",
        business_unit: "search",
        provider: "self",
        cost_nanos: String(cost),
      },
    };
  });
  return { events, expected };
}

/** A deterministic shuffle (the same order on every run). */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  let seed = 42;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const ndjson = (events: readonly unknown[]) => `${events.map((e) => JSON.stringify(e)).join("\n")}\n`;

/** Reports per team and the raw key count, read from the file once no process holds it. */
async function stored(path: string) {
  const warehouse = createDuckDbWarehouse({ path });
  try {
    const rows = await warehouse.report({ ...RANGE, by: ["team"], reads: "rollup" });
    const raw = await warehouse.readEvents(RANGE);
    const keys = new Set(raw.map((r) => `${r.event_source} ${r.event_id} ${r.part}`));
    return {
      byTeam: new Map(rows.map((r) => [r.group.team as string, r.cost_nanos])),
      rows: raw.length,
      keys: keys.size,
    };
  } finally {
    await warehouse.close();
  }
}

describe("crash recovery (kill -9)", () => {
  const dirs: string[] = [];
  const stacks: StackProcess[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "finops-crash-"));
    dirs.push(dir);
    return dir;
  };

  afterEach(() => {
    for (const stack of stacks.splice(0)) stack.kill();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ["sorted by time", false],
    ["shuffled", true],
  ])(
    "finops ingest killed after its first batch, then rerun: exact reports (%s)",
    async (_, shuffle) => {
      const dir = tempDir();
      // One insert and a part of the next: the first is committed when its progress line shows.
      const firstInsert = BATCH_LINES * LOCAL_BODIES_PER_CALL;
      const total = firstInsert + BATCH_LINES;
      const { events, expected } = stream(total, shuffle ? "s" : "t");
      const file = join(dir, "events.ndjson");
      writeFileSync(file, ndjson(shuffle ? shuffled(events) : events));
      const env = { FINOPS_DUCKDB_PATH: join(dir, "finops.duckdb") };

      const first = startCli(["ingest", file], env);
      await first.waitFor(new RegExp(`ingested ${firstInsert} events`));
      first.kill();
      const rerun = await runCli(["ingest", file, "--quiet"], env);

      expect(rerun.code, rerun.stderr).toBe(0);
      const answer = JSON.parse(rerun.stdout) as { accepted: number; duplicates: number; conflicts: number };
      expect(answer.duplicates).toBeGreaterThanOrEqual(firstInsert);
      expect(answer.accepted + answer.duplicates).toBe(total);
      expect(answer.conflicts).toBe(0);
      const after = await stored(env.FINOPS_DUCKDB_PATH);
      expect(after.byTeam).toEqual(expected);
      expect(after.keys).toBe(total);
      expect(after.rows).toBe(total);
    },
    120_000,
  );

  it("rows stored before a long outage (ingested three hours before the restart) reach the reports", async () => {
    const dir = tempDir();
    const path = join(dir, "finops.duckdb");
    const threeHoursAgo = new Date(Date.now() - 3 * HOUR_MS);
    // Events up to the moment of the outage, and what the reports must show of them.
    const events = stream(3_000, "outage").events.filter(
      (e) => Date.parse(e.time as string) < threeHoursAgo.getTime(),
    );
    const expected = new Map<string, bigint>();
    for (const e of events) {
      const data = e.data as { team: string; cost_nanos: string };
      expected.set(data.team, (expected.get(data.team) ?? 0n) + BigInt(data.cost_nanos));
    }
    // What a stack killed three hours ago left: rows acknowledged and stored, no refresh since.
    const before = createDuckDbWarehouse({ path });
    await before.init();
    const { ingest } = createIngestEvents({
      warehouse: before,
      pricer: createPricer(parsePriceCatalog(JSON.parse(readFileSync(CATALOG, "utf8")), CATALOG)),
      clock: { now: () => threeHoursAgo },
      logger: silentLogger,
    });
    await ingest(ndjson(events), "application/x-ndjson");
    await before.close();

    const stack = await startStackProcess({ FINOPS_DUCKDB_PATH: path });
    stacks.push(stack);
    await fetch(`${stack.url}/refreshRollups`, { method: "POST" });
    stack.child.kill("SIGTERM");
    await stack.exited;

    expect((await stored(path)).byTeam).toEqual(expected);
  }, 60_000);

  it("the local stack killed right after acknowledging bodies, restarted: exact reports, nothing doubled", async () => {
    const dir = tempDir();
    const { events, expected } = stream(6_000, "stack");
    const config = join(dir, "slow-rollup.json");
    // No refresh runs before the kill: every acknowledged body is still only in the pending record.
    writeFileSync(config, JSON.stringify({ version: 1, local: { rollupIntervalMs: 3_600_000 } }));
    const path = join(dir, "finops.duckdb");
    const first = await startStackProcess({ FINOPS_DUCKDB_PATH: path, FINOPS_CONFIG: config });
    stacks.push(first);
    const order = shuffled(events);
    for (let at = 0; at < order.length; at += 1_000) {
      const res = await fetch(`${first.url}/v1/events`, {
        method: "POST",
        headers: { "content-type": "application/x-ndjson" },
        body: ndjson(order.slice(at, at + 1_000)),
      });
      expect(res.status).toBe(200);
    }
    first.child.kill("SIGKILL");
    await first.exited;

    // The producer did not see the last answer: it sends the last body again.
    const second = await startStackProcess({ FINOPS_DUCKDB_PATH: path });
    stacks.push(second);
    const resent = await fetch(`${second.url}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body: ndjson(order.slice(5_000)),
    });
    expect(await resent.json()).toMatchObject({ accepted: 0, duplicates: 1_000, conflicts: 0 });
    await fetch(`${second.url}/refreshRollups`, { method: "POST" });
    second.child.kill("SIGTERM");
    await second.exited;

    const after = await stored(path);
    expect(after.byTeam).toEqual(expected);
    expect(after.keys).toBe(6_000);
    expect(after.rows).toBe(6_000);
  }, 60_000);
});
