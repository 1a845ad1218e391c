import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { createCostReport } from "#app/cost-report.ts";
import type { IngestSummary } from "#app/ingest-events.ts";
import type { Dimension, RejectedRow } from "#domain/cost-row.ts";
import { DEMO_GATEWAY_DEPLOYMENT } from "#domain/demo/gateway-traffic.ts";
import type { BusMessage } from "#ports/bus.ts";
import type { ReportRow, TimeRange, Warehouse } from "#ports/warehouse.ts";
import { readEnv } from "#runtime/env.ts";
import type { LocalStack } from "#runtime/local/local-stack.ts";
import type { Runtime } from "#runtime/runtime.ts";
import { openLocalSession } from "../../bin/commands/local-session.ts";

export const HOUR_MS = 3_600_000;
export const floorHour = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;

/** A fresh temporary directory and the DuckDB file path inside it; `remove` deletes the directory. */
export function tempDuckDb(prefix = "finops-e2e-"): { dir: string; path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    path: join(dir, "finops.duckdb"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TestSession {
  runtime: Runtime;
  stack: LocalStack;
  close(): Promise<void>;
}

/**
 * Opens the local stack the way `openLocalSession` (bin/commands/local-session.ts) does, on a free
 * port and the DuckDB file at `duckdbPath`. The environment is passed explicitly, not read from
 * process.env. The scheduler ticks once an hour so that only the test triggers rollup refreshes.
 */
export async function openTestSession(duckdbPath: string): Promise<TestSession> {
  return openLocalSession(0, {
    env: readEnv({ FINOPS_DUCKDB_PATH: duckdbPath, FINOPS_LOG_LEVEL: "error" }),
    scheduleEveryMs: () => HOUR_MS,
  });
}

/** A test session that can run the demo (runDemo): with the demo's vLLM deployment behind LiteLLM, as `finops start --demo` has. */
export async function openDemoTestSession(duckdbPath: string): Promise<TestSession> {
  return openLocalSession(0, {
    env: readEnv({ FINOPS_DUCKDB_PATH: duckdbPath, FINOPS_LOG_LEVEL: "error" }),
    scheduleEveryMs: () => HOUR_MS,
    extraDeployments: [DEMO_GATEWAY_DEPLOYMENT],
  });
}

/**
 * Opens a test session on a fresh DuckDB file before the enclosing describe's tests and closes it
 * (removing the file) after them; the returned function gives the open session.
 */
export function useTestSession(): () => TestSession {
  const db = tempDuckDb();
  let session: TestSession | undefined;
  beforeAll(async () => {
    session = await openTestSession(db.path);
  });
  afterAll(async () => {
    await session?.close();
    db.remove();
  });
  return () => {
    if (session === undefined) throw new Error("useTestSession: the session opens in beforeAll");
    return session;
  };
}

/** POSTs `body` to the stack's `path` and returns the status and the parsed JSON answer. */
export async function postJson<T = IngestSummary>(
  stack: LocalStack,
  path: string,
  body: string,
  headers: Record<string, string> = { "content-type": "application/json" },
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${stack.url}${path}`, { method: "POST", body, headers });
  const text = await res.text();
  return { status: res.status, body: (text === "" ? undefined : JSON.parse(text)) as T };
}

/** Waits until the in-process bus has delivered everything (the memory bus can drain). */
export async function drainBus(runtime: Runtime): Promise<void> {
  const bus = runtime.bus as { drain?: () => Promise<void> };
  if (typeof bus.drain !== "function")
    throw new Error("the runtime's bus cannot drain; expected the memory bus");
  await bus.drain();
}

/** Runs refreshRollups through its HTTP handler, as the scheduler does, and fails loudly on an error. */
export async function refreshRollups(stack: LocalStack): Promise<void> {
  const res = await stack.trigger("refreshRollups");
  if (!res.ok) throw new Error(`refreshRollups answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
}

/** What `finops report` computes: cost per group over [from, to) from the hourly rollup. */
export function report(runtime: Runtime, query: { by: Dimension[] } & TimeRange): Promise<ReportRow[]> {
  return createCostReport({ warehouse: runtime.warehouse })(query);
}

/** Report rows keyed by their group values joined with "|". */
export function totalsByGroup(rows: readonly ReportRow[], by: readonly Dimension[]): Map<string, bigint> {
  const totals = new Map<string, bigint>();
  for (const row of rows) {
    const key = by.map((d) => row.group[d] ?? "").join("|");
    if (totals.has(key)) throw new Error(`report lists group ${key} twice`);
    totals.set(key, row.cost_nanos);
  }
  return totals;
}

/** The rejected table's rows in a range (the embedded warehouse can read them back). */
export function readRejected(warehouse: Warehouse, range: TimeRange): Promise<RejectedRow[]> {
  const reader = warehouse as Warehouse & { readRejected?: (r: TimeRange) => Promise<RejectedRow[]> };
  if (typeof reader.readRejected !== "function") throw new Error("the warehouse cannot read rejected rows");
  return reader.readRejected(range);
}

/** One bus message carrying `events` as a CloudEvents batch, the way emitters publish. */
export function batchMessage(events: readonly unknown[]): BusMessage {
  return {
    data: Buffer.from(JSON.stringify(events)),
    attributes: { "content-type": "application/cloudevents-batch+json" },
  };
}
