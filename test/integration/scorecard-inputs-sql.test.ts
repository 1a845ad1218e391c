import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import { segmentFromRow } from "#app/scorecard.ts";
import type { CostRow } from "#domain/cost-row.ts";
import { createSeededRandom } from "#domain/demo/seeded-random.ts";
import { type Nanos, splitByWeights } from "#domain/money.ts";
import type { ScorecardSegment } from "#domain/scorecard/scorecard-inputs.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { BASE_HOUR, costRow, trainingRow } from "../support/cost-row-builder.ts";

// sql/duckdb/scorecard_inputs.sql run by real DuckDB over generated rows (fixed seed), compared with
// what the query's header says it computes, worked out here row by row: training charged by
// difference (its first events before the window), the one view's split of allocations, repeats
// within the cache TTL, interruptibility from labels, epochs and environment.

const HOUR = 3_600_000;
const FROM = BASE_HOUR;
const TO = new Date(BASE_HOUR.getTime() + 12 * HOUR);
const LOOKBACK = new Date(FROM.getTime() - 7 * 24 * HOUR);
const TTL_SECONDS = 2 * 3600;

const rng = createSeededRandom("scorecard-inputs");
const at = (ms: number) => new Date(FROM.getTime() + ms);

const PLACEMENTS = [
  { cloud: "gcp", region: "us-central1", accelerator: "nvidia-l4", instance_type: null },
  { cloud: "gcp", region: "us-central1", accelerator: "nvidia-tesla-a100", instance_type: null },
  { cloud: "aws", region: "us-east-1", accelerator: null, instance_type: "p3.2xlarge" },
] as const;
const MODELS = [
  { model: "chat", teams: ["chat-team", "growth"], namespace: "serving" },
  { model: "embed", teams: ["docs"], namespace: "serving" },
  { model: "tagger", teams: ["vision"], namespace: "vision" },
] as const;

function inferenceRows(count: number): CostRow[] {
  const fingerprints = Array.from({ length: 12 }, (_, i) => `sha256:${i}`);
  return Array.from({ length: count }, (_, i) => {
    const m = rng.pick(MODELS);
    const labels: Record<string, string> = rng.chance(0.1)
      ? { workload: "batch" }
      : rng.chance(0.05)
        ? { interruptible: "true" }
        : {};
    return costRow({
      event_id: `req-${i}`,
      event_source: `//inference/${m.model}`,
      team: rng.pick(m.teams),
      model: m.model,
      namespace: m.namespace,
      environment: rng.chance(0.1) ? "batch" : "prod",
      labels,
      ...rng.pick(PLACEMENTS),
      pricing_model: rng.chance(0.2) ? "spot" : "on_demand",
      provider: null,
      // Some fall before or after the window: not read.
      event_time: at(rng.int(-2 * HOUR, 13 * HOUR - 1)),
      gpu_seconds: rng.int(1, 400) / 10,
      request_fingerprint: rng.chance(0.7) ? rng.pick(fingerprints) : null,
      cache_hit: rng.chance(0.1),
      cost_nanos: BigInt(rng.int(1, 5_000_000_000)),
    });
  });
}

/** A job's rows: cumulative cost and elapsed time, its first rows before the window. */
function trainingJob(
  jobId: string,
  options: { epochs: boolean; labels?: Record<string, string> },
): CostRow[] {
  const start = -3 * HOUR;
  let cost = 0n;
  return Array.from({ length: 10 }, (_, k) => {
    cost += BigInt(rng.int(1_000_000_000, 9_000_000_000));
    const elapsed = k * 1800 + rng.int(0, 60);
    return trainingRow(jobId, elapsed, cost, {
      event_source: "//training/launcher",
      team: "research",
      model: "chat",
      namespace: "training",
      ...PLACEMENTS[1],
      gpu_count: 4,
      epoch: options.epochs ? Math.floor(k / 3) : null,
      labels: options.labels ?? {},
      event_time: at(start + elapsed * 1000),
      ingested_at: at(start + elapsed * 1000 + 60_000),
    });
  });
}

function allocationRows(): CostRow[] {
  const rows: CostRow[] = [];
  for (let h = 1; h < 6; h++) {
    for (const namespace of ["serving", "notebooks"]) {
      rows.push(
        costRow({
          event_id: `alloc-${namespace}-${h}`,
          event_source: "//kubecost/prod",
          event_type: "ai.cost.allocation.v1",
          basis: "allocation",
          team: "ml-platform",
          model: "unallocated",
          namespace,
          event_time: at(h * HOUR),
          cost_nanos: BigInt(rng.int(10_000_000_000, 90_000_000_000)),
        }),
      );
    }
  }
  return rows;
}

const ROWS: CostRow[] = [
  ...inferenceRows(400),
  ...trainingJob("job-epochs", { epochs: true }),
  ...trainingJob("job-plain", { epochs: false }),
  ...trainingJob("job-no-checkpoint", { epochs: true, labels: { checkpointing: "false" } }),
  ...allocationRows(),
];

const key = (s: Pick<ScorecardSegment, keyof ScorecardSegment>) =>
  JSON.stringify([
    s.team,
    s.model,
    s.currency,
    s.workload,
    s.interruptible,
    s.namespace,
    s.cloud,
    s.region,
    s.accelerator,
    s.instance_type,
    s.pricing_model,
    s.provider,
  ]);

const byKey = (a: ScorecardSegment, b: ScorecardSegment) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
const rowOrder = (a: CostRow, b: CostRow) =>
  a.event_source < b.event_source
    ? -1
    : a.event_source > b.event_source
      ? 1
      : a.event_id < b.event_id
        ? -1
        : a.event_id > b.event_id
          ? 1
          : a.part - b.part;

/** The query's header, worked out row by row. */
function expectedSegments(rows: readonly CostRow[]): { segments: ScorecardSegment[]; firstEvent: Date } {
  const inWindow = (r: CostRow) => r.event_time >= FROM && r.event_time < TO;
  const charged = new Map<CostRow, { cost: Nanos; gpu: number }>();
  const epochs = new Map<string, boolean>();
  const jobs = new Map<string, CostRow[]>();
  for (const r of rows) {
    if (r.basis !== "estimate") continue;
    if (r.event_type === "ai.cost.training.v1" && r.event_time >= LOOKBACK && r.event_time < TO) {
      const job = `${r.event_source}|${r.job_id}`;
      jobs.set(job, [...(jobs.get(job) ?? []), r]);
      if (r.epoch !== null) epochs.set(job, true);
    } else if (r.event_type === "ai.cost.inference.v1" && inWindow(r)) {
      charged.set(r, { cost: r.cost_nanos, gpu: r.gpu_seconds ?? 0 });
    }
  }
  for (const jobRows of jobs.values()) {
    jobRows.sort((a, b) => (a.elapsed_seconds ?? 0) - (b.elapsed_seconds ?? 0));
    jobRows.forEach((r, i) => {
      const before = jobRows[i - 1];
      charged.set(r, {
        cost: r.cost_nanos - (before?.cost_nanos ?? 0n),
        gpu: (r.gpu_count ?? 0) * ((r.elapsed_seconds ?? 0) - (before?.elapsed_seconds ?? 0)),
      });
    });
  }
  const workload = [...charged.keys()].filter(inWindow);

  const repeats = new Set<CostRow>();
  const lastSeen = new Map<string, Date>();
  for (const r of workload
    .filter((w) => w.event_type === "ai.cost.inference.v1")
    .sort((a, b) => a.event_time.getTime() - b.event_time.getTime() || rowOrder(a, b))) {
    if (r.request_fingerprint === null) continue;
    const k = `${r.model}|${r.request_fingerprint}`;
    const previous = lastSeen.get(k);
    if (previous && r.event_time.getTime() - previous.getTime() <= TTL_SECONDS * 1000 && !r.cache_hit)
      repeats.add(r);
    lastSeen.set(k, r.event_time);
  }

  const hourOf = (r: CostRow) => Math.floor(r.event_time.getTime() / HOUR) * HOUR;
  const groupOf = (r: CostRow) => `${hourOf(r)}|${r.namespace}|${r.currency}`;
  const infra = new Map<string, Nanos>();
  for (const r of rows) {
    if (r.basis === "allocation" && r.namespace !== null && inWindow(r)) {
      infra.set(groupOf(r), (infra.get(groupOf(r)) ?? 0n) + r.cost_nanos);
    }
  }
  const viewCost = new Map<CostRow, Nanos>(workload.map((r) => [r, charged.get(r)?.cost ?? 0n]));
  for (const [group, nanos] of infra) {
    const members = workload.filter((r) => groupOf(r) === group).sort(rowOrder);
    const weights = members.map((r) => {
      const c = charged.get(r)?.cost ?? 0n;
      return c > 0n ? c : 0n;
    });
    if (weights.reduce((a, b) => a + b, 0n) === 0n) continue;
    splitByWeights(nanos, weights).forEach((part, i) => {
      viewCost.set(members[i] as CostRow, part);
    });
  }

  const segments = new Map<string, ScorecardSegment>();
  for (const r of workload) {
    const training = r.event_type === "ai.cost.training.v1";
    const job = `${r.event_source}|${r.job_id}`;
    const label = r.labels;
    const interruptible =
      label.interruptible === "true" || label.interruptible === "false"
        ? label.interruptible === "true"
        : training
          ? label.checkpointing !== undefined
            ? label.checkpointing === "true"
            : epochs.get(job) === true
          : r.environment === "batch" || label.workload === "batch";
    const s: ScorecardSegment = {
      team: r.team,
      model: r.model,
      currency: r.currency,
      workload: training ? "training" : "inference",
      interruptible,
      namespace: r.namespace,
      cloud: r.cloud,
      region: r.region,
      accelerator: r.accelerator,
      instance_type: r.instance_type,
      pricing_model: r.pricing_model,
      provider: r.provider,
      cost_nanos: 0n,
      gpu_seconds: 0,
      requests: 0,
      fingerprinted: 0,
      repeats: 0,
      repeat_cost_nanos: 0n,
      cache_hits: 0,
    };
    const acc = segments.get(key(s)) ?? s;
    const cost = viewCost.get(r) ?? 0n;
    acc.cost_nanos += cost;
    acc.gpu_seconds += charged.get(r)?.gpu ?? 0;
    if (!training) {
      acc.requests += 1;
      if (r.request_fingerprint !== null) acc.fingerprinted += 1;
    }
    if (repeats.has(r)) {
      acc.repeats += 1;
      acc.repeat_cost_nanos += cost;
    }
    if (r.cache_hit) acc.cache_hits += 1;
    segments.set(key(s), acc);
  }
  const firstEvent = new Date(Math.min(...workload.map((r) => r.event_time.getTime())));
  return { segments: [...segments.values()].sort(byKey), firstEvent };
}

const roundGpu = (s: ScorecardSegment) => ({ ...s, gpu_seconds: Math.round(s.gpu_seconds * 1000) / 1000 });

describe("scorecard_inputs (DuckDB) over generated rows", () => {
  let warehouse: Warehouse;
  const params = (filters: { team?: string; model?: string } = {}) => ({
    from: FROM,
    to: TO,
    lookback_from: LOOKBACK,
    team: filters.team ?? "",
    model: filters.model ?? "",
    cache_ttl_seconds: TTL_SECONDS,
  });

  beforeAll(async () => {
    warehouse = createDuckDbWarehouse({ path: ":memory:" });
    await warehouse.init();
    await warehouse.insertEvents(ROWS);
  });
  afterAll(() => warehouse.close());

  it("gives every segment's one-view cost, GPU time, requests, repeats and cache hits", async () => {
    // Prepare
    const expected = expectedSegments(ROWS);

    // Act
    const rows = await warehouse.sql.query("scorecard_inputs", params());

    // Assess
    const segments = rows.map(segmentFromRow).sort(byKey);
    expect(segments.map(roundGpu)).toEqual(expected.segments.map(roundGpu));
    expect(rows.every((r) => (r.first_event as Date).getTime() === expected.firstEvent.getTime())).toBe(true);
    // The data exercises what the query distinguishes.
    expect(segments.some((s) => s.workload === "training" && s.interruptible)).toBe(true);
    expect(segments.some((s) => s.workload === "training" && !s.interruptible)).toBe(true);
    expect(segments.some((s) => s.workload === "inference" && s.interruptible)).toBe(true);
    expect(segments.reduce((n, s) => n + s.repeats, 0)).toBeGreaterThan(10);
  });

  it("hands out every nano of a covered namespace-hour, and only the workload rows' estimates elsewhere", async () => {
    // Prepare: the serving allocations all fall in hours with requests in the namespace.
    const allocated = ROWS.filter((r) => r.basis === "allocation" && r.namespace === "serving");
    const uncovered = expectedSegments(
      ROWS.filter((r) => !(r.basis === "allocation" && r.namespace === "serving")),
    );

    // Act
    const rows = (await warehouse.sql.query("scorecard_inputs", params())).map(segmentFromRow);

    // Assess: the covered hours now cost what their allocations did, not the estimates.
    const total = (segments: readonly ScorecardSegment[]) => segments.reduce((n, s) => n + s.cost_nanos, 0n);
    const servingHours = new Set(allocated.map((r) => r.event_time.getTime()));
    const estimatesInCovered = ROWS.filter(
      (r) =>
        r.basis === "estimate" &&
        r.namespace === "serving" &&
        r.event_time >= FROM &&
        r.event_time < TO &&
        servingHours.has(Math.floor(r.event_time.getTime() / HOUR) * HOUR),
    ).reduce((n, r) => n + r.cost_nanos, 0n);
    const allocatedTotal = allocated.reduce((n, r) => n + r.cost_nanos, 0n);
    expect(total(rows)).toBe(total(uncovered.segments) - estimatesInCovered + allocatedTotal);
  });

  it("filters by team and by model after the shares and repeats are worked out", async () => {
    // Prepare
    const all = expectedSegments(ROWS).segments;

    // Act
    const team = (await warehouse.sql.query("scorecard_inputs", params({ team: "growth" }))).map(
      segmentFromRow,
    );
    const model = (await warehouse.sql.query("scorecard_inputs", params({ model: "chat" }))).map(
      segmentFromRow,
    );

    // Assess
    expect(team.sort(byKey).map(roundGpu)).toEqual(all.filter((s) => s.team === "growth").map(roundGpu));
    expect(model.sort(byKey).map(roundGpu)).toEqual(all.filter((s) => s.model === "chat").map(roundGpu));
    expect(model.some((s) => s.team === "research")).toBe(true);
  });
});
