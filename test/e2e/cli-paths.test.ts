import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { inferenceEvent, ndjson } from "../support/ingest-builders.ts";
import { floorHour } from "../support/local-stack-session.ts";
import { runCli } from "../support/run-cli.ts";

// Where the CLI looks for its files, as a user runs it from a project folder with the config elsewhere.
const root = mkdtempSync(join(tmpdir(), "finops-cli-paths-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const quiet = { FINOPS_LOG_LEVEL: "error" };
/** One hour on a p3.2xlarge (3.06 USD) for team risk, stamped in the current hour (so this month). */
const events = ndjson([
  inferenceEvent({
    id: "paths-1",
    time: new Date(floorHour(Date.now())).toISOString(),
    data: { gpu_seconds: 3600 },
  }),
]);
const riskBudget = {
  name: "risk-monthly",
  scope: { team: "risk" },
  period: "monthly",
  amount: "2",
  currency: "USD",
};

function folder(...parts: string[]): string {
  const dir = join(root, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe("paths: the working directory's, and the config file's", () => {
  it("budgets check reads the warehouse under the working directory, not beside a config in another folder", async () => {
    const work = folder("project");
    const conf = folder("settings", "finops");
    writeFileSync(join(conf, "finops.config.json"), JSON.stringify({ version: 1, budgets: [riskBudget] }));
    writeFileSync(join(work, "events.ndjson"), events);
    const env = { ...quiet, FINOPS_CONFIG: join(conf, "finops.config.json") };

    const ingest = await runCli(["ingest", "--quiet", "events.ndjson"], env, undefined, work);
    const check = await runCli(["budgets", "check", "--format", "json"], env, undefined, work);

    expect(ingest.code).toBe(0);
    expect(JSON.parse(ingest.stdout)).toMatchObject({ accepted: 1, rejected: 0 });
    expect(existsSync(join(work, "data", "finops.duckdb"))).toBe(true);
    // 3.06 USD of a 2 USD budget: over, so exit 1, and the spend is the ingested one, not 0.
    expect(check.stderr).toBe("");
    expect(check.code).toBe(1);
    const [status] = JSON.parse(check.stdout).budgets;
    expect(status).toMatchObject({ name: "risk-monthly", spend_nanos: "3060000000", percent: 153 });
    expect(readdirSync(conf)).toEqual(["finops.config.json"]);
  }, 60_000);

  it("a warehouse path written in the config file is relative to that file's folder", async () => {
    const work = folder("project-2");
    const conf = folder("settings-2");
    writeFileSync(
      join(conf, "finops.config.json"),
      JSON.stringify({ version: 1, warehouse: { duckdb: { path: "store/finops.duckdb" } } }),
    );
    const env = { ...quiet, FINOPS_CONFIG: join(conf, "finops.config.json") };

    const ingest = await runCli(["ingest", "--quiet", "-"], env, events, work);
    const report = await runCli(["report", "--by", "team", "--format", "json"], env, undefined, work);

    expect(ingest.code).toBe(0);
    expect(existsSync(join(conf, "store", "finops.duckdb"))).toBe(true);
    expect(existsSync(join(work, "data"))).toBe(false);
    expect(report.code).toBe(0);
    expect(JSON.parse(report.stdout)).toEqual([
      { team: "risk", currency: "USD", cost_nanos: "3060000000", amount: "3.06" },
    ]);
  }, 60_000);
});

describe("a command that only reads never creates a warehouse", () => {
  const READERS: readonly (readonly string[])[] = [
    ["report"],
    ["report", "--view", "training"],
    ["export", "--format", "focus"],
    ["jobs"],
    ["budgets", "check"],
    ["scorecard"],
    ["reconcile", "--date", "2026-11-01"],
    ["billing", "import", "--file", "bill.csv"],
  ];

  it("says there is no warehouse at the path, exits 1 and creates no folder or file", async () => {
    const base = folder("missing");
    const path = join(base, "not", "here", "finops.duckdb");

    const results = await Promise.all(
      READERS.map((args) => runCli(args, { ...quiet, FINOPS_DUCKDB_PATH: path })),
    );

    results.forEach((result, i) => {
      const name = READERS[i]?.[0];
      expect({ args: READERS[i], ...result }).toMatchObject({ code: 1, stdout: "" });
      expect(result.stderr).toBe(
        `finops ${name}: no warehouse at ${path} (run finops start or finops ingest first, or set FINOPS_DUCKDB_PATH)\n`,
      );
    });
    expect(readdirSync(base)).toEqual([]);
  }, 120_000);

  it("names the default path under the working directory, and does not create ./data", async () => {
    const work = folder("empty-project");

    const report = await runCli(["report"], quiet, undefined, work);

    expect(report.code).toBe(1);
    expect(report.stderr).toContain(`no warehouse at ${join(work, "data", "finops.duckdb")} `);
    expect(readdirSync(work)).toEqual([]);
  }, 60_000);

  it("still tells a usage error first (exit 2), whether or not there is a warehouse", async () => {
    const env = { ...quiet, FINOPS_DUCKDB_PATH: join(root, "none", "finops.duckdb") };

    const [from, days, date] = await Promise.all([
      runCli(["report", "--from", "2026-01-01T00:30:00Z"], env),
      runCli(["scorecard", "--days", "0"], env),
      runCli(["reconcile", "--date", "yesterday"], env),
    ]);

    expect([from.code, days.code, date.code]).toEqual([2, 2, 2]);
    expect(from.stderr).toMatch(
      /^finops report: (--)?from: 2026-01-01T00:30:00\.000Z is not on a whole UTC hour/,
    );
    expect(days.stderr).toMatch(/^finops scorecard: --days: must be a whole number of days/);
    expect(existsSync(join(root, "none"))).toBe(false);
  }, 60_000);

  it("budgets list needs no warehouse at all", async () => {
    const work = folder("list-only");

    const list = await runCli(["budgets", "list"], quiet, undefined, work);

    expect(list.code).toBe(0);
    expect(readdirSync(work)).toEqual([]);
  }, 60_000);
});
