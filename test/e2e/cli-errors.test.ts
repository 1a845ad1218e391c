import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inferenceEvent } from "../support/ingest-builders.ts";
import { floorHour, tempDuckDb } from "../support/local-stack-session.ts";
import { type CliResult, runCli } from "../support/run-cli.ts";

// The CLI's one error boundary (bin/error-boundary.ts): every bad input or failure is one line on
// stderr naming what is wrong and what to do, exit 2 for usage (pointing at --help) and 1 for a
// failure, never a stack trace or the help text itself.

const db = tempDuckDb("finops-cli-errors-");
const dir = db.dir;
const env = { FINOPS_DUCKDB_PATH: db.path, FINOPS_LOG_LEVEL: "error" };
const events = join(dir, "events.ndjson");
/** A folder nothing can be created in: /sys for root (who may write anywhere else), else a read-only one. */
const readOnly = process.getuid?.() === 0 ? "/sys" : join(dir, "read-only");
let busy: Server;
let busyPort = 0;
let closedPort = 0;

interface Case {
  args: string[];
  env?: Record<string, string>;
  code: 1 | 2;
  line: RegExp;
}

/** Filled in beforeAll, once the paths and ports exist. */
function cases(): Case[] {
  return [
    { args: ["frobnicate"], code: 2, line: /^finops: unknown command "frobnicate" \(see finops --help\)$/ },
    { args: ["report", "--bogus"], code: 2, line: /^finops report: Unknown option '--bogus'/ },
    { args: ["report", "extra"], code: 2, line: /^finops report: Unexpected argument 'extra'/ },
    // A command that takes files: node's advice on dashed positionals is left out.
    {
      args: ["ingest", "--bogus"],
      code: 2,
      line: /^finops ingest: Unknown option '--bogus' \(see finops ingest --help\)$/,
    },
    {
      args: ["demo", "--hours", "-1"],
      code: 2,
      line: /^finops demo: Option '--hours' argument is ambiguous: give a value that starts with a dash as --hours=-… \(see/,
    },
    {
      args: ["start", "--port", "abc"],
      code: 2,
      line: /^finops start: --port: "abc" is not a port \(a whole number 0\.\.65535/,
    },
    { args: ["start", "--port", "70000"], code: 2, line: /^finops start: --port: "70000" is not a port/ },
    {
      args: ["start", "--port", String(busyPort)],
      env: { FINOPS_DUCKDB_PATH: join(dir, "start", "finops.duckdb") },
      code: 1,
      line: new RegExp(
        `^finops start: port ${busyPort} on 127\\.0\\.0\\.1 is in use by another process: pick another with --port N`,
      ),
    },
    { args: ["demo", "--hours", "0"], code: 2, line: /^finops demo: --hours: a whole number 1\.\.1488/ },
    {
      args: ["jobs", "--from", "2026-11-05", "--to", "2026-11-01"],
      code: 2,
      line: /^finops jobs: --to: must be after --from \(see/,
    },
    {
      args: ["jobs", "--from", "2026-11-31"],
      code: 2,
      line: /^finops jobs: --from: "2026-11-31" is not a date: November 2026 has 30 days/,
    },
    {
      args: ["report", "--from", "2026-02-30"],
      code: 2,
      line: /^finops report: --from: "2026-02-30" is not a date: February 2026 has 28 days/,
    },
    {
      args: ["report", "--to", "2026-11-01T24:00"],
      code: 2,
      line: /^finops report: --to: "2026-11-01T24:00" is not a date: the hour is 00 to 23/,
    },
    {
      args: ["report", "--from", "2026-11-01T10:30Z"],
      code: 2,
      line: /^finops report: --from: 2026-11-01T10:30:00\.000Z is not on a whole UTC hour/,
    },
    {
      args: ["report", "--from", "2000-01-01"],
      code: 2,
      line: /^finops report: --from: the range may span at most 367 days; /,
    },
    {
      args: ["export", "--format", "focus", "--from", "2000-01-01"],
      code: 2,
      line: /^finops export: --from: the range may span at most 367 days/,
    },
    {
      args: ["report", "--view", "trend", "--by", "day,team"],
      code: 2,
      line: /^finops report: --by: the trend is daily already \(name hour for an hourly one\); one of hour, team, model, model_version, business_unit, cost_center, namespace, environment, cloud \(see/,
    },
    {
      args: ["report", "--view", "pivot"],
      code: 2,
      line: /^finops report: --view: one of cost, trend, training, inference, reconciliation \(see/,
    },
    {
      args: ["export", "--format", "focus", "--out", join(dir, "missing", "x.csv")],
      code: 2,
      line: /^finops export: --out: there is no folder .*missing; create it first \(see/,
    },
    {
      args: ["export", "--format", "focus", "--out", dir],
      code: 2,
      line: /^finops export: --out: .* is a folder; name a file in it/,
    },
    {
      args: ["export", "--format", "focus", "--out", join(events, "x.csv")],
      code: 2,
      line: /^finops export: --out: .*events\.ndjson is not a folder/,
    },
    { args: ["ingest", dir], code: 2, line: /^finops ingest: .* is a folder; give a file of events/ },
    {
      args: ["ingest", join(dir, "nope.ndjson"), "--workers", "two"],
      code: 2,
      line: /^finops ingest: --workers: "two" is not a whole number 0\.\.64/,
    },
    {
      args: ["ingest", join(dir, "nope.ndjson")],
      code: 2,
      line: /^finops ingest: cannot read .*nope\.ndjson: no such file or folder \(see/,
    },
    {
      args: ["ingest", join(dir, "truncated.ndjson.gz")],
      code: 1,
      line: /^finops ingest: .*truncated\.ndjson\.gz: not a whole gzip stream \(unexpected end of file\); the bodies the progress lines counted are stored, and sending a whole file again adds only the rest$/,
    },
    {
      args: ["ingest", events],
      env: { FINOPS_DUCKDB_PATH: join(readOnly, "finops.duckdb") },
      code: 1,
      line: /^finops ingest: cannot (open the warehouse .*finops\.duckdb: permission denied|create the warehouse folder)/,
    },
    {
      args: ["ingest", events],
      env: { FINOPS_DUCKDB_PATH: join(readOnly, "sub", "finops.duckdb") },
      code: 1,
      line: /^finops ingest: cannot create the warehouse folder .*sub: (operation not permitted|permission denied) \(set FINOPS_DUCKDB_PATH/,
    },
    {
      args: ["ingest", events],
      env: { FINOPS_DUCKDB_PATH: join(events, "data", "finops.duckdb") },
      code: 1,
      line: /^finops ingest: cannot create the warehouse folder .*: a part of the path is not a folder/,
    },
    {
      args: ["report"],
      env: { FINOPS_DUCKDB_PATH: join(dir, "gone", "finops.duckdb") },
      code: 1,
      line: /^finops report: no warehouse at .*gone\/finops\.duckdb \(run finops start or finops ingest first/,
    },
    {
      args: ["report"],
      env: { FINOPS_CONFIG: join(dir, "none.json") },
      code: 2,
      line: /^finops report: cannot read configuration .*none\.json: ENOENT/,
    },
    {
      args: ["report"],
      env: { FINOPS_CONFIG: dir },
      code: 2,
      line: /^finops report: cannot read configuration .*: EISDIR/,
    },
    {
      args: ["budgets", "list"],
      env: { FINOPS_CONFIG: join(dir, "broken.json") },
      code: 2,
      line: /^finops budgets: cannot read configuration .*broken\.json: .*JSON/,
    },
    {
      args: ["budgets", "check"],
      env: { FINOPS_CONFIG: join(dir, "invalid.json") },
      code: 2,
      line: /^finops budgets: invalid configuration in .*invalid\.json: local\.port: .*; local\.maxInFlightBodies: /,
    },
    {
      args: ["report"],
      env: { FINOPS_LOG_LEVEL: "loud" },
      code: 2,
      line: /^finops report: environment variable FINOPS_LOG_LEVEL: /,
    },
    {
      args: ["report"],
      env: { FINOPS_NOW: "yesterday" },
      code: 2,
      line: /^finops report: environment variable FINOPS_NOW: "yesterday" is not a date/,
    },
    {
      args: ["budgets", "frob"],
      code: 2,
      line: /^finops budgets: unknown action "frob": list or check \(see/,
    },
    {
      args: ["scorecard", "--days", "0"],
      code: 2,
      line: /^finops scorecard: --days: must be a whole number of days from 1 to 400/,
    },
    {
      args: ["scorecard", "--days", "abc"],
      code: 2,
      line: /^finops scorecard: --days: "abc" is not a whole number \(see/,
    },
    {
      args: ["reconcile", "--date", "2026-02-30"],
      code: 2,
      line: /^finops reconcile: --date: "2026-02-30" is not a day/,
    },
    {
      args: ["billing", "import", "--file", join(dir, "bill.csv")],
      code: 1,
      line: /^finops billing: --file: cannot read .*bill\.csv: no such file or folder$/,
    },
    {
      args: ["report", "--url", `http://127.0.0.1:${closedPort}`],
      code: 1,
      line: /^finops report: cannot reach the finops stack at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/,
    },
    { args: ["jobs", "--url", "not a url"], code: 1, line: /^finops jobs: --url: "not a url" is not a URL/ },
  ];
}

/** A port nothing listens on (one that was free a moment ago). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let table: Case[];
let results: CliResult[];

beforeAll(async () => {
  writeFileSync(
    events,
    JSON.stringify(inferenceEvent({ id: "e1", time: new Date(floorHour(Date.now())).toISOString() })),
  );
  writeFileSync(join(dir, "broken.json"), "{ not json");
  const whole = gzipSync(`${JSON.stringify(inferenceEvent({ id: "gz1" }))}\n`.repeat(200));
  writeFileSync(join(dir, "truncated.ndjson.gz"), whole.subarray(0, whole.length - 20));
  writeFileSync(
    join(dir, "invalid.json"),
    JSON.stringify({ version: 1, local: { port: "x", maxInFlightBodies: -1 } }),
  );
  if (readOnly !== "/sys") {
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o555);
  }
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
  busyPort = (busy.address() as { port: number }).port;
  closedPort = await freePort();
  // A warehouse for the commands that get as far as opening one.
  const ingest = await runCli(["ingest", events, "--quiet"], env);
  expect(ingest.code, ingest.stderr).toBe(0);

  table = cases();
  results = [];
  for (let i = 0; i < table.length; i += 4) {
    const batch = table.slice(i, i + 4);
    results.push(...(await Promise.all(batch.map((c) => runCli(c.args, { ...env, ...c.env })))));
  }
}, 180_000);

afterAll(async () => {
  await new Promise((resolve) => busy.close(resolve));
  if (readOnly !== "/sys") chmodSync(readOnly, 0o755);
  db.remove();
});

describe("the CLI's error boundary", () => {
  it("answers every bad input with one line on stderr and the exit code for its kind", () => {
    // Every case checked, the mismatches listed together.
    const wrong = table.flatMap((c, i) => {
      const result = results[i] as CliResult;
      const line = result.stderr.trimEnd();
      // A usage error points at the command's --help; a configuration error names the file or variable.
      const command = c.args[0] === "frobnicate" ? "" : ` ${c.args[0]}`;
      const pointsAtHelp = line.endsWith(`(see finops${command} --help)`);
      const helpExpected = c.code === 2 && !/configuration|environment variable/.test(line);
      const ok =
        result.code === c.code &&
        result.stdout === "" &&
        result.stderr.endsWith("\n") &&
        !line.includes("\n") &&
        c.line.test(line) &&
        !/^\s+at |node:internal|Error: /m.test(result.stderr) &&
        pointsAtHelp === helpExpected;
      return ok
        ? []
        : [
            {
              args: c.args.join(" "),
              env: c.env,
              expected: [c.code, c.line.source],
              got: [result.code, result.stderr, result.stdout],
            },
          ];
    });
    expect(wrong).toEqual([]);
  });

  it("checks an --out file before the export runs: nothing written", () => {
    expect(existsSync(join(dir, "missing"))).toBe(false);
    expect(readdirSync(dir).filter((name) => name.endsWith(".part"))).toEqual([]);
  });
});
