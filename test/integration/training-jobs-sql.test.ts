import {
  DuckDBConnection,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBTimestampTZValue,
  type DuckDBValue,
  decimalValue,
  timestampTZValue,
} from "@duckdb/node-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadSql } from "#adapters/sql/load-sql.ts";
import type { CostRow } from "#domain/cost-row.ts";
import { NANO_DIGITS, type Nanos } from "#domain/money.ts";
import { type TrainingJobRow, type TrainingOutcome, trainingJobRows } from "#domain/training/job-summary.ts";
import { BASE_HOUR, costRow, trainingRow } from "../support/cost-row-builder.ts";

// sql/duckdb/training_jobs.sql run by real DuckDB against rows stored with plain INSERTs, compared
// with the pure twin (shared/domain/training/job-summary.ts) over the same rows: they must agree to
// the nano. refresh_hourly.sql then shows the job costs are what the rollup charges.

const HOUR = 3_600_000;
const FROM = new Date(BASE_HOUR.getTime() - 2 * HOUR);
const TO = new Date(BASE_HOUR.getTime() + 6 * HOUR);
const NOW = new Date(BASE_HOUR.getTime() + 5 * HOUR);
const SILENCE = 30 * 60;
const USD = 1_000_000_000n;

const INSERT = `INSERT INTO cost_events (
  event_id, event_source, event_type, part, event_time, ingested_at, basis, team, model, business_unit,
  instance_type, gpu_count, job_id, job_phase, epoch, elapsed_seconds, cost, currency, price_source
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`;

const ts = (date: Date) => timestampTZValue(BigInt(date.getTime()) * 1000n);
const money = (nanos: Nanos) => decimalValue(nanos, 38, NANO_DIGITS);

function toDate(value: DuckDBValue | undefined): Date {
  if (!(value instanceof DuckDBTimestampTZValue)) throw new Error(`not a TIMESTAMPTZ: ${String(value)}`);
  return new Date(Number(value.micros / 1000n));
}

function toNanos(value: DuckDBValue | undefined): Nanos {
  if (!(value instanceof DuckDBDecimalValue)) throw new Error(`not a DECIMAL: ${String(value)}`);
  const shift = NANO_DIGITS - value.scale;
  if (shift < 0) throw new Error(`scale ${value.scale} is finer than a nano`);
  return value.value * 10n ** BigInt(shift);
}

const numberOrNull = (value: DuckDBValue | undefined): number | null =>
  value === null || value === undefined ? null : Number(value);

function decodeJob(row: Record<string, DuckDBValue>): TrainingJobRow {
  return {
    event_source: String(row.event_source),
    job_id: String(row.job_id),
    team: String(row.team),
    model: String(row.model),
    business_unit: String(row.business_unit),
    instance_type: row.instance_type === null ? null : String(row.instance_type),
    currency: String(row.currency),
    started_at: toDate(row.started_at),
    last_seen_at: toDate(row.last_seen_at),
    duration_seconds: Number(row.duration_seconds),
    gpu_count: numberOrNull(row.gpu_count),
    epochs: numberOrNull(row.epochs),
    cost_nanos: toNanos(row.cost),
    outcome: String(row.outcome) as TrainingOutcome,
  };
}

/** Job rows at minute marks after BASE_HOUR; costs cumulative in dollars. */
function job(
  jobId: string,
  points: readonly [minute: number, usd: bigint, phase?: string, epoch?: number][],
  overrides: Partial<CostRow> = {},
): CostRow[] {
  return points.map(([minute, usd, phase = "progress", epoch]) =>
    trainingRow(jobId, minute * 60, usd * USD, {
      job_phase: phase,
      epoch: epoch ?? null,
      instance_type: "a3-highgpu-8g",
      ...overrides,
    }),
  );
}

/** Every kind of job, plus rows the query must ignore or count once. */
function scenario(): CostRow[] {
  const finished = job("finished-job", [
    [0, 0n, "started", 0],
    [30, 40n, "progress", 1],
    [60, 80n, "progress", 2],
    [90, 120n, "finished", 3],
  ]);
  const failed = job("failed-job", [
    [10, 0n, "started"],
    [40, 25n, "progress", 1],
    [55, 37n, "failed", 1],
  ]);
  // Silent since minute 120, judged at NOW = minute 300: abandoned, its cost so far still counts.
  const abandoned = job("abandoned-job", [
    [20, 0n, "started"],
    [70, 50n, "progress", 1],
    [120, 100n, "progress", 2],
  ]);
  // Last seen at minute 285, 15 minutes before NOW: still running.
  const running = job("running-job", [
    [270, 0n, "started"],
    [285, 9n, "progress"],
  ]);
  // An emitter that later reports a lower cumulative cost: the rollup charges the last figure.
  const repriced = job("repriced-job", [
    [5, 0n, "started"],
    [50, 70n, "progress"],
    [65, 66n, "finished", 4],
  ]);
  // Same elapsed time three times: the latest event time wins, then the larger event id.
  const tie = [
    trainingRow("tie-job", 600, 3n * USD, {
      event_id: "tie-a",
      event_time: new Date(BASE_HOUR.getTime() + 601_000),
    }),
    trainingRow("tie-job", 600, 4n * USD, { event_id: "tie-b" }),
    trainingRow("tie-job", 600, 5n * USD, { event_id: "tie-c" }),
    trainingRow("tie-job", 600, 6n * USD, {
      event_id: "tie-d",
      event_time: new Date(BASE_HOUR.getTime() + 599_000),
    }),
  ];
  // The same job id from another launcher is another job.
  const otherSource = job("finished-job", [[15, 7n, "finished", 1]], {
    event_source: "//training/other-launcher",
    team: "vision",
    business_unit: "consumer",
  });
  // A later-ingested copy of a stored key with different content: the first ingested copy counts.
  const firstCopy = finished[2] as CostRow;
  const lateCopy: CostRow = {
    ...firstCopy,
    ingested_at: new Date(firstCopy.ingested_at.getTime() + HOUR),
    cost_nanos: 999n * USD,
    job_phase: "failed",
  };
  // Outside the range, another event type, and a training row without a job: none count.
  const outside = trainingRow("finished-job", 7 * 3600, 500n * USD, {
    event_id: "after-range",
    job_phase: "failed",
    event_time: new Date(TO.getTime() + 1),
  });
  const inference = costRow({ event_time: new Date(BASE_HOUR.getTime() + 60_000), job_id: "finished-job" });
  return [
    ...finished,
    ...failed,
    ...abandoned,
    ...running,
    ...repriced,
    ...tie,
    ...otherSource,
    lateCopy,
    firstCopy,
    outside,
    inference,
  ];
}

describe("training_jobs.sql (DuckDB) and its pure twin", () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;

  beforeEach(async () => {
    instance = await DuckDBInstance.create(":memory:");
    connection = await DuckDBConnection.create(instance);
    await connection.run("SET TimeZone = 'UTC'");
    await connection.run(loadSql("duckdb", "create_tables"));
  });

  afterEach(() => {
    connection.closeSync();
    instance.closeSync();
  });

  async function insert(rows: readonly CostRow[]): Promise<void> {
    for (const row of rows) {
      await connection.run(INSERT, [
        row.event_id,
        row.event_source,
        row.event_type,
        row.part,
        ts(row.event_time),
        ts(row.ingested_at),
        row.basis,
        row.team,
        row.model,
        row.business_unit,
        row.instance_type,
        row.gpu_count,
        row.job_id,
        row.job_phase,
        row.epoch,
        row.elapsed_seconds,
        money(row.cost_nanos),
        row.currency,
        row.price_source,
      ]);
    }
  }

  async function trainingJobs(range = { from: FROM, to: TO }, now = NOW): Promise<TrainingJobRow[]> {
    const reader = await connection.runAndReadAll(loadSql("duckdb", "training_jobs"), {
      from: ts(range.from),
      to: ts(range.to),
      now: ts(now),
      silence_seconds: SILENCE,
    });
    return reader.getRowObjects().map(decodeJob);
  }

  it("agrees with trainingJobRows to the nano, whatever the order and copies of the rows", async () => {
    const rows = scenario();
    await insert([...rows].reverse());

    const fromSql = await trainingJobs();
    const pure = trainingJobRows(
      rows.filter((r) => r.event_time >= FROM && r.event_time < TO),
      { now: NOW, silenceSeconds: SILENCE },
    );

    expect(fromSql).toEqual(pure);
    expect(
      Object.fromEntries(fromSql.map((j) => [`${j.event_source} ${j.job_id}`, [j.outcome, j.cost_nanos]])),
    ).toEqual({
      "//training/launcher finished-job": ["finished", 120n * USD],
      "//training/launcher failed-job": ["failed", 37n * USD],
      "//training/launcher abandoned-job": ["abandoned", 100n * USD],
      "//training/launcher running-job": ["running", 9n * USD],
      "//training/launcher repriced-job": ["finished", 66n * USD],
      "//training/launcher tie-job": ["abandoned", 3n * USD],
      "//training/other-launcher finished-job": ["finished", 7n * USD],
    });
    const finished = fromSql.find((j) => j.job_id === "finished-job" && j.team === "research");
    expect(finished).toMatchObject({
      team: "research",
      model: "ranker",
      instance_type: "a3-highgpu-8g",
      started_at: BASE_HOUR,
      last_seen_at: new Date(BASE_HOUR.getTime() + 90 * 60_000),
      duration_seconds: 5400,
      gpu_count: 8,
      epochs: 3,
    });
  });

  it("judges outcomes at $now with $silence_seconds, as jobOutcome does", async () => {
    const rows = scenario();
    await insert(rows);
    for (const now of [
      new Date(BASE_HOUR.getTime() + 150 * 60_000), // abandoned-job silent exactly 30 min: running
      new Date(BASE_HOUR.getTime() + 150 * 60_000 + 1), // one ms more: abandoned
      new Date(BASE_HOUR.getTime() + 24 * HOUR),
    ]) {
      const fromSql = await trainingJobs(undefined, now);
      const pure = trainingJobRows(
        rows.filter((r) => r.event_time >= FROM && r.event_time < TO),
        { now, silenceSeconds: SILENCE },
      );
      expect(fromSql).toEqual(pure);
    }
    const atBoundary = await trainingJobs(undefined, new Date(BASE_HOUR.getTime() + 150 * 60_000));
    const afterBoundary = await trainingJobs(undefined, new Date(BASE_HOUR.getTime() + 150 * 60_000 + 1));
    expect(atBoundary.find((j) => j.job_id === "abandoned-job")?.outcome).toBe("running");
    expect(afterBoundary.find((j) => j.job_id === "abandoned-job")?.outcome).toBe("abandoned");
  });

  it("reads only the range: a job cut by `from` starts at its first row inside and keeps its cumulative cost", async () => {
    const rows = scenario();
    await insert(rows);
    const range = { from: new Date(BASE_HOUR.getTime() + 45 * 60_000), to: TO };
    const fromSql = await trainingJobs(range);
    const pure = trainingJobRows(
      rows.filter((r) => r.event_time >= range.from && r.event_time < range.to),
      { now: NOW, silenceSeconds: SILENCE },
    );
    expect(fromSql).toEqual(pure);
    expect(fromSql.find((j) => j.job_id === "finished-job" && j.team === "research")).toMatchObject({
      started_at: new Date(BASE_HOUR.getTime() + 60 * 60_000),
      cost_nanos: 120n * USD,
    });
    expect(fromSql.map((j) => j.job_id)).not.toContain("tie-job");
  });

  it("charges in total what refresh_hourly charges for the same training rows", async () => {
    const rows = scenario();
    await insert(rows);
    const statements = await connection.extractStatements(loadSql("duckdb", "refresh_hourly"));
    for (let index = 0; index < statements.count; index++) {
      const prepared = await statements.prepare(index);
      const values: Record<string, DuckDBValue> = { from: ts(FROM), to: ts(TO), lookback_from: ts(FROM) };
      for (let p = 1; p <= prepared.parameterCount; p++) {
        prepared.bindValue(p, values[prepared.parameterName(p)] ?? null);
      }
      await prepared.run();
      prepared.destroySync();
    }
    const reader = await connection.runAndReadAll(
      "SELECT SUM(cost) AS cost FROM cost_hourly WHERE event_type = 'ai.cost.training.v1'",
    );
    const rolledUp = toNanos(reader.getRowObjects()[0]?.cost);
    const jobs = await trainingJobs();
    expect(jobs.reduce((sum, j) => sum + j.cost_nanos, 0n)).toBe(rolledUp);
    expect(rolledUp).toBe((120n + 37n + 100n + 9n + 66n + 3n + 7n) * USD);
  });
});
