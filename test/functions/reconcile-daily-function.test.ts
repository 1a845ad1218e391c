import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getTestServer } from "@google-cloud/functions-framework/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import { formatFocusCsv } from "#adapters/focus-file/focus-csv.ts";
import { createMemoryAlertClaims } from "#adapters/memory-alert-claims/memory-alert-claims.ts";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import { decimalToNanos } from "#domain/money.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import { composeRuntime } from "#runtime/compose.ts";
import { readEnv } from "#runtime/env.ts";
import { type Runtime, setRuntime } from "#runtime/runtime.ts";
import { costRow } from "../support/cost-row-builder.ts";

// The scheduled reconcileDaily under the Functions Framework, composed from a configuration whose
// bill source is a FOCUS file: what Cloud Scheduler's daily POST gets.

const dir = mkdtempSync(join(tmpdir(), "finops-reconcile-fn-"));
const NOW = new Date("2026-11-23T06:30:00Z");
const u = decimalToNanos;
let runtime: Runtime;

async function compose(billFile: string): Promise<Runtime> {
  const config = join(dir, `finops-${Math.random().toString(36).slice(2)}.config.json`);
  writeFileSync(
    config,
    JSON.stringify({
      version: 1,
      reconciliation: {
        minAbsoluteDrift: "1",
        sources: [{ kind: "focus-file", name: "onprem", path: billFile }],
      },
    }),
  );
  const warehouse = createDuckDbWarehouse({ path: ":memory:" });
  const composed = await composeRuntime({
    env: readEnv({ FINOPS_CONFIG: config, FINOPS_DUCKDB_PATH: join(dir, "unused.duckdb") }),
    clock: fixedClock(NOW),
    logger: silentLogger,
    warehouse,
    bus: createMemoryBus({ logger: silentLogger }),
    claims: createMemoryAlertClaims(),
  });
  await warehouse.insertEvents([
    costRow({
      event_time: new Date("2026-11-20T10:00:00Z"),
      team: "search",
      namespace: "search",
      cost_nanos: u("100"),
    }),
  ]);
  await warehouse.refreshHourly({
    from: new Date("2026-11-20T00:00:00Z"),
    to: new Date("2026-11-21T00:00:00Z"),
  });
  setRuntime(composed);
  return composed;
}

const post = async () => {
  const server = getTestServer("reconcileDaily");
  const res = await fetch(await listen(server), { method: "POST" });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
};

async function listen(server: ReturnType<typeof getTestServer>): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  after.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${address.port}/`;
}

const after: (() => Promise<void>)[] = [];

beforeAll(async () => {
  await import("../../functions/reconcile-daily/index.ts");
});

afterEach(async () => {
  for (const close of after.splice(0)) await close();
  await runtime?.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("reconcileDaily (scheduled, daily)", () => {
  it("pulls the configured bill, reconciles the settled window and answers with each day's totals", async () => {
    const bill = join(dir, "onprem.csv");
    writeFileSync(
      bill,
      formatFocusCsv([
        {
          ChargePeriodStart: "2026-11-20",
          ChargePeriodEnd: "2026-11-21",
          ChargeCategory: "Usage",
          ChargeClass: null,
          ChargeFrequency: null,
          ProviderName: "Google Cloud",
          BillingAccountId: "A",
          SubAccountId: null,
          ServiceName: "Compute Engine",
          BilledCost: u("120"),
          EffectiveCost: u("120"),
          BillingCurrency: "USD",
          Tags: {},
          x_namespace: "search",
          x_team: "search",
          x_model: null,
          x_cost_center: null,
          x_environment: null,
        },
      ]),
    );
    runtime = await compose(bill);

    const first = await post();
    const second = await post();

    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      reconciled_at: NOW.toISOString(),
      currency: "USD",
      imported: [{ source: "onprem", lines: 1, period: { start: "2026-11-15", end: "2026-11-22" } }],
      published: [{ key: "reconcile:2026-11-20:cloud=gcp,team=search", kind: "reconciliation.drift" }],
      already_sent: 0,
    });
    const days = first.body?.days as {
      day: string;
      estimated: string;
      billed: string;
      drift_percent: string;
    }[];
    expect(days).toHaveLength(7);
    expect(days.find((d) => d.day === "2026-11-20")).toMatchObject({
      estimated: "100",
      billed: "120",
      drift_percent: "16.67",
    });
    expect(second.body).toMatchObject({ published: [], already_sent: 1 });
  });

  it("answers 500 when a source fails, so the scheduler retries, and stores nothing from the run", async () => {
    runtime = await compose(join(dir, "missing.csv"));
    const res = await post();
    expect(res.status).toBe(500);
    const rows = await runtime.reconciliationView({ from: "2026-11-15", to: "2026-11-22" });
    expect(rows).toEqual([]);
  });
});
