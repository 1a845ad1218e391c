import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getTestServer } from "@google-cloud/functions-framework/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import { createMemoryAlertClaims } from "#adapters/memory-alert-claims/memory-alert-claims.ts";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import { composeRuntime } from "#runtime/compose.ts";
import { readEnv } from "#runtime/env.ts";
import { type Runtime, setRuntime } from "#runtime/runtime.ts";
import { type FakeMlflow, fixtureRuns, startFakeMlflow } from "../support/fake-mlflow-server.ts";

// The scheduled importMlflowRuns under the Functions Framework, composed from a configuration that
// names a local MLflow server (the fixture's runs): what Cloud Scheduler's hourly POST gets. Then
// syncTrainingCosts writes the imported jobs' costs back to their own runs.

const dir = mkdtempSync(join(tmpdir(), "finops-mlflow-fn-"));
const NOW = new Date("2026-11-20T12:00:00Z");
const FINISHED = "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6";
const FAILED = "2b3c4d5e6f7a48b9c0d1e2f3a4b5c6d7";
const KILLED = "3c4d5e6f7a8b49c0d1e2f3a4b5c6d7e8";
const NO_TEAM = "4d5e6f7a8b9c40d1e2f3a4b5c6d7e8f9";

let mlflow: FakeMlflow;
let runtime: Runtime;
const after: (() => Promise<void>)[] = [];

async function compose(): Promise<Runtime> {
  const config = join(dir, `finops-${Math.random().toString(36).slice(2)}.config.json`);
  writeFileSync(
    config,
    JSON.stringify({
      version: 1,
      training: {
        mlflow: { baseUrl: mlflow.url },
        mlflowImport: { baseUrl: mlflow.url, experiments: ["llm-finetune"] },
      },
    }),
  );
  const composed = await composeRuntime({
    env: readEnv({
      FINOPS_CONFIG: config,
      FINOPS_DUCKDB_PATH: join(dir, "unused.duckdb"),
      MLFLOW_TRACKING_TOKEN: "mlflow-token",
    }),
    clock: fixedClock(NOW),
    logger: silentLogger,
    warehouse: createDuckDbWarehouse({ path: ":memory:" }),
    bus: createMemoryBus({ logger: silentLogger }),
    claims: createMemoryAlertClaims(),
  });
  setRuntime(composed);
  return composed;
}

async function post(target: string) {
  const server = getTestServer(target);
  await new Promise<void>((resolve) => server.listen(0, resolve));
  after.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const res = await fetch(`http://127.0.0.1:${address.port}/`, { method: "POST" });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  await import("../../functions/import-mlflow-runs/index.ts");
  await import("../../functions/sync-training-costs/index.ts");
});

beforeEach(async () => {
  mlflow = await startFakeMlflow();
  mlflow.addExperiment("llm-finetune", "4");
  mlflow.addRuns(fixtureRuns());
  runtime = await compose();
});

afterEach(async () => {
  for (const close of after.splice(0)) await close();
  await runtime.close();
  await mlflow.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("importMlflowRuns (scheduled, hourly)", () => {
  it("imports the configured experiment's runs, and a second run adds nothing", async () => {
    const first = await post("importMlflowRuns");

    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      at: NOW.toISOString(),
      since: "2026-11-17T12:00:00.000Z",
      experiments: [{ experiment: "llm-finetune", id: "4" }],
      runs: 6,
      imported: 4,
      skipped: 2,
      events: 8,
      accepted: 8,
      duplicates: 0,
      rejected: 0,
    });
    expect(first.body.skippedRuns).toContainEqual({
      run_id: NO_TEAM,
      experiment_id: "4",
      missing: ["team (tags.team)"],
    });
    expect(mlflow.requests.every((r) => r.headers.authorization === "Bearer mlflow-token")).toBe(true);

    const second = await post("importMlflowRuns");
    expect(second.body).toMatchObject({ events: 8, accepted: 0, duplicates: 8 });
  });

  it("lets syncTrainingCosts write each imported job's cost to its own run, closing none", async () => {
    await post("importMlflowRuns");
    mlflow.requests.length = 0;

    const sync = await post("syncTrainingCosts");

    // The running run's last event is on the hour the sync stops at; it is left running either way.
    expect(sync.body).toEqual({ logged: 3, running: 1, refused: 0 });
    const calls = mlflow.requests.map((r) => `${r.method} ${r.path}`);
    expect(calls).not.toContain("POST runs/create");
    expect(calls).not.toContain("POST runs/update");
    const got = mlflow.requests.filter((r) => r.path === "runs/get").map((r) => r.query.run_id);
    expect(got.sort()).toEqual([FINISHED, FAILED, KILLED].sort());
    const logged = mlflow.run(FINISHED).data.metrics as { key: string; value: number }[];
    expect(logged.find((m) => m.key === "training_cost_usd")?.value).toBeCloseTo(47.13696, 6);
    expect(mlflow.run(FINISHED).info.status).toBe("FINISHED");
  });

  it("answers 503 with Retry-After when MLflow is unavailable, so the scheduler retries", async () => {
    mlflow.script("POST runs/search", 503, { error_code: "TEMPORARILY_UNAVAILABLE", message: "busy" });

    const res = await post("importMlflowRuns");

    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).not.toBeNull();
  });

  it("answers 502 saying what MLflow answered when it refuses the import", async () => {
    mlflow.script("POST runs/search", 401, { error_code: "UNAUTHENTICATED", message: "bad token" });

    const res = await post("importMlflowRuns");

    expect(res.status).toBe(502);
    expect(res.body).toEqual({ error: "POST runs/search: UNAUTHENTICATED: bad token" });
  });
});
