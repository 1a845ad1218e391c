import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDuckDbWarehouse, type DuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import { reportViewNames } from "#adapters/sql/report-views.ts";
import { createWarehouseReconciliationStore } from "#adapters/warehouse-reconciliation/warehouse-reconciliation-store.ts";
import { createReconciliationView } from "#app/reconciliation-view.ts";
import { createReportViews } from "#app/report-views.ts";
import { createTrainingCosts } from "#app/training-costs.ts";
import { type CostRow, DIMENSIONS, SHARED, UNALLOCATED } from "#domain/cost-row.ts";
import { generateDemoEvents } from "#domain/demo/demo-events.ts";
import { FIXED_V1 } from "#domain/events/cloud-event.ts";
import { parseCostEvent } from "#domain/events/parse.ts";
import { toCostRows } from "#domain/ingest/to-cost-rows.ts";
import { decimalToNanos } from "#domain/money.ts";
import { estimateMatchValues } from "#domain/reconciliation/bill-grain.ts";
import type { DayAmount } from "#domain/reconciliation/drift-table.ts";
import { reconcileDays } from "#domain/reconciliation/reconcile-days.ts";
import { formatTable, type ReportRecord } from "#domain/report-format.ts";
import { fixedClock } from "#ports/clock.ts";
import { costRow } from "../support/cost-row-builder.ts";
import { shippedPricer } from "../support/expected-costs.ts";

// The report views (finops report --view) and their DuckDB twins of the BI views (sql/duckdb/views)
// over a demo org: two days of its traffic, training, GPU cluster (idle, an unlabelled namespace) and
// its monthly licence (charged to its owner hour by hour from the 1st), after a quiet last day of the
// month in which nobody used anything, so a fee shared by usage in it stays under `shared`. Each view's totals must equal the report's, to the nano.

const DAY_MS = 86_400_000;
const QUIET_DAY = new Date("2026-10-31T00:00:00Z");
const DEMO_FROM = new Date(QUIET_DAY.getTime() + DAY_MS);
const END = new Date(QUIET_DAY.getTime() + 3 * DAY_MS);
const RANGE = { from: QUIET_DAY, to: END };
const DAYS = ["2026-10-31", "2026-11-01", "2026-11-02"];

let instance: DuckDBInstance;
let connection: DuckDBConnection;
let warehouse: DuckDbWarehouse;
let reportView: ReturnType<typeof createReportViews>;
let stored: CostRow[];

/** Rows of a query on the views, every value as text (DECIMAL sums exact). */
async function select(sql: string): Promise<Record<string, string | null>[]> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowObjectsJson() as Record<string, string | null>[];
}

const nanos = (value: unknown) => decimalToNanos(String(value));
const dayFilter = `day >= DATE '${DAYS[0]}' AND day <= DATE '${DAYS[2]}'`;
const hourFilter = `hour >= TIMESTAMPTZ '${RANGE.from.toISOString()}' AND hour < TIMESTAMPTZ '${RANGE.to.toISOString()}'`;

/** Report rows keyed by the given columns, with one money value each. */
function keyed(rows: readonly ReportRecord[], keys: readonly string[], value: string): Map<string, bigint> {
  return new Map(rows.map((r) => [keys.map((k) => r[k] ?? "").join("|"), r[value] as bigint]));
}

/**
 * Reconciles the range's days, as reconcileDaily does, against a bill 5% above each estimate plus a
 * line without a team label, and stores the result.
 */
async function reconcileWithBill(store: ReturnType<typeof createWarehouseReconciliationStore>) {
  const estimates = await store.dailyEstimates({
    start: DAYS[0] as string,
    end: END.toISOString().slice(0, 10),
  });
  const billed: DayAmount[] = estimates.map((e) => ({
    day: e.day,
    key: estimateMatchValues(e),
    nanos: (e.nanos * 105n) / 100n,
  }));
  billed.push({
    day: DAYS[1] as string,
    key: { cloud: "gcp", namespace: null, team: null },
    nanos: 4_000_000_000n,
  });
  const days = reconcileDays({
    days: DAYS,
    estimates,
    billed,
    keys: ["cloud", "namespace", "team"],
    calibration: { lookbackDays: 7, minDays: 1 },
  });
  for (const day of days) await store.replaceDay(day, "USD", END);
}

beforeAll(async () => {
  instance = await DuckDBInstance.create(":memory:");
  warehouse = createDuckDbWarehouse({ path: ":memory:", instance });
  await warehouse.init();
  connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");

  const pricer = shippedPricer();
  // The demo sends a training job already running at its start whole, from the job's start: left
  // out here, so the day before it stays quiet.
  const demo = generateDemoEvents({ from: DEMO_FROM, hours: 48, seed: "report-views" }).filter(
    (e) => e.type === FIXED_V1 || Date.parse(e.time) >= DEMO_FROM.getTime(),
  );
  stored = demo.flatMap((raw) => {
    const parsed = parseCostEvent(raw, END);
    if (!parsed.ok) throw new Error(parsed.rejection.reason);
    const costed = toCostRows(parsed.event, pricer, END);
    if (!costed.ok) throw new Error(costed.rejection.reason);
    return costed.rows;
  });
  // A platform fee shared by usage for an hour of the quiet day (nobody used anything: it stays shared)
  // and for an hour of traffic (it goes to that hour's users).
  const sharedFee = (at: Date, cost_nanos: bigint) =>
    costRow({
      event_type: FIXED_V1,
      event_source: "//finance/fixed-costs/platform",
      event_time: at,
      ingested_at: END,
      team: SHARED,
      model: UNALLOCATED,
      business_unit: UNALLOCATED,
      namespace: null,
      cost_nanos,
    });
  stored.push(
    sharedFee(new Date(QUIET_DAY.getTime() + 10 * 3_600_000), 7_250_000_000n),
    sharedFee(new Date(DEMO_FROM.getTime() + 15 * 3_600_000), 3_100_000_001n),
  );
  await warehouse.insertEvents(stored);
  await warehouse.refreshHourly(RANGE);
  const clock = fixedClock(END);
  const trainingCosts = createTrainingCosts({ readJobs: (q) => warehouse.trainingJobs(q), clock });
  const store = createWarehouseReconciliationStore({ sql: warehouse.sql });
  await reconcileWithBill(store);
  reportView = createReportViews({
    warehouse,
    trainingCosts,
    reconciliationView: createReconciliationView({ store }),
  });
}, 60_000);

afterAll(async () => {
  connection?.closeSync();
  await warehouse?.close();
  instance?.closeSync();
});

describe("report views on a demo org (DuckDB)", () => {
  it("the warehouse creates every view of sql/duckdb/views at init", async () => {
    const views = await select("SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY view_name");
    expect(views.map((v) => v.view_name)).toEqual([...reportViewNames("duckdb")].sort());
    expect(reportViewNames("duckdb")).toEqual(
      expect.arrayContaining(["report_cost", "report_trend", "report_training", "report_inference"]),
    );
  });

  it("cost: shows idle, unallocated and shared, and the view by every dimension equals the report", async () => {
    // Act
    const dimensions = ["day", ...DIMENSIONS] as const;
    const byTeam = await reportView({ view: "cost", by: ["team"], ...RANGE });
    const byAll = await reportView({ view: "cost", by: [...dimensions], ...RANGE });
    const view = await select(
      `SELECT CAST(day AS VARCHAR) AS day, ${dimensions.slice(1).join(", ")}, currency,
              CAST(SUM(cost) AS VARCHAR) AS cost
       FROM report_cost WHERE ${hourFilter} GROUP BY ALL`,
    );

    // Assess
    const teams = keyed(byTeam.rows, ["team"], "cost_nanos");
    for (const owner of ["idle", "unallocated", "shared"]) expect(teams.get(owner)).toBeGreaterThan(0n);
    // Idle and shared are exactly what came in under those owners.
    const sumOf = (pick: (row: CostRow) => boolean) =>
      stored.filter((r) => r.event_time >= RANGE.from && pick(r)).reduce((n, r) => n + r.cost_nanos, 0n);
    expect(teams.get("idle")).toBe(sumOf((r) => r.team === "idle"));
    expect(teams.get("shared")).toBe(7_250_000_000n);
    const table = formatTable(byTeam, "table");
    for (const owner of ["idle", "unallocated", "shared"])
      expect(table).toMatch(new RegExp(`^${owner}\\s`, "m"));
    const total = [...teams.values()].reduce((a, b) => a + b, 0n);
    expect(table).toMatch(
      new RegExp(`^TOTAL\\s+${(Number(total / 10_000_000n) / 100).toFixed(2)} USD\\s+100\\.0%$`, "m"),
    );

    const keys = [...dimensions, "currency"];
    expect(new Map(view.map((r) => [keys.map((k) => r[k] ?? "").join("|"), nanos(r.cost)]))).toEqual(
      keyed(byAll.rows, keys, "cost_nanos"),
    );
  });

  it("trend: every day of the range for every team, zero days shown, equal to report_trend", async () => {
    // Act
    const trend = await reportView({ view: "trend", by: ["team"], ...RANGE });
    const view = await select(
      `SELECT CAST(day AS VARCHAR) AS day, team, CAST(SUM(cost) AS VARCHAR) AS cost
       FROM report_trend WHERE ${dayFilter} GROUP BY ALL`,
    );

    // Assess
    const teams = new Set(trend.rows.map((r) => r.team));
    expect(trend.rows).toHaveLength(DAYS.length * teams.size);
    for (const day of DAYS) {
      expect(new Set(trend.rows.filter((r) => r.day === day).map((r) => r.team))).toEqual(teams);
    }
    for (const owner of ["idle", "unallocated", "shared"]) expect(teams).toContain(owner);
    const cost = keyed(trend.rows, ["day", "team"], "cost_nanos");
    expect(cost.get(`${DAYS[0]}|idle`)).toBe(0n);
    expect(cost.get(`${DAYS[0]}|shared`)).toBeGreaterThan(0n);
    expect(cost.get(`${DAYS[1]}|shared`)).toBe(0n);
    const spent = new Map([...cost].filter(([, n]) => n !== 0n));
    expect(new Map(view.map((r) => [`${r.day}|${r.team}`, nanos(r.cost)]))).toEqual(spent);
  });

  it("training: every job with its cost, epochs and GPU-hours equal report_training on its last day", async () => {
    // Act
    const training = await reportView({ view: "training", by: [], ...RANGE });
    const view = await select(
      `SELECT job_id, outcome, epochs, gpu_hours, CAST(cost AS VARCHAR) AS cost
       FROM report_training WHERE ${dayFilter}
       QUALIFY ROW_NUMBER() OVER (PARTITION BY event_source, job_id ORDER BY day DESC) = 1`,
    );

    // Assess
    expect(training.rows.length).toBeGreaterThan(5);
    const jobs = new Map(view.map((r) => [r.job_id, r]));
    expect(new Set(jobs.keys())).toEqual(new Set(training.rows.map((r) => r.job_id)));
    for (const job of training.rows) {
      const twin = jobs.get(job.job_id as string);
      expect(nanos(twin?.cost), String(job.job_id)).toBe(job.cost_nanos);
      expect(twin?.epochs === null ? null : Number(twin?.epochs)).toBe(job.epochs);
      expect(Number(twin?.gpu_hours)).toBeCloseTo(job.gpu_hours as number, 6);
      if (job.outcome === "finished" || job.outcome === "failed") expect(twin?.outcome).toBe(job.outcome);
    }
  });

  it("inference: requests, tokens and cost per model equal report_inference", async () => {
    // Act
    const inference = await reportView({ view: "inference", by: [], ...RANGE });
    const view = await select(
      `SELECT model, CAST(SUM(requests) AS VARCHAR) AS requests, CAST(SUM(input_tokens) AS VARCHAR) AS input,
              CAST(SUM(output_tokens) AS VARCHAR) AS output, CAST(SUM(cost) AS VARCHAR) AS cost
       FROM report_inference WHERE ${hourFilter} GROUP BY model`,
    );

    // Assess
    expect(inference.rows.length).toBeGreaterThan(3);
    const asNumber = (v: string | null | undefined) => (v === null || v === undefined ? null : Number(v));
    expect(
      new Map(
        view.map((r) => [
          r.model,
          [asNumber(r.requests), asNumber(r.input), asNumber(r.output), nanos(r.cost)],
        ]),
      ),
    ).toEqual(
      new Map(
        inference.rows.map((r) => [r.model, [r.requests, r.input_tokens, r.output_tokens, r.cost_nanos]]),
      ),
    );
    const requests = stored.filter((r) => r.event_type === "ai.cost.inference.v1").length;
    expect(inference.rows.reduce((n, r) => n + (r.requests as number), 0)).toBe(requests);
  });

  it("reconciliation: estimated, reconciled and billed per day and team equal report_reconciliation", async () => {
    // Act
    const reconciliation = await reportView({ view: "reconciliation", by: ["team"], ...RANGE });
    const view = await select(
      `SELECT CAST(day AS VARCHAR) AS day, team, CAST(SUM(estimated) AS VARCHAR) AS estimated,
              CAST(SUM(reconciled) AS VARCHAR) AS reconciled, CAST(SUM(billed) AS VARCHAR) AS billed,
              CAST(SUM(drift) AS VARCHAR) AS drift
       FROM report_reconciliation WHERE ${dayFilter} GROUP BY ALL`,
    );

    // Assess: every day is reconciled; the unlabelled bill line and the idle estimates are under no team.
    const rows = reconciliation.rows;
    expect(new Set(rows.map((r) => r.day))).toEqual(new Set(DAYS));
    const noTeam = rows.find((r) => r.day === DAYS[1] && r.team === null);
    expect(noTeam?.billed_nanos).toBeGreaterThan(4_000_000_000n);
    for (const r of rows)
      expect(r.drift_nanos).toBe((r.billed_nanos as bigint) - (r.estimated_nanos as bigint));
    const money = (r: ReportRecord) =>
      [r.estimated_nanos, r.reconciled_nanos, r.billed_nanos, r.drift_nanos] as bigint[];
    expect(
      new Map(
        view.map((r) => [
          `${r.day}|${r.team ?? ""}`,
          [r.estimated, r.reconciled, r.billed, r.drift].map(nanos),
        ]),
      ),
    ).toEqual(new Map(rows.map((r) => [`${r.day}|${r.team ?? ""}`, money(r)])));
  });
});
