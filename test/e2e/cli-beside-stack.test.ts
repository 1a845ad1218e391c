import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatFocusCsv } from "#adapters/focus-file/focus-csv.ts";
import { addDays, type BilledLine, dayOf } from "#domain/billing/billed-line.ts";
import { decimalToNanos } from "#domain/money.ts";
import { inferenceEvent, trainingEvent } from "../support/ingest-builders.ts";
import { type StackProcess, startStackProcess } from "../support/local-stack-process.ts";
import { floorHour, HOUR_MS, tempDuckDb } from "../support/local-stack-session.ts";
import { type CliResult, runCli } from "../support/run-cli.ts";

// Every command the README runs "from another terminal", run while `finops start` holds the same
// warehouse: it finds the stack (<warehouse>.stack.json) and asks it, and prints what it prints with
// no stack, with the same exit code. Then --url from anywhere, and a discovery file left behind.

// Budgets forecast by the hour: the runs compared all fall in one hour, the next one if this one ends soon.
const left = floorHour(Date.now()) + HOUR_MS - Date.now();
if (left < 150_000) await new Promise((resolve) => setTimeout(resolve, left + 2000));

const db = tempDuckDb("finops-beside-stack-");
const config = join(db.dir, "finops.config.json");
/** Now, for every command: what the jobs, the scorecard and the default ranges are judged at. */
const NOW = new Date().toISOString();
const env = {
  FINOPS_DUCKDB_PATH: db.path,
  FINOPS_CONFIG: config,
  FINOPS_LOG_LEVEL: "error",
  FINOPS_NOW: NOW,
};
const finops = (...args: string[]) => runCli(args, env);

/** Three days ago, UTC: a settled day to reconcile. */
const DAY = addDays(dayOf(new Date()), -3);
/** The range every ranged command reads: from DAY to the end of NOW's hour (the default). */
const RANGE = ["--from", DAY];
const eventsPath = join(db.dir, "events.ndjson");
const billPath = join(db.dir, "bill.focus.csv");

function billLine(team: string, usd: string): BilledLine {
  return {
    ChargePeriodStart: DAY,
    ChargePeriodEnd: addDays(DAY, 1),
    ChargeCategory: "Usage",
    ChargeClass: null,
    ChargeFrequency: null,
    ProviderName: "Google Cloud",
    BillingAccountId: "01A2B3-C4D5E6-F7A8B9",
    SubAccountId: "ml-prod",
    ServiceName: "Compute Engine",
    BilledCost: decimalToNanos(usd),
    EffectiveCost: decimalToNanos(usd),
    BillingCurrency: "USD",
    Tags: { "k8s-namespace": team, team },
    x_namespace: team,
    x_team: team,
    x_model: null,
    x_cost_center: null,
    x_environment: null,
  };
}

/**
 * The commands, each as a user types it. The ones that write are run a first time before, so that a
 * run is the same whenever it comes (an ingest again finds duplicates, a bill import replaces its
 * days, a reconcile replaces its day and its alerts are sent already).
 */
const COMMANDS: readonly (readonly string[])[] = [
  ["ingest", eventsPath, "--quiet"],
  ["report", "--by", "team,model", "--format", "json", ...RANGE],
  ["report", "--view", "trend", "--by", "hour,team", "--format", "csv", ...RANGE],
  ["report", "--view", "training", ...RANGE],
  ["export", "--format", "focus", "--granularity", "hour", ...RANGE],
  ["jobs", ...RANGE],
  ["jobs", "--format", "json", ...RANGE],
  ["budgets", "check"],
  ["budgets", "check", "--format", "json"],
  ["scorecard"],
  ["billing", "import", "--file", billPath],
  ["reconcile", "--date", DAY],
  ["reconcile", "--date", DAY, "--format", "json"],
  // Failures and usage errors are told alike too.
  ["billing", "import", "--file", join(db.dir, "missing.csv")],
  ["jobs", "--from", "2026-11-02", "--to", "2026-11-01"],
  ["report", "--from", "2026-11-31"],
];

/** What is compared: exit code, stdout and stderr. */
const outcome = ({ code, stdout, stderr }: CliResult) => ({ code, stdout, stderr });

async function runAll(extraArgs: readonly string[] = [], extraEnv: Record<string, string> = {}) {
  const results: CliResult[] = [];
  for (const args of COMMANDS) results.push(await runCli([...args, ...extraArgs], { ...env, ...extraEnv }));
  return results;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  return child.pid ?? 999_999;
}

describe("the CLI beside a running stack", () => {
  let alone: CliResult[];
  let stack: StackProcess | undefined;

  beforeAll(async () => {
    const hour = floorHour(Date.now()) - HOUR_MS;
    const at = (offsetMs: number) => new Date(Date.parse(`${DAY}T10:00:00Z`) + offsetMs).toISOString();
    const events = [
      inferenceEvent({ id: "b1", time: at(60_000), data: { team: "search", namespace: "search" } }),
      inferenceEvent({ id: "b2", time: at(120_000), data: { team: "ads", namespace: "ads" } }),
      inferenceEvent({ id: "b3", time: new Date(hour + 60_000).toISOString(), data: { team: "search" } }),
      trainingEvent({
        id: "t1-start",
        time: at(0),
        data: { job_id: "t1", phase: "started", elapsed_seconds: 0, cost_nanos: "0" },
      }),
      trainingEvent({
        id: "t1-done",
        time: at(HOUR_MS),
        data: { job_id: "t1", phase: "finished", epoch: 3 },
      }),
    ];
    writeFileSync(eventsPath, events.map((e) => JSON.stringify(e)).join("\n"));
    writeFileSync(billPath, formatFocusCsv([billLine("search", "4"), billLine("ads", "2")]));
    const budget = {
      name: "search-monthly",
      scope: { team: "search" },
      period: "monthly",
      amount: "1",
      currency: "USD",
    };
    writeFileSync(config, JSON.stringify({ version: 1, budgets: [budget] }));

    for (const args of [
      COMMANDS[0],
      ["billing", "import", "--file", billPath],
      ["reconcile", "--date", DAY],
    ]) {
      const first = await finops(...(args as string[]));
      expect(first.code, first.stderr).toBe(0);
    }
    alone = await runAll();
  }, 360_000);

  afterAll(() => {
    stack?.kill();
    db.remove();
  });

  it("runs every command with no stack: the outcomes compared below", () => {
    expect(alone.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 2, 2]);
    for (const result of alone.slice(0, 13)) expect(result.stdout).not.toBe("");
    expect(alone[4]?.stderr).toMatch(/^ {2}\d{4}-\d\d-\d\dT\d\d:00Z .* rows/m);
  });

  it("asks the stack holding the warehouse, with no flag: same stdout, stderr and exit code", async () => {
    stack = await startStackProcess(env);
    const file = JSON.parse(readFileSync(`${db.path}.stack.json`, "utf8"));
    expect(file).toMatchObject({ url: stack.url, pid: stack.child.pid, warehouse: db.path });

    const beside = await runAll();

    beside.forEach((result, i) => {
      expect(outcome(result), COMMANDS[i]?.join(" ")).toEqual(outcome(alone[i] as CliResult));
    });
  }, 180_000);

  it("--url asks that stack from anywhere, for every command", async () => {
    const url = stack?.url as string;
    const elsewhere = { FINOPS_DUCKDB_PATH: join(db.dir, "nowhere", "finops.duckdb") };

    const remote = await runAll(["--url", url], elsewhere);

    remote.forEach((result, i) => {
      expect(outcome(result), COMMANDS[i]?.join(" ")).toEqual(outcome(alone[i] as CliResult));
    });
    expect(existsSync(join(db.dir, "nowhere"))).toBe(false);
  }, 180_000);

  it("finds the stack through a symbolic link to its warehouse's folder", async () => {
    const link = join(db.dir, "linked");
    symlinkSync(db.dir, link);
    const args = ["report", "--by", "team", ...RANGE, "--format", "json"];

    const [direct, linked] = [
      await runCli(args, env),
      await runCli(args, { ...env, FINOPS_DUCKDB_PATH: join(link, "finops.duckdb") }),
    ];

    expect(linked.code).toBe(0);
    expect(outcome(linked)).toEqual(outcome(direct));
  }, 60_000);

  it("removes its file at a clean stop; a file whose pid is gone or whose URL does not answer is ignored", async () => {
    const stopped = stack as StackProcess;
    stopped.child.kill("SIGTERM");
    expect((await stopped.exited).code).toBe(0);
    expect(existsSync(`${db.path}.stack.json`)).toBe(false);

    const report = COMMANDS.findIndex((args) => args[0] === "report");
    const stale = (pid: number, url: string) =>
      writeFileSync(
        `${db.path}.stack.json`,
        JSON.stringify({ url, pid, warehouse: db.path, started_at: new Date().toISOString() }),
      );
    stale(deadPid(), stopped.url);
    const afterKill = await finops(...(COMMANDS[report] as string[]));
    // This test's own process is alive, but nothing answers at the URL.
    stale(process.pid, "http://127.0.0.1:9");
    const deafUrl = await finops(...(COMMANDS[report] as string[]));

    expect(outcome(afterKill)).toEqual(outcome(alone[report] as CliResult));
    expect(outcome(deafUrl)).toEqual(outcome(alone[report] as CliResult));
  }, 60_000);
});
