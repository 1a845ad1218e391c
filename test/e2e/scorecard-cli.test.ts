import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDuckDb } from "../support/local-stack-session.ts";
import { type CliResult, runCli } from "../support/run-cli.ts";

// `finops scorecard` as a user runs it, on the demo org's data ingested through `finops ingest`.

const db = tempDuckDb("finops-scorecard-");
const env = { FINOPS_DUCKDB_PATH: db.path, FINOPS_LOG_LEVEL: "error" };
const finops = (...args: string[]) => runCli(args, env);

interface JsonLever {
  lever: string;
  monthly_savings_nanos: string;
  roi_weeks: number | null;
}
interface JsonCard {
  model: string;
  teams: string[];
  monthly_cost_nanos: string;
  inputs: { repeated_share: number | null };
  levers: JsonLever[];
  combined: { monthly_savings_nanos: string; steps: { added_nanos: string }[] };
}
interface JsonReport {
  utilization: string;
  assumptions: string[];
  models: JsonCard[];
  teams: { team: string; models: JsonCard[] }[];
}

const parse = (result: CliResult) => JSON.parse(result.stdout) as JsonReport;
const lever = (card: JsonCard | undefined, name: string) => card?.levers.find((l) => l.lever === name);

afterAll(() => db.remove());

describe("finops scorecard on the demo org", () => {
  let json: CliResult;
  let table: CliResult;

  beforeAll(async () => {
    const demo = await finops("demo", "--hours", "6", "--seed", "scorecard-e2e", "--out", "-");
    const file = join(db.dir, "demo.ndjson");
    writeFileSync(file, demo.stdout);
    const ingest = await finops("ingest", file, "--quiet");
    if (ingest.code !== 0) throw new Error(`ingest failed: ${ingest.stderr}`);
    // One at a time: DuckDB lets one process hold the file.
    json = await finops("scorecard", "--format", "json");
    table = await finops("scorecard");
  });

  it("scores every model: savings compose, never above the cost, never below the best lever", () => {
    // Assess
    expect(json).toMatchObject({ code: 0, stderr: "" });
    const report = parse(json);
    expect(report.models.map((m) => m.model)).toEqual(
      expect.arrayContaining(["chat-assistant", "gpt-4o-mini", "embedder", "ranker"]),
    );
    for (const card of report.models) {
      const combined = BigInt(card.combined.monthly_savings_nanos);
      expect(combined).toBeLessThanOrEqual(BigInt(card.monthly_cost_nanos));
      for (const l of card.levers) expect(combined).toBeGreaterThanOrEqual(BigInt(l.monthly_savings_nanos));
      expect(card.combined.steps.reduce((n, s) => n + BigInt(s.added_nanos), 0n)).toBe(combined);
      // Highest ROI first: the paying levers' weeks never go down.
      const weeks = card.levers.flatMap((l) => (l.roi_weeks === null ? [] : [l.roi_weeks]));
      expect(weeks).toEqual([...weeks].sort((a, b) => a - b));
    }
  });

  it("measures caching from repeated fingerprints and spot from checkpointed training; claims no right-sizing without DCGM", () => {
    // Assess: the support team repeats a few hot prompts in about 60% of its calls.
    const report = parse(json);
    const api = report.models.find((m) => m.model === "gpt-4o-mini");
    expect(api?.inputs.repeated_share).toBeGreaterThan(0.4);
    expect(BigInt(lever(api, "caching")?.monthly_savings_nanos ?? "0")).toBeGreaterThan(0n);
    const chat = report.models.find((m) => m.model === "chat-assistant");
    expect(BigInt(lever(chat, "spot")?.monthly_savings_nanos ?? "0")).toBeGreaterThan(0n);
    expect(report.utilization).toBe("no DCGM metrics source configured");
    for (const card of report.models) expect(lever(card, "right_sizing")?.monthly_savings_nanos).toBe("0");
    expect(report.assumptions.join("\n")).toMatch(/compose, they do not add/);
  });

  it("prints a readable table: each model's levers in order, the teams, the assumptions", () => {
    // Assess
    expect(table).toMatchObject({ code: 0, stderr: "" });
    // Six hours of the demo, and the week's runaway training job, sent whole from its Saturday start.
    expect(table.stdout).toMatch(
      /^Optimization scorecard, \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d \(\d+(\.\d)? days of data/,
    );
    expect(table.stdout).toMatch(/^gpt-4o-mini \(support-automation\)$/m);
    expect(table.stdout).toMatch(/^ {2}1 {2}query caching +\$[\d,.]+ /m);
    expect(table.stdout).toContain("Teams, their own workloads:");
    expect(table.stdout).toContain("Assumptions behind every figure:");
  });

  it("scores one team's or one model's workloads when asked", async () => {
    // Act
    const team = await finops("scorecard", "--team", "support-automation", "--format", "json");
    const model = await finops("scorecard", "--model", "chat-assistant", "--days", "7", "--format", "json");

    // Assess
    expect(parse(team).models.map((m) => m.model)).toEqual(["gpt-4o-mini"]);
    expect(parse(model).models.map((m) => m.model)).toEqual(["chat-assistant"]);
    expect(
      parse(model)
        .teams.map((t) => t.team)
        .sort(),
    ).toEqual(["applied-nlp", "chat-experience"]);
  });

  it("answers --help, and exits 2 naming the flag for bad input", async () => {
    // Act
    const help = await finops("scorecard", "--help");
    const days = await finops("scorecard", "--days", "0");
    const format = await finops("scorecard", "--format", "xml");

    // Assess
    expect(help).toMatchObject({ code: 0, stderr: "" });
    expect(
      help.stdout.startsWith(
        "finops scorecard [--model M] [--team T] [--days N] [--format table|json] [--url URL]",
      ),
    ).toBe(true);
    expect(days.code).toBe(2);
    expect(days.stderr.split("\n")[0]).toBe(
      "finops scorecard: --days: must be a whole number of days from 1 to 400, got 0 (see finops scorecard --help)",
    );
    expect(format.code).toBe(2);
    expect(format.stderr).toBe(
      "finops scorecard: --format: one of table, json (see finops scorecard --help)\n",
    );
  });
});
