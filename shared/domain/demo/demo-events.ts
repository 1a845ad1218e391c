/**
 * A deterministic demo day (or week) of an AI platform's cost events: diurnal inference traffic,
 * training jobs as lifecycle events (one runaway, one failure), a team repeating the same prompts,
 * a spike in one team's inference over the last hours, the month's fixed licence, and each whole
 * hour's Kubernetes allocations of the GPU serving cluster (shared GPU, idle, unallocated) as the
 * allocation import reports them at the hour's end.
 * Pure: no clock, no I/O; same options, same events.
 */
import { MAX_JOB_SECONDS } from "#domain/events/training.ts";
import { NANOS_PER_UNIT } from "#domain/money.ts";
import { clusterHour, wholeHours } from "./cluster-allocations.ts";
import {
  type DemoCloudEvent,
  eventId,
  type FixedWireData,
  fixedEvent,
  inferenceEvent,
  type TrainingWireData,
  trainingEvent,
} from "./demo-cloud-event.ts";
import {
  compileSpike,
  compileTraffic,
  diurnalFactor,
  type InferenceRequest,
  weekdayFactor,
} from "./inference-traffic.ts";
import {
  createSeededRandom,
  hashSeed,
  type Seed,
  type SeededRandom,
  weightedPicker,
} from "./seeded-random.ts";
import { findTeam, type SyntheticOrg, syntheticOrg, type TrainingPipeline } from "./synthetic-org.ts";

export interface DemoEventOptions {
  /** Start of the generated range (inclusive). */
  from: Date;
  /** Length of the range in hours (may be fractional). */
  hours: number;
  seed: Seed;
  /** Org-wide inference requests in the busiest hour of a weekday (15:00 UTC). */
  requestsPerHour?: number;
  /** Whether the range's last hours carry the org's inference spike (syntheticOrg().inferenceSpike); default true. */
  inferenceSpike?: boolean;
}

export const DEFAULT_REQUESTS_PER_HOUR = 2_000;
/** The runaway starts an hour in; a range of this many hours shows it running 30+ hours. */
export const FULL_SCENARIO_HOURS = 32;
/** The training pipeline whose first run of the range stalls and never finishes. */
export const RUNAWAY_PIPELINE = "chat-finetune";
/** The training pipeline whose first run of the range fails (and is retried). */
export const FAILING_PIPELINE = "fraud-retrain";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const HEARTBEAT_MS = 15 * 60_000;

/** All demo events of the range, in time order. */
export function generateDemoEvents(options: DemoEventOptions): DemoCloudEvent[] {
  return Array.from(demoEventStream(options));
}

/**
 * The same events as `generateDemoEvents`, one at a time in time order (ties keep generation
 * order), so a caller can pace them in real time. The month's fixed cost is stamped at the start of
 * its month, which may be before `from`; it comes first. Each whole UTC hour of the range gets the
 * serving cluster's allocation events, stamped at the hour's end (the last ones at the range's end);
 * their ids are collectAllocations' (cluster, window, pod), so they do not use up sequence numbers.
 */
export function* demoEventStream(options: DemoEventOptions): Generator<DemoCloudEvent, void, undefined> {
  const { fromMs, endMs, requestsPerHour } = validate(options);
  const org = syntheticOrg();
  const root = createSeededRandom(options.seed);
  const runTag = `demo-${hashSeed(`${options.seed}|${fromMs}|${options.hours}|${requestsPerHour}`)
    .toString(16)
    .padStart(8, "0")}`;
  const scheduled = [
    ...trainingSchedule(org, fromMs, endMs, root.fork("training")),
    ...fixedCostSchedule(org, fromMs, endMs),
  ].sort((a, b) => a.ms - b.ms);
  // Forked per hour from one label: an hour's allocations depend on the seed and the hour only.
  const clusterRng = root.fork("gpu-cluster");
  const allocationHours = wholeHours(fromMs, endMs);

  const rng = root.fork("inference");
  const sources = compileTraffic(org, root.fork("traffic"));
  const spike =
    options.inferenceSpike === false ? undefined : compileSpike(org, org.inferenceSpike, root.fork("spike"));
  const spikeFrom = spike === undefined ? Number.POSITIVE_INFINITY : endMs - spike.spike.hours * HOUR_MS;
  let sequence = 0;
  let next = 0;
  let nextHour = 0;
  const scheduledAt = () => (next < scheduled.length ? (scheduled[next] as Scheduled).ms : Infinity);
  const allocationsAt = () =>
    nextHour < allocationHours.length ? (allocationHours[nextHour] as number) + HOUR_MS : Infinity;
  let due = Math.min(scheduledAt(), allocationsAt());
  /** Scheduled events and allocation hours due by `ms`, in time order (scheduled first on a tie). */
  function* dueBy(ms: number): Generator<DemoCloudEvent, void, undefined> {
    while (Number.isFinite(due) && due <= ms) {
      if (scheduledAt() <= allocationsAt()) {
        yield emit(scheduled[next++] as Scheduled, eventId(runTag, sequence++));
      } else {
        const hourStart = allocationHours[nextHour++] as number;
        yield* clusterHour(org.gpuCluster, hourStart, clusterRng.fork(hourStart)).events;
      }
      due = Math.min(scheduledAt(), allocationsAt());
    }
  }

  for (let bucketStart = fromMs; bucketStart < endMs; bucketStart += HOUR_MS) {
    const bucketEnd = Math.min(bucketStart + HOUR_MS, endMs);
    const span = bucketEnd - bucketStart;
    const mid = bucketStart + span / 2;
    const hourOfDay = (mid % DAY_MS) / HOUR_MS;
    const scale = requestsPerHour * weekdayFactor(mid) * (span / HOUR_MS);
    const requesters: { request(rng: SeededRandom): InferenceRequest }[] = [...sources];
    const expected = sources.map((s) => scale * s.trafficWeight * diurnalFactor(hourOfDay, s.troughRatio));
    // The spike's loop runs at its own rate (scaled with the org's traffic), whatever the hour or day.
    if (spike !== undefined && mid >= spikeFrom) {
      requesters.push(spike);
      expected.push(
        (spike.spike.requestsPerHour * requestsPerHour * span) / DEFAULT_REQUESTS_PER_HOUR / HOUR_MS,
      );
    }
    const total = expected.reduce((a, b) => a + b, 0);
    const count = total > 0 ? Math.max(0, Math.round(total * (1 + 0.05 * rng.normalish()))) : 0;
    if (count === 0) continue;
    const pickSource = weightedPicker(requesters, expected);
    // Evenly spread slots with a random offset inside each: times ascend without a sort.
    const slot = span / count;
    for (let i = 0; i < count; i++) {
      const ms = Math.floor(bucketStart + (i + rng.next()) * slot);
      if (due <= ms) yield* dueBy(ms);
      const request = pickSource(rng.next()).request(rng);
      yield inferenceEvent(eventId(runTag, sequence++), request.source, ms, request.data);
    }
  }
  yield* dueBy(Infinity);
}

function validate(options: DemoEventOptions): { fromMs: number; endMs: number; requestsPerHour: number } {
  const fromMs = options.from instanceof Date ? options.from.getTime() : Number.NaN;
  if (!Number.isFinite(fromMs)) throw new RangeError("from must be a valid Date");
  if (!(options.hours > 0) || !Number.isFinite(options.hours)) {
    throw new RangeError(`hours must be a positive number, got ${options.hours}`);
  }
  const requestsPerHour = options.requestsPerHour ?? DEFAULT_REQUESTS_PER_HOUR;
  if (!(requestsPerHour >= 0) || !Number.isFinite(requestsPerHour)) {
    throw new RangeError(`requestsPerHour must be a number ≥ 0, got ${requestsPerHour}`);
  }
  return { fromMs, endMs: fromMs + options.hours * HOUR_MS, requestsPerHour };
}

type Scheduled =
  | { kind: "training"; ms: number; source: string; data: TrainingWireData }
  | { kind: "fixed"; ms: number; source: string; data: FixedWireData };

function emit(item: Scheduled, id: string): DemoCloudEvent {
  return item.kind === "training"
    ? trainingEvent(id, item.source, item.ms, item.data)
    : fixedEvent(id, item.source, item.ms, item.data);
}

type Outcome = "finished" | "failed" | "runaway";

interface TrainingRun {
  pipeline: TrainingPipeline;
  startMs: number;
  outcome: Outcome;
}

const RUNAWAY_STALL_EPOCH = 2;
const FAILURE_EPOCH = 2;

function trainingSchedule(org: SyntheticOrg, fromMs: number, endMs: number, rng: SeededRandom): Scheduled[] {
  const pipeline = (name: string): TrainingPipeline => {
    const found = org.trainingPipelines.find((p) => p.name === name);
    if (!found) throw new RangeError(`synthetic org has no training pipeline ${name}`);
    return found;
  };
  const minutes = (m: number) => m * 60_000;
  const runs: TrainingRun[] = [];

  // Fine-tunes: the first stalls and runs on; its peers start every ten hours and finish in ~5 h.
  const finetune = pipeline(RUNAWAY_PIPELINE);
  runs.push({ pipeline: finetune, startMs: fromMs + HOUR_MS + minutes(rng.int(0, 10)), outcome: "runaway" });
  for (let t = fromMs + 4 * HOUR_MS; t < endMs; t += 10 * HOUR_MS) {
    runs.push({ pipeline: finetune, startMs: t + minutes(rng.int(0, 20)), outcome: "finished" });
  }
  // Nightly and daily retrains at fixed UTC times.
  for (const [name, hourUtc] of [
    ["ranker-nightly", 2],
    ["vision-tagger-train", 13],
  ] as const) {
    for (let day = Math.floor(fromMs / DAY_MS) * DAY_MS; day < endMs; day += DAY_MS) {
      runs.push({
        pipeline: pipeline(name),
        startMs: day + hourUtc * HOUR_MS + minutes(rng.int(0, 9)),
        outcome: "finished",
      });
    }
  }
  // The fraud model's retrain runs out of GPU memory at epoch 2; its retry, with a smaller batch, finishes.
  const fraud = pipeline(FAILING_PIPELINE);
  const failedStart = fromMs + 6 * HOUR_MS + minutes(rng.int(0, 10));
  runs.push({ pipeline: fraud, startMs: failedStart, outcome: "failed" });
  const failedAfter = failureSeconds(fraud) * 1000;
  runs.push({ pipeline: fraud, startMs: failedStart + failedAfter + minutes(20), outcome: "finished" });

  const events: Scheduled[] = [];
  for (const run of runs) {
    if (run.startMs < fromMs || run.startMs >= endMs) continue;
    for (const item of runEvents(org, run, endMs, rng)) if (item.ms < endMs) events.push(item);
  }
  return events;
}

function failureSeconds(p: TrainingPipeline): number {
  return Math.round((FAILURE_EPOCH + 0.6) * p.epochMinutes * 60);
}

function runEvents(org: SyntheticOrg, run: TrainingRun, endMs: number, rng: SeededRandom): Scheduled[] {
  const p = run.pipeline;
  const team = findTeam(org, p.team);
  const epochSeconds = p.epochMinutes * 60;
  const startIso = new Date(run.startMs).toISOString();
  const jobId = `${p.name}-${startIso.slice(0, 16).replace(/[-:]/g, "").toLowerCase()}-${rng.hex(4)}`;
  const durationSeconds =
    run.outcome === "runaway"
      ? Number.POSITIVE_INFINITY
      : run.outcome === "failed"
        ? failureSeconds(p)
        : Math.round(p.epochs * epochSeconds * (1 + 0.04 * rng.normalish()));
  const placement =
    p.placement.cloud === "gcp"
      ? { cloud: p.placement.cloud, region: p.placement.region, accelerator: p.placement.accelerator }
      : { cloud: p.placement.cloud, region: p.placement.region, instance_type: p.placement.instanceType };
  const source = `//training/${p.cluster}/${p.team}`;
  const at = (
    elapsedSeconds: number,
    phase: TrainingWireData["phase"],
    epoch: number,
    extraLabels?: Record<string, string>,
  ): Scheduled => ({
    kind: "training",
    ms: run.startMs + elapsedSeconds * 1000,
    source,
    data: {
      team: p.team,
      model: p.model,
      model_version: p.targetVersion,
      ...(team.businessUnit === undefined ? {} : { business_unit: team.businessUnit }),
      cost_center: team.costCenter,
      environment: "training",
      namespace: p.team,
      job_id: jobId,
      phase,
      ...placement,
      gpu_count: p.gpuCount,
      epoch,
      elapsed_seconds: elapsedSeconds,
      currency: "USD",
      labels: { pipeline: p.name, ...extraLabels },
    },
  });
  const epochAt = (elapsed: number): number => {
    const done = Math.floor(elapsed / epochSeconds);
    return run.outcome === "runaway" ? Math.min(RUNAWAY_STALL_EPOCH, done) : Math.min(p.epochs - 1, done);
  };

  const out: Scheduled[] = [at(0, "started", 0)];
  // Heartbeats every ~15 minutes until the job ends or the range does (a runaway never ends).
  const horizon = Math.min(durationSeconds, (endMs - run.startMs) / 1000, MAX_JOB_SECONDS);
  for (let k = 1; ; k++) {
    const elapsed = Math.round((k * HEARTBEAT_MS) / 1000 + rng.int(-20, 20));
    if (elapsed >= horizon) break;
    out.push(at(elapsed, "progress", epochAt(elapsed)));
  }
  if (run.outcome === "finished") out.push(at(durationSeconds, "finished", p.epochs));
  if (run.outcome === "failed") {
    out.push(at(durationSeconds, "failed", FAILURE_EPOCH, { failure_reason: "CUDA out of memory" }));
  }
  return out;
}

function fixedCostSchedule(org: SyntheticOrg, fromMs: number, endMs: number): Scheduled[] {
  const out: Scheduled[] = [];
  const first = new Date(fromMs);
  let monthStart = Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1);
  while (monthStart < endMs) {
    const start = new Date(monthStart);
    const monthEnd = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
    for (const item of org.fixedCosts) {
      const team = findTeam(org, item.team);
      out.push({
        kind: "fixed",
        ms: monthStart,
        source: `//finance/fixed-costs/${item.vendor}`,
        data: {
          team: item.team,
          ...(team.businessUnit === undefined ? {} : { business_unit: team.businessUnit }),
          cost_center: team.costCenter,
          description: item.description,
          period: { start: start.toISOString(), end: new Date(monthEnd).toISOString() },
          cost_nanos: (BigInt(item.monthlyUsd) * NANOS_PER_UNIT).toString(),
          currency: "USD",
          ...(item.labels === undefined ? {} : { labels: { ...item.labels } }),
        },
      });
    }
    monthStart = monthEnd;
  }
  return out;
}
