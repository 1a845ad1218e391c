import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeMlflow, fixtureRuns, startFakeMlflow } from "../support/fake-mlflow-server.ts";
import { tempDuckDb } from "../support/local-stack-session.ts";
import { runCli } from "../support/run-cli.ts";

// `finops allocations collect` and `finops mlflow import` as an operator runs them, in their own
// process over a fresh warehouse: Kubecost's allocations of each hour asked (the constructed fixture,
// its window set to the hour asked) and an MLflow server answering the fixture's runs.

const HOUR_MS = 3_600_000;
/** The fixture's seven allocations of one hour: 6.60505 USD. */
const HOUR_NANOS = 6_605_050_000n;
const FIXTURE = readFileSync(
  new URL("../fixtures/opencost/allocation-namespace-pod-idle.CONSTRUCTED.json", import.meta.url),
  "utf8",
);

const db = tempDuckDb("finops-import-cli-");
let kubecost: Server;
let mlflow: FakeMlflow;
const asked: string[] = [];

/** The instant the MLflow fixture's runs are seen from (test/integration/import-mlflow-runs.test.ts). */
const FIXTURE_NOW = Date.parse("2026-11-20T12:00:00Z");

/** A fixture run with its times moved by `ms`, so it is as recent today as it was then. */
function shifted(run: Record<string, unknown>, ms: number): Record<string, unknown> {
  const move = (t: unknown) => (t === undefined ? t : Number(t) + ms);
  const { info, data } = run as {
    info: Record<string, unknown>;
    data: { metrics?: { timestamp: unknown }[] } & Record<string, unknown>;
  };
  return {
    ...run,
    info: { ...info, start_time: move(info.start_time), end_time: move(info.end_time) },
    data: { ...data, metrics: data.metrics?.map((m) => ({ ...m, timestamp: move(m.timestamp) })) },
  };
}

/** Whole UTC hours ago, as the flags take them. */
const hoursAgo = (n: number) =>
  new Date((Math.floor(Date.now() / HOUR_MS) - n) * HOUR_MS).toISOString().replace(":00.000Z", "Z");

function finops(args: string[], config: Record<string, unknown>) {
  const file = join(db.dir, "finops.config.json");
  writeFileSync(
    file,
    JSON.stringify({ version: 1, warehouse: { kind: "duckdb", duckdb: { path: db.path } }, ...config }),
  );
  return runCli(args, { FINOPS_CONFIG: file, FINOPS_LOG_LEVEL: "error" });
}

beforeAll(async () => {
  kubecost = createServer((req, res) => {
    const window = new URL(req.url ?? "/", "http://x").searchParams.get("window") ?? "";
    asked.push(window);
    const [from = "", to = ""] = window.split(",");
    const body = FIXTURE.replaceAll("2026-11-15T10:00:00Z", from).replaceAll("2026-11-15T11:00:00Z", to);
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  });
  await new Promise<void>((resolve) => kubecost.listen(0, "127.0.0.1", resolve));
  mlflow = await startFakeMlflow();
  mlflow.addExperiment("llm-finetune", "4");
  mlflow.addRuns(fixtureRuns().map((run) => shifted(run, Date.now() - FIXTURE_NOW)));
});

afterAll(async () => {
  kubecost.closeAllConnections();
  await new Promise<void>((resolve) => kubecost.close(() => resolve()));
  await mlflow.close();
  db.remove();
});

describe("finops allocations collect", () => {
  const allocations = () => ({
    allocations: {
      flavor: "opencost",
      baseUrl: `http://127.0.0.1:${(kubecost.address() as AddressInfo).port}`,
      cluster: "prod-gke-1",
      cloud: "gcp",
      region: "europe-west4",
    },
  });

  it("backfills a window hour by hour, with progress, and a wider one over it adds only the new hours", async () => {
    // Act
    const first = await finops(
      ["allocations", "collect", "--from", hoursAgo(3), "--to", hoursAgo(1)],
      allocations(),
    );
    const wider = await finops(
      ["allocations", "collect", "--from", hoursAgo(5), "--to", hoursAgo(1), "--format", "json"],
      allocations(),
    );
    const report = await finops(
      ["report", "--by", "team", "--from", hoursAgo(5), "--to", hoursAgo(1), "--format", "json"],
      {},
    );

    // Assess
    expect(first.code).toBe(0);
    expect(first.stderr).toBe(
      `hour 1 of 2 (${hoursAgo(3)}): 7 events, 6.61 USD\nhour 2 of 2 (${hoursAgo(2)}): 7 events, 6.61 USD\n`,
    );
    expect(first.stdout).toMatch(
      /^Collected .* \(2 hours\): 14 allocations, 14 events published\n {2}total 13\.21 USD/,
    );
    expect(JSON.parse(wider.stdout)).toMatchObject({ hours: 4, totalNanos: String(4n * HOUR_NANOS) });
    expect(asked).toHaveLength(6);
    const rows = JSON.parse(report.stdout) as { cost_nanos: string }[];
    expect(rows.reduce((sum, r) => sum + BigInt(r.cost_nanos), 0n)).toBe(4n * HOUR_NANOS);
  });

  it("names the flag of a window it cannot collect, and a missing configuration, before asking anything", async () => {
    const before = asked.length;
    const lone = await finops(["allocations", "collect", "--from", hoursAgo(3)], allocations());
    const half = await finops(
      ["allocations", "collect", "--from", hoursAgo(3).replace(":00Z", ":30Z"), "--to", hoursAgo(1)],
      allocations(),
    );
    const future = await finops(
      ["allocations", "collect", "--from", hoursAgo(1), "--to", hoursAgo(-1)],
      allocations(),
    );
    const none = await finops(["allocations", "collect"], {});

    expect([lone.code, half.code, future.code, none.code]).toEqual([2, 2, 2, 1]);
    expect(lone.stderr).toBe(
      "finops allocations: --to: required with the other (see finops allocations --help)\n",
    );
    expect(half.stderr).toMatch(/^finops allocations: --from: .* is not a whole UTC hour/);
    expect(future.stderr).toMatch(/^finops allocations: --to: .* has not passed yet/);
    expect(none.stderr).toMatch(/^finops allocations: no allocations source is configured/);
    expect(asked).toHaveLength(before);
  });
});

describe("finops mlflow import", () => {
  const mlflowImport = () => ({
    training: { mlflowImport: { baseUrl: mlflow.url, experiments: ["llm-finetune"] } },
  });

  it("imports the runs, says which it skipped and why, and adds nothing the second time", async () => {
    const first = await finops(["mlflow", "import"], mlflowImport());
    const again = await finops(["mlflow", "import", "--format", "json"], mlflowImport());

    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /^Read 6 runs of llm-finetune \(id 4\): 4 imported, 0 scheduled, 2 skipped\n/,
    );
    expect(first.stdout).toContain("skipped run 4d5e6f7a8b9c40d1e2f3a4b5c6d7e8f9: lacks team (tags.team)");
    const second = JSON.parse(again.stdout);
    expect(second).toMatchObject({ imported: 4, conflicts: 0, rejected: 0 });
    // Everything is a duplicate but the running run's progress, when a second has passed since.
    expect(second.accepted).toBeLessThanOrEqual(1);
    expect(second.duplicates).toBe(second.events - second.accepted);
  });
});
