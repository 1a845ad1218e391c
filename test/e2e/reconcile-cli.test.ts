import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatFocusCsv } from "#adapters/focus-file/focus-csv.ts";
import { addDays, type BilledLine, dayOf } from "#domain/billing/billed-line.ts";
import { decimalToNanos } from "#domain/money.ts";
import { inferenceEvent } from "../support/ingest-builders.ts";
import { tempDuckDb } from "../support/local-stack-session.ts";
import { type CliResult, runCli } from "../support/run-cli.ts";

// `finops ingest`, `finops billing import` and `finops reconcile` as a user runs them, one process
// after another on one DuckDB file: estimates of a settled day, its bill as a FOCUS CSV, the drift table.

const db = tempDuckDb("finops-reconcile-cli-");
const env = { FINOPS_DUCKDB_PATH: db.path, FINOPS_LOG_LEVEL: "error" };
const finops = (...args: string[]) => runCli(args, env);
const firstLine = (r: CliResult) => r.stderr.split("\n")[0] ?? "";

/** Three days ago, UTC: settled (two days old or more), whatever day the test runs. */
const DAY = addDays(dayOf(new Date()), -3);
const u = decimalToNanos;

afterAll(() => db.remove());

function billLine(team: string | null, usd: string, provider = "Google Cloud"): BilledLine {
  const tags: Record<string, string> = team === null ? {} : { "k8s-namespace": team, team };
  return {
    ChargePeriodStart: DAY,
    ChargePeriodEnd: addDays(DAY, 1),
    ChargeCategory: "Usage",
    ChargeClass: null,
    ChargeFrequency: null,
    ProviderName: provider,
    BillingAccountId: "01A2B3-C4D5E6-F7A8B9",
    SubAccountId: "ml-prod",
    ServiceName: provider === "AWS" ? "AWS Data Transfer" : "Compute Engine",
    BilledCost: u(usd),
    EffectiveCost: u(usd),
    BillingCurrency: "USD",
    Tags: tags,
    x_namespace: team,
    x_team: team,
    x_model: null,
    x_cost_center: null,
    x_environment: null,
  };
}

describe("finops billing import and finops reconcile", () => {
  const billPath = join(db.dir, "november.focus.csv");

  beforeAll(async () => {
    const request = (id: string, team: string, accelerator: string, usd: string) =>
      inferenceEvent({
        id,
        time: `${DAY}T10:00:00Z`,
        data: {
          team,
          namespace: team,
          cloud: "gcp",
          region: "us-central1",
          instance_type: undefined,
          accelerator,
          cost_nanos: u(usd).toString(),
        },
      });
    const events = [
      request("r1", "search", "nvidia-tesla-a100", "60"),
      request("r2", "search", "nvidia-tesla-a100", "40"),
      request("r3", "ads", "nvidia-l4", "50"),
    ];
    const eventsPath = join(db.dir, "events.ndjson");
    writeFileSync(eventsPath, events.map((e) => JSON.stringify(e)).join("\n"));
    const ingest = await finops("ingest", eventsPath);
    expect(JSON.parse(ingest.stdout)).toMatchObject({ accepted: 3, rejected: 0 });
    writeFileSync(
      billPath,
      formatFocusCsv([billLine("search", "104"), billLine("ads", "49"), billLine(null, "10", "AWS")]),
    );
  });

  it("imports a FOCUS CSV, replacing its days on a second import", async () => {
    const first = await finops("billing", "import", "--file", billPath);
    const again = await finops("billing", "import", "--file", billPath);
    const expected =
      `Imported 3 daily lines (3 in USD) as source november.focus.csv, replacing its days ${DAY} to ${addDays(DAY, 1)} (exclusive)\n` +
      "  usage attributed to a team or namespace: 93.87% (153.00 of 163.00 USD)\n";
    expect(first).toMatchObject({ code: 0, stdout: expected, stderr: "" });
    expect(again).toMatchObject({ code: 0, stdout: expected });
  });

  it("prints the drift table of the day: matched rows, the unattributed transfer, the totals", async () => {
    const table = await finops("reconcile", "--date", DAY);
    expect(table).toMatchObject({ code: 0, stderr: "" });
    const lines = table.stdout.split("\n");
    expect(lines[0]).toMatch(
      /^day\s+cloud\s+namespace\s+team\s+status\s+estimated\s+reconciled\s+billed\s+drift/,
    );
    expect(table.stdout).toMatch(
      new RegExp(
        `${DAY}\\s+aws\\s+—\\s+—\\s+unattributed\\s+0\\.00 USD\\s+0\\.00 USD\\s+10\\.00 USD\\s+10\\.00 USD\\s+\\+100\\.00%`,
      ),
    );
    expect(table.stdout).toMatch(new RegExp(`${DAY}\\s+gcp\\s+search\\s+search\\s+matched\\s+100\\.00 USD`));
    expect(table.stdout).toMatch(/TOTAL\s+150\.00 USD\s+150\.00 USD\s+163\.00 USD\s+13\.00 USD\s+\+7\.98%/);
    expect(table.stdout).toContain(`${DAY}: 2 matched, 1 unattributed, 0 over-estimated`);
    expect(table.stdout).toContain("  calibration: no factors yet (too few billed days before this one)");
    expect(table.stdout).toContain("drift alerts: 0 published, 0 already sent\n");

    const json = await finops("reconcile", "--date", DAY, "--format", "json");
    const again = await finops("reconcile", "--date", DAY, "--format", "json");
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.days).toHaveLength(1);
    expect(parsed.days[0]).toMatchObject({
      day: DAY,
      settled: true,
      totals: { estimated: "150", billed: "163", drift: "13", drift_percent: "7.98" },
    });
    expect(
      parsed.days[0].rows.map((r: Record<string, string>) => [r.cloud, r.team, r.status, r.drift_nanos]),
    ).toEqual([
      ["aws", null, "unattributed", "10000000000"],
      ["gcp", "search", "matched", "4000000000"],
      ["gcp", "ads", "matched", "-1000000000"],
    ]);
    // Percentages are the same plain decimals in the rows as in the totals; the table signs them.
    expect(parsed.days[0].rows[0]).toMatchObject({ drift_percent: "100.00" });
    // A re-run replaces the day: the same table, nothing added.
    expect(JSON.parse(again.stdout)).toEqual(parsed);
    expect(json.stderr).toBe("drift alerts: 0 published, 0 already sent\n");
  });

  it("exits 2 naming the flag for a bad date, window or action, and 1 naming a file it cannot read", async () => {
    const date = await finops("reconcile", "--date", "2026-02-30");
    const future = await finops("reconcile", "--date", addDays(dayOf(new Date()), 2));
    const window = await finops("reconcile", "--window", "0");
    const action = await finops("billing", "export");
    const missing = await finops("billing", "import", "--file", join(db.dir, "nope.csv"));
    expect(date.code).toBe(2);
    expect(firstLine(date)).toBe(
      'finops reconcile: --date: "2026-02-30" is not a day (YYYY-MM-DD) (see finops reconcile --help)',
    );
    expect(future.code).toBe(2);
    expect(firstLine(future)).toMatch(/^finops reconcile: --date: \d{4}-\d\d-\d\d has not begun \(today is /);
    expect(window.code).toBe(2);
    expect(firstLine(window)).toBe(
      "finops reconcile: --window: a whole number of days, 1..62 (see finops reconcile --help)",
    );
    expect(action.code).toBe(2);
    expect(firstLine(action)).toBe(
      'finops billing: unknown action "export": import (see finops billing --help)',
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /^finops billing: --file: cannot read .*nope\.csv: no such file or folder\n$/,
    );
  });

  it("delivers the drift alerts it publishes, on standard error, once", async () => {
    // Prepare: the same bill again under a second source doubles what is billed: drift past the threshold.
    await finops("billing", "import", "--file", billPath, "--source", "second-copy");

    // Act
    const first = await finops("reconcile", "--date", DAY, "--format", "json");
    const again = await finops("reconcile", "--date", DAY, "--format", "json");

    // Assess: the answer stays JSON; the alerts are posted (here, to the console and its file) once.
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).days[0].totals).toMatchObject({ estimated: "150", billed: "326" });
    const published = /drift alerts: (\d+) published, 0 already sent/.exec(first.stderr)?.[1];
    expect(Number(published)).toBeGreaterThan(0);
    expect(first.stderr).toContain(`posted to #team-search-alerts`);
    const posted = readFileSync(join(db.dir, "slack-messages.jsonl"), "utf8").trim().split("\n");
    expect(posted).toHaveLength(Number(published));
    expect(again.stderr).toContain(`drift alerts: 0 published, ${published} already sent`);
    expect(again.stderr).not.toContain("posted to");
  });
});
