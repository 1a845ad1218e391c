import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nanosToDecimal } from "#domain/money.ts";
import { expectedCosts, shippedPricer, withoutUsageShared } from "../support/expected-costs.ts";
import { inferenceEvent } from "../support/ingest-builders.ts";
import { floorHour, HOUR_MS, tempDuckDb } from "../support/local-stack-session.ts";
import { type CliResult, runCli, startCli } from "../support/run-cli.ts";

const COMMANDS = ["start", "demo", "ingest", "report", "jobs", "reconcile", "billing", "schemas"];

const db = tempDuckDb("finops-cli-");
const env = { FINOPS_DUCKDB_PATH: db.path, FINOPS_LOG_LEVEL: "error" };
const finops = (...args: string[]) => runCli(args, env);

afterAll(() => db.remove());

/** The one line of stderr, pointing at --help, checked to be the only one. */
const firstLine = (r: CliResult) => {
  expect(r.stderr.endsWith("\n") && r.stderr.indexOf("\n") === r.stderr.length - 1, r.stderr).toBe(true);
  return r.stderr.split("\n")[0] ?? "";
};

describe("finops help and usage errors", () => {
  it("prints the command list for --help and each command's usage for <command> --help", async () => {
    // Act
    const [top, ...perCommand] = await Promise.all([
      finops("--help"),
      ...COMMANDS.map((name) => finops(name, "--help")),
    ]);

    // Assess
    expect(top).toMatchObject({ code: 0, stderr: "" });
    expect(top?.stdout).toContain("Usage: finops <command>");
    for (const name of COMMANDS) expect(top?.stdout).toMatch(new RegExp(`^  ${name}\\s`, "m"));
    perCommand.forEach((result, i) => {
      expect(result).toMatchObject({ code: 0, stderr: "" });
      expect(result.stdout.startsWith(`finops ${COMMANDS[i]}`)).toBe(true);
    });
  });

  it("exits 2 for an unknown command, and for none", async () => {
    // Act
    const [unknown, none] = await Promise.all([finops("frobnicate"), finops()]);

    // Assess
    expect(unknown.code).toBe(2);
    expect(firstLine(unknown)).toBe('finops: unknown command "frobnicate" (see finops --help)');
    expect(none.code).toBe(2);
    expect(none.stdout).toContain("Usage: finops <command>");
  });

  it("exits 2 naming the flag for a bad report query", async () => {
    // Act
    const [by, from, format, view, viewBy] = await Promise.all([
      finops("report", "--by", "nonsense"),
      finops("report", "--from", "2026-01-01T00:30:00Z"),
      finops("report", "--format", "xml"),
      finops("report", "--view", "pivot"),
      finops("report", "--view", "training", "--by", "team"),
    ]);

    // Assess
    expect(by.code).toBe(2);
    expect(firstLine(by)).toMatch(
      /^finops report: (--)?by: unknown dimension "nonsense"; one of team, model/,
    );
    expect(from.code).toBe(2);
    expect(firstLine(from)).toMatch(
      /^finops report: (--)?from: 2026-01-01T00:30:00\.000Z is not on a whole UTC hour/,
    );
    expect(format.code).toBe(2);
    expect(firstLine(format)).toBe(
      "finops report: --format: one of table, json, csv (see finops report --help)",
    );
    expect(view.code).toBe(2);
    expect(firstLine(view)).toBe(
      "finops report: --view: one of cost, trend, training, inference, reconciliation (see finops report --help)",
    );
    expect(viewBy.code).toBe(2);
    expect(firstLine(viewBy)).toMatch(/^finops report: (--)?by: the training view is one line per job/);
  });
});

describe("finops demo, ingest and report", () => {
  let demo: CliResult;
  let events: Record<string, unknown>[];
  let ndjsonPath: string;

  beforeAll(async () => {
    demo = await finops("demo", "--hours", "2", "--seed", "cli-e2e", "--out", "-");
    events = demo.stdout
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    ndjsonPath = join(db.dir, "demo.ndjson");
    writeFileSync(ndjsonPath, demo.stdout);
  });

  it("demo --out - writes the events as NDJSON on stdout", () => {
    // Assess
    expect(demo.code).toBe(0);
    expect(events.length).toBeGreaterThan(100);
    expect(demo.stderr).toBe(`wrote ${events.length} events\n`);
    expect(new Set(events.map((e) => `${e.source} ${e.id}`)).size).toBe(events.length);
    for (const event of events)
      expect(event).toMatchObject({ specversion: "1.0", type: expect.stringMatching(/^ai\.cost\./) });
  });

  it("ingest prints a JSON summary; a second run finds only duplicates; report totals match to the nano", async () => {
    // Prepare
    const ingested = withoutUsageShared(events);
    writeFileSync(ndjsonPath, ingested.map((e) => `${JSON.stringify(e)}\n`).join(""));
    const now = new Date();
    const to = new Date(floorHour(now.getTime()) + HOUR_MS);
    const earliest = Math.min(...ingested.map((e) => Date.parse(String(e.time))));
    const from = new Date(floorHour(earliest));
    const expected = expectedCosts(ingested, {
      pricer: shippedPricer(),
      now,
      range: { from, to },
      by: ["team", "model"],
    });
    const range = ["--from", from.toISOString(), "--to", to.toISOString()];

    // Act
    const first = await finops("ingest", ndjsonPath, "--quiet");
    const again = await finops("ingest", ndjsonPath);
    // One at a time: DuckDB lets one process hold the file, so concurrent CLI runs would conflict.
    const json = await finops("report", "--by", "team,model", "--format", "json", ...range);
    const csv = await finops("report", "--by", "team,model", "--format", "csv", ...range);
    const jobs = await finops("jobs", "--format", "json", ...range);

    // Assess
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(first.stdout)).toEqual({
      received: ingested.length,
      accepted: ingested.length,
      duplicates: 0,
      conflicts: 0,
      rejected: 0,
      rejections: [],
    });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/^ingested \d+ events/);
    expect(JSON.parse(again.stdout)).toMatchObject({ accepted: 0, duplicates: ingested.length, rejected: 0 });

    expect(json).toMatchObject({ code: 0, stderr: "" });
    const lines = JSON.parse(json.stdout) as Array<Record<string, string>>;
    for (const line of lines) {
      expect(Object.keys(line).sort()).toEqual(["amount", "cost_nanos", "currency", "model", "team"]);
      expect(line.cost_nanos).toMatch(/^\d+$/);
      expect(line.amount).toBe(nanosToDecimal(BigInt(line.cost_nanos as string)));
      expect(line.currency).toBe("USD");
    }
    const totals = new Map(lines.map((l) => [`${l.team}|${l.model}`, BigInt(l.cost_nanos as string)]));
    expect(totals).toEqual(expected.totals);

    expect(csv.code).toBe(0);
    const [header, ...rows] = csv.stdout.trimEnd().split("\n");
    expect(header).toBe("team,model,currency,cost_nanos,amount");
    expect(rows.map((r) => r.split(",").slice(0, 4).join(","))).toEqual(
      lines.map((l) => [l.team, l.model, l.currency, l.cost_nanos].join(",")),
    );

    expect(jobs.code).toBe(0);
    const jobIds = new Set(
      events
        .filter((e) => e.type === "ai.cost.training.v1")
        .map((e) => (e.data as { job_id: string }).job_id),
    );
    const report = JSON.parse(jobs.stdout) as { jobs: Array<{ job_id: string; cost_nanos: string }> };
    expect(new Set(report.jobs.map((j) => j.job_id))).toEqual(jobIds);
  });

  it("ingest exits 1 when a line is rejected and names the field, keeping the good lines", async () => {
    // Prepare
    const other = tempDuckDb("finops-cli-bad-");
    const time = new Date(floorHour(Date.now()) - HOUR_MS).toISOString();
    const lines = [
      JSON.stringify(inferenceEvent({ id: "cli-good", time })),
      JSON.stringify(inferenceEvent({ id: "cli-no-team", time, data: { team: undefined } })),
      "{ this is not json",
    ];
    const path = join(other.dir, "bad.ndjson");
    writeFileSync(path, `${lines.join("\n")}\n`);

    // Act
    const result = await runCli(["ingest", path, "--quiet"], { ...env, FINOPS_DUCKDB_PATH: other.path });
    other.remove();

    // Assess
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      received: 3,
      accepted: 1,
      duplicates: 0,
      conflicts: 0,
      rejected: 2,
      rejections: [
        expect.objectContaining({
          index: 1,
          id: "cli-no-team",
          field: "data.team",
          reason: expect.stringContaining("data.team"),
        }),
        { index: 2, field: "body", reason: expect.stringMatching(/^body: line 3 is not valid JSON/) },
      ],
    });
  });

  it("ingest names conflicts in its progress line as in its summary", async () => {
    // Prepare
    const other = tempDuckDb("finops-cli-conflicts-");
    const time = new Date(floorHour(Date.now()) - HOUR_MS).toISOString();
    const path = join(other.dir, "events.ndjson");
    const write = (gpuSeconds: number) =>
      writeFileSync(
        path,
        ["a", "b"]
          .map((id) => `${JSON.stringify(inferenceEvent({ id, time, data: { gpu_seconds: gpuSeconds } }))}\n`)
          .join(""),
      );
    const ingest = () => runCli(["ingest", path], { ...env, FINOPS_DUCKDB_PATH: other.path });

    // Act
    write(10);
    const first = await ingest();
    write(20);
    const resent = await ingest();
    other.remove();

    // Assess
    expect(first.code).toBe(0);
    expect(resent.code).toBe(0);
    expect(resent.stderr).toMatch(
      /^ingested 2 events \(0 accepted, 0 duplicates, 2 conflicts, 0 rejected\)/m,
    );
    expect(JSON.parse(resent.stdout)).toMatchObject({
      received: 2,
      accepted: 0,
      duplicates: 0,
      conflicts: 2,
    });
  });
});

describe("finops start", () => {
  it("serves the local stack on $PORT, streams the demo, reports, and stops cleanly on Ctrl-C", async () => {
    // Prepare
    const other = tempDuckDb("finops-cli-start-");
    const running = startCli(["start", "--demo", "--hours", "1", "--seed", "start-e2e"], {
      ...env,
      FINOPS_DUCKDB_PATH: other.path,
      PORT: "0",
    });

    try {
      // Act
      const output = await running.waitFor(/^Ready\. Ctrl-C to stop\.$/m);
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      const health = await fetch(`${url}/healthz`);
      const stopped = await running.interrupt();

      // Assess
      expect(url).toBeDefined();
      expect(health.status).toBe(200);
      expect(output).toContain(`warehouse: duckdb ${other.path}`);
      expect(output).toMatch(/Cost by team and model, .*:\nteam\s+model\s+cost\s+share\n/);
      expect(stopped.code).toBe(0);
      expect(stopped.stdout).toMatch(/stopping\.\.\.\n$/);
    } finally {
      running.kill();
      other.remove();
    }
  });
});
