import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { formatCsvRecord } from "#adapters/focus-file/csv.ts";
import { parseFocusCsv } from "#adapters/focus-file/focus-csv.ts";
import { createFocusExport } from "#app/focus-export.ts";
import { generateDemoEvents } from "#domain/demo/demo-events.ts";
import {
  DEFAULT_BILLING_ACCOUNT,
  FOCUS_EXPORT_COLUMNS,
  type FocusGranularity,
  type FocusRow,
} from "#domain/focus-export/focus-row.ts";
import { decimalToNanos } from "#domain/money.ts";
import { DEFAULT_SILENCE_SECONDS } from "#domain/training/job-summary.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { demoWarehouse } from "../support/demo-warehouse.ts";
import { withoutUsageShared } from "../support/expected-costs.ts";

const HOUR_MS = 3_600_000;
// A Monday, 06:00: two days that start and end mid-day, so daily charge periods are cut to the range.
const FROM = new Date("2026-11-02T06:00:00Z");
const HOURS = 48;
const TO = new Date(FROM.getTime() + HOURS * HOUR_MS);

let warehouse: Warehouse;

beforeAll(async () => {
  warehouse = await demoWarehouse({ from: FROM, hours: HOURS, seed: "focus-export" });
}, 60_000);

afterAll(() => warehouse.close());

async function exportRows(granularity: FocusGranularity, from = FROM, to = TO, source = warehouse) {
  const rows: FocusRow[] = [];
  const exporter = createFocusExport({ warehouse: source });
  for await (const day of exporter({
    from,
    to,
    granularity,
    billingAccountId: DEFAULT_BILLING_ACCOUNT.id,
    billingAccountName: DEFAULT_BILLING_ACCOUNT.name,
  }))
    rows.push(...day.rows);
  return rows;
}

const csv = (rows: readonly FocusRow[]) =>
  [FOCUS_EXPORT_COLUMNS, ...rows.map((row) => FOCUS_EXPORT_COLUMNS.map((c) => row[c]))]
    .map(formatCsvRecord)
    .join("");

function sumBy(rows: readonly FocusRow[], key: (row: FocusRow) => string): Map<string, bigint> {
  const totals = new Map<string, bigint>();
  for (const row of rows) {
    const k = key(row);
    totals.set(k, (totals.get(k) ?? 0n) + decimalToNanos(row.BilledCost ?? ""));
  }
  return totals;
}

describe("finops export --format focus over the demo (DuckDB)", () => {
  it.each(["day", "hour"] as const)(
    "%s rows total what the report totals, to the nano, per team too",
    async (granularity) => {
      const rows = await exportRows(granularity);
      const [total] = await warehouse.report({ by: [], from: FROM, to: TO, reads: "rollup" });
      expect(sumBy(rows, (r) => r.BillingCurrency ?? "")).toEqual(new Map([["USD", total?.cost_nanos]]));
      const byTeam = await warehouse.report({ by: ["team"], from: FROM, to: TO, reads: "rollup" });
      expect(sumBy(rows, (r) => r.x_team ?? "")).toEqual(
        new Map(byTeam.map((r) => [r.group.team ?? "", r.cost_nanos])),
      );
    },
  );

  it("round-trips through our own FOCUS importer: every row, amount and dimension", async () => {
    const rows = await exportRows("day");
    const lines = parseFocusCsv(csv(rows));
    expect(lines).toHaveLength(rows.length);
    lines.forEach((line, i) => {
      const row = rows[i] as FocusRow;
      expect(line.BilledCost).toBe(decimalToNanos(row.BilledCost ?? ""));
      expect(line.EffectiveCost).toBe(line.BilledCost);
      expect(line).toMatchObject({
        ProviderName: row.ProviderName,
        BillingAccountId: DEFAULT_BILLING_ACCOUNT.id,
        SubAccountId: row.x_team,
        ServiceName: row.ServiceName,
        BillingCurrency: "USD",
        x_team: row.x_team,
        x_model: row.x_model,
        x_namespace: row.x_namespace,
      });
      expect(line.Tags.business_unit).toBe(row.x_business_unit ?? undefined);
      expect(line.Tags.training_job).toBe(row.x_training_job ?? undefined);
    });
    // Days are cut to the range: the first starts at 06:00, the last ends at 06:00.
    expect(rows[0]?.ChargePeriodStart).toBe("2026-11-02T06:00:00Z");
    expect(rows.at(-1)?.ChargePeriodEnd).toBe("2026-11-04T06:00:00Z");
  });

  it("gives each training job its own rows: a job that ran inside the range costs what `finops jobs` says", async () => {
    // Without the licence shared by usage, which the one view adds to each workload's rows.
    const options = { from: FROM, hours: HOURS, seed: "focus-export" };
    const ownCosts = await demoWarehouse(options, withoutUsageShared(generateDemoEvents(options)));
    onTestFinished(() => ownCosts.close());
    const rows = await exportRows("hour", FROM, TO, ownCosts);
    const exported = sumBy(
      rows.filter((r) => r.x_training_job !== null),
      (r) => r.x_training_job ?? "",
    );
    const jobs = await ownCosts.trainingJobs({
      from: FROM,
      to: TO,
      now: TO,
      silenceSeconds: DEFAULT_SILENCE_SECONDS,
    });
    const inside = jobs.filter((j) => j.outcome === "finished" || j.outcome === "failed");
    expect(inside.length).toBeGreaterThanOrEqual(5);
    for (const job of inside)
      expect([job.job_id, exported.get(job.job_id)]).toEqual([job.job_id, job.cost_nanos]);
    const jobRows = rows.filter((r) => r.x_training_job !== null);
    expect(
      jobRows.every((r) => r.ServiceName === "Model Training" && r.ResourceId === r.x_training_job),
    ).toBe(true);
    expect(new Set(jobRows.map((r) => r.RegionId))).toEqual(new Set(["us-central1", "us-east-1"]));
  });

  it("refuses a range off the whole hours at once, naming the field", () => {
    const exporter = createFocusExport({ warehouse });
    const settings = { granularity: "day", billingAccountId: "a", billingAccountName: null } as const;
    expect(() => exporter({ ...settings, from: new Date(FROM.getTime() + 60_000), to: TO })).toThrow(
      /^from: /,
    );
    expect(() => exporter({ ...settings, from: TO, to: FROM })).toThrow(/^to: must be after from/);
  });
});
