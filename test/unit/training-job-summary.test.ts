import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CostRow } from "#domain/cost-row.ts";
import {
  DEFAULT_SILENCE_SECONDS,
  jobOutcome,
  summarizeByOutcome,
  summarizeJob,
  summarizeJobs,
  type TrainingJobRow,
  TrainingSummaryError,
  trainingJobRows,
} from "#domain/training/job-summary.ts";
import { BASE_HOUR, trainingRow } from "../support/cost-row-builder.ts";

const USD = 1_000_000_000n;
const MIN = 60_000;
const at = (minutes: number) => new Date(BASE_HOUR.getTime() + minutes * MIN);

function point(
  jobId: string,
  minute: number,
  nanos: bigint,
  phase = "progress",
  epoch: number | null = null,
) {
  return trainingRow(jobId, minute * 60, nanos, { job_phase: phase, epoch });
}

function jobRow(overrides: Partial<TrainingJobRow> = {}): TrainingJobRow {
  return {
    event_source: "//training/launcher",
    job_id: "job-1",
    team: "research",
    model: "ranker",
    business_unit: "search",
    instance_type: "a3-highgpu-8g",
    currency: "USD",
    started_at: at(0),
    last_seen_at: at(60),
    duration_seconds: 3600,
    gpu_count: 8,
    epochs: 3,
    cost_nanos: 100n * USD,
    outcome: "finished",
    ...overrides,
  };
}

describe("trainingJobRows", () => {
  const events: CostRow[] = [
    point("a", 0, 0n, "started", 0),
    point("a", 30, 10n * USD, "progress", 1),
    point("a", 60, 20n * USD, "progress", 2),
    point("a", 90, 31n * USD, "finished", 3),
    point("b", 5, 0n, "started"),
    point("b", 20, 4n * USD, "failed"),
    point("c", 10, 0n, "started"),
    point("c", 40, 12n * USD),
    point("d", 100, 0n, "started"),
    point("d", 110, 2n * USD),
  ];
  const now = at(120);

  it("derives times, duration, GPU-hours, epochs, cost and cost per epoch per job", () => {
    const [a] = summarizeJobs(events, { now });
    expect(a).toEqual({
      event_source: "//training/launcher",
      job_id: "a",
      team: "research",
      model: "ranker",
      business_unit: "payments",
      instance_type: "g2-standard-8",
      currency: "USD",
      started_at: at(0),
      last_seen_at: at(90),
      duration_seconds: 5400,
      gpu_count: 8,
      epochs: 3,
      cost_nanos: 31n * USD,
      outcome: "finished",
      gpu_hours: 12,
      cost_per_epoch_nanos: 10_333_333_333n,
    });
  });

  it("tells finished, failed, abandoned (silent > 30 min) and running apart", () => {
    const outcomes = Object.fromEntries(trainingJobRows(events, { now }).map((j) => [j.job_id, j.outcome]));
    expect(outcomes).toEqual({ a: "finished", b: "failed", c: "abandoned", d: "running" });
    // c keeps the cost it ran up while silent: nothing is added.
    expect(trainingJobRows(events, { now }).find((j) => j.job_id === "c")?.cost_nanos).toBe(12n * USD);
  });

  it("honours a configured silence", () => {
    const rows = trainingJobRows(events, { now, silenceSeconds: 2 * 3600 });
    expect(rows.find((j) => j.job_id === "c")?.outcome).toBe("running");
  });

  it("gives the same summary for any order and any repeats of the rows", () => {
    const expected = summarizeJobs(events, { now });
    fc.assert(
      fc.property(
        fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
        fc.array(fc.nat(events.length - 1), { maxLength: 12 }),
        (shuffled, repeats) => {
          const copies = repeats.map((i) => {
            const row = shuffled[i] as CostRow;
            return { ...row, ingested_at: new Date(row.ingested_at.getTime() + MIN) };
          });
          expect(summarizeJobs([...copies, ...shuffled], { now })).toEqual(expected);
        },
      ),
    );
  });

  it("counts the first ingested copy of a key, as the warehouse dedupe does", () => {
    const first = point("a", 90, 31n * USD, "finished", 3);
    const later = { ...first, ingested_at: at(200), cost_nanos: 99n * USD, job_phase: "failed" };
    const [job] = trainingJobRows([later, first], { now });
    expect(job).toMatchObject({ cost_nanos: 31n * USD, outcome: "finished" });
  });

  it("charges the last row's cumulative cost (the rollup's total), even when an emitter lowered it", () => {
    const [job] = trainingJobRows(
      [point("r", 0, 0n, "started"), point("r", 30, 9n * USD), point("r", 60, 8n * USD)],
      { now: at(61) },
    );
    expect(job?.cost_nanos).toBe(8n * USD);
  });

  it("ignores rows that are not training rows of a job", () => {
    const inference = { ...point("a", 10, 5n * USD), event_type: "ai.cost.inference.v1" };
    const noJob = { ...point("a", 10, 5n * USD), event_id: "x", job_id: null };
    expect(trainingJobRows([inference, noJob], { now })).toEqual([]);
  });

  it("rejects a silence that is not whole non-negative seconds", () => {
    expect(() => trainingJobRows(events, { now, silenceSeconds: 1.5 })).toThrow(TrainingSummaryError);
    expect(() => trainingJobRows(events, { now, silenceSeconds: -1 })).toThrow(TrainingSummaryError);
  });
});

describe("jobOutcome", () => {
  it("is abandoned only when silent for strictly longer than the silence", () => {
    const lastSeen = at(0);
    const edge = new Date(lastSeen.getTime() + DEFAULT_SILENCE_SECONDS * 1000);
    expect(jobOutcome(null, lastSeen, edge)).toBe("running");
    expect(jobOutcome(null, lastSeen, new Date(edge.getTime() + 1))).toBe("abandoned");
    expect(jobOutcome("failed", lastSeen, new Date(edge.getTime() + 1))).toBe("failed");
  });
});

describe("summarizeJob", () => {
  it("rounds the cost per epoch half away from zero and has none without epochs", () => {
    expect(summarizeJob(jobRow({ cost_nanos: 5n, epochs: 2 })).cost_per_epoch_nanos).toBe(3n);
    expect(summarizeJob(jobRow({ cost_nanos: 7n, epochs: 3 })).cost_per_epoch_nanos).toBe(2n);
    expect(summarizeJob(jobRow({ epochs: null })).cost_per_epoch_nanos).toBeNull();
    expect(summarizeJob(jobRow({ epochs: 0 })).cost_per_epoch_nanos).toBeNull();
    expect(summarizeJob(jobRow({ gpu_count: null })).gpu_hours).toBeNull();
  });
});

describe("summarizeByOutcome", () => {
  it("totals cost per outcome and reports the real abandoned share", () => {
    const totals = summarizeByOutcome([
      jobRow({ job_id: "1", outcome: "finished", cost_nanos: 500n * USD }),
      jobRow({ job_id: "2", outcome: "abandoned", cost_nanos: 200n * USD }),
      jobRow({ job_id: "3", outcome: "abandoned", cost_nanos: 100n * USD }),
      jobRow({ job_id: "4", outcome: "failed", cost_nanos: 150n * USD }),
      jobRow({ job_id: "5", outcome: "running", cost_nanos: 50n * USD + 1n }),
      jobRow({ job_id: "6", outcome: "finished", currency: "EUR", cost_nanos: 3n }),
    ]);
    expect(totals.map((t) => t.currency)).toEqual(["EUR", "USD"]);
    const usd = totals[1];
    expect(usd).toEqual({
      currency: "USD",
      jobs: 5,
      cost_nanos: 1000n * USD + 1n,
      by_outcome: {
        finished: { jobs: 1, cost_nanos: 500n * USD },
        failed: { jobs: 1, cost_nanos: 150n * USD },
        running: { jobs: 1, cost_nanos: 50n * USD + 1n },
        abandoned: { jobs: 2, cost_nanos: 300n * USD },
      },
      abandoned_share: 0.3,
    });
    expect(totals[0]?.abandoned_share).toBe(0);
  });

  it("has no share without cost", () => {
    expect(summarizeByOutcome([jobRow({ cost_nanos: 0n })])[0]?.abandoned_share).toBeNull();
    expect(summarizeByOutcome([])).toEqual([]);
  });
});
