/**
 * A deterministic demo org's cost events over any range: diurnal inference traffic, training jobs as
 * lifecycle events (a weekly runaway, a retrain that fails every other day), a team repeating the
 * same prompts, a spike in one team's inference over the range's last hours, the monthly licence
 * billed by the day, and each whole hour's Kubernetes allocations of the GPU serving cluster (shared GPU, idle,
 * unallocated) as the allocation import reports them at the hour's end.
 *
 * The org is one timeline, a function of the seed and of absolute time; a range is a window onto it.
 * Every event's id and payload depend on the seed and on what the event is, never on the range it was
 * generated in: an hour's requests are the same whatever --hours or start a run used (request n of an
 * hour has the same id and payload in every run), a training job's events are its own, the licence's
 * id is its day's. So re-running the demo, or ingesting one run's events after another's, never
 * counts a cost twice (the dedupe key is (source, id)). Pure: no clock, no I/O.
 */
import { MAX_JOB_SECONDS } from "#domain/events/training.ts";
import { NANOS_PER_UNIT, splitByWeights } from "#domain/money.ts";
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
  type SpikeSource,
  type TrafficSource,
  weekdayFactor,
} from "./inference-traffic.ts";
import {
  createSeededRandom,
  hashSeed,
  type Seed,
  type SeededRandom,
  weightedPicker,
} from "./seeded-random.ts";
import {
  findTeam,
  nodePoolOf,
  type SyntheticOrg,
  syntheticOrg,
  type TrainingPipeline,
} from "./synthetic-org.ts";

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
/** The training pipeline whose Saturday run stalls every week and runs on until the next one. */
export const RUNAWAY_PIPELINE = "chat-finetune";
/** The training pipeline whose daily run fails every other day (and is retried). */
export const FAILING_PIPELINE = "fraud-retrain";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;
const HEARTBEAT_MS = 15 * 60_000;
/** The longest a job that is not the runaway runs: how far before a range its jobs may have started. */
const LONGEST_FINISHED_JOB_MS = 12 * HOUR_MS;

/** All demo events of the range, in time order. */
export function generateDemoEvents(options: DemoEventOptions): DemoCloudEvent[] {
  return Array.from(demoEventStream(options));
}

/**
 * The same events as `generateDemoEvents`, one at a time in time order (ties keep generation
 * order), so a caller can pace them in real time. Only events inside the range, except two kinds
 * stamped before it, which come first: the fixed cost of each day the range touches, stamped at
 * the day's start, and the events of a training job already running when the range starts, from
 * the job's start (a job is reported whole, so its cost lands in the hours it ran). Each whole UTC
 * hour of the range gets the serving cluster's allocation events, stamped at the hour's end (the last
 * ones at the range's end), with collectAllocations' ids (cluster, window, pod).
 */
export function* demoEventStream(options: DemoEventOptions): Generator<DemoCloudEvent, void, undefined> {
  const { fromMs, endMs, requestsPerHour } = validate(options);
  const org = syntheticOrg();
  const root = createSeededRandom(options.seed);
  const tag = demoTag(options.seed, requestsPerHour);
  const scheduled = [
    ...trainingSchedule(org, fromMs, endMs, root.fork("training"), tag),
    ...fixedCostSchedule(org, fromMs, endMs),
  ].sort((a, b) => a.ms - b.ms);
  // Forked per hour from one label: an hour's allocations depend on the seed and the hour only.
  const clusterRng = root.fork("gpu-cluster");
  const allocationHours = wholeHours(fromMs, endMs);

  const traffic: HourTraffic = {
    tag,
    requestsPerHour,
    rng: root.fork("inference"),
    sources: compileTraffic(org, root.fork("traffic")),
    ...(options.inferenceSpike === false
      ? {}
      : {
          spike: compileSpike(org, org.inferenceSpike, root.fork("spike")),
          spikeRng: root.fork("spike-traffic"),
        }),
  };
  const spikeFrom =
    traffic.spike === undefined ? Number.POSITIVE_INFINITY : endMs - traffic.spike.spike.hours * HOUR_MS;
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
        yield emit(scheduled[next++] as Scheduled);
      } else {
        const hourStart = allocationHours[nextHour++] as number;
        yield* clusterHour(org.gpuCluster, hourStart, clusterRng.fork(hourStart)).events;
      }
      due = Math.min(scheduledAt(), allocationsAt());
    }
  }

  // Whole UTC hours, each generated in full from its own generator, then cut to the range.
  for (let hour = Math.floor(fromMs / HOUR_MS) * HOUR_MS; hour < endMs; hour += HOUR_MS) {
    for (const request of hourRequests(traffic, hour, hour + HOUR_MS / 2 >= spikeFrom)) {
      if (request.ms < fromMs || request.ms >= endMs) continue;
      if (due <= request.ms) yield* dueBy(request.ms);
      yield request.event;
    }
  }
  yield* dueBy(Infinity);
}

/**
 * What every id of a seed's events starts with: the same org (seed and traffic volume) gives the same
 * ids, whatever range or moment a run covers.
 */
function demoTag(seed: Seed, requestsPerHour: number): string {
  // As the generator reads it: the seed 42 and the seed "42" are two orgs.
  const org = `${typeof seed === "number" ? "n" : "s"}:${seed}`;
  const key = requestsPerHour === DEFAULT_REQUESTS_PER_HOUR ? org : `${org}|${requestsPerHour}`;
  return `demo-${hashSeed(key).toString(16).padStart(8, "0")}`;
}

/** "20261102t15": an hour in an id. */
function hourKey(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}t${iso.slice(11, 13)}`;
}

interface HourTraffic {
  tag: string;
  requestsPerHour: number;
  /** Forked per hour: an hour's requests depend on the seed and the hour only. */
  rng: SeededRandom;
  sources: readonly TrafficSource[];
  spike?: SpikeSource;
  spikeRng?: SeededRandom;
}

interface TimedEvent {
  ms: number;
  event: DemoCloudEvent;
}

/**
 * One whole UTC hour's inference requests, in time order: the org's traffic (request n of the hour
 * is `<tag>-<hour>-<n>`), and in a spike hour the spike's loop on top, drawn from its own generator
 * (`<tag>-<hour>-loop-<n>`), so an hour's ordinary requests are the same whether or not a run puts
 * the spike in it.
 */
function hourRequests(t: HourTraffic, hourMs: number, spiking: boolean): TimedEvent[] {
  const mid = hourMs + HOUR_MS / 2;
  const hourOfDay = (mid % DAY_MS) / HOUR_MS;
  const scale = t.requestsPerHour * weekdayFactor(mid);
  const key = `${t.tag}-${hourKey(hourMs)}`;
  const expected = t.sources.map((s) => scale * s.trafficWeight * diurnalFactor(hourOfDay, s.troughRatio));
  const total = expected.reduce((a, b) => a + b, 0);
  const pick = total > 0 ? weightedPicker(t.sources, expected) : undefined;
  const ordinary =
    pick === undefined ? [] : spread(t.rng.fork(hourMs), total, (r) => pick(r.next()).request(r));
  const events = ordinary.map(({ ms, request }, n) => ({
    ms: hourMs + ms,
    event: inferenceEvent(eventId(key, n), request.source, hourMs + ms, request.data),
  }));
  if (!spiking || t.spike === undefined || t.spikeRng === undefined) return events;
  // The spike's loop runs at its own rate (scaled with the org's traffic), whatever the hour or day.
  const spike = t.spike;
  const loopRate = (spike.spike.requestsPerHour * t.requestsPerHour) / DEFAULT_REQUESTS_PER_HOUR;
  const loops = spread(t.spikeRng.fork(hourMs), loopRate, (r) => spike.request(r)).map(
    ({ ms, request }, n) => ({
      ms: hourMs + ms,
      event: inferenceEvent(eventId(`${key}-loop`, n), request.source, hourMs + ms, request.data),
    }),
  );
  return mergeByTime(events, loops);
}

/**
 * About `expected` requests (±5%) over one hour, evenly spread with a random offset in each slot, so
 * times (milliseconds into the hour) ascend without a sort.
 */
function spread<T>(
  rng: SeededRandom,
  expected: number,
  make: (rng: SeededRandom) => T,
): { ms: number; request: T }[] {
  const count = expected > 0 ? Math.max(0, Math.round(expected * (1 + 0.05 * rng.normalish()))) : 0;
  const slot = HOUR_MS / Math.max(count, 1);
  const out: { ms: number; request: T }[] = [];
  for (let i = 0; i < count; i++) {
    const ms = Math.floor((i + rng.next()) * slot);
    out.push({ ms, request: make(rng) });
  }
  return out;
}

/** Two time-ordered lists as one (the first's on a tie). */
function mergeByTime(a: readonly TimedEvent[], b: readonly TimedEvent[]): TimedEvent[] {
  const out: TimedEvent[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x.ms <= y.ms)) {
      out.push(x as TimedEvent);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  return out;
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
  | { kind: "training"; id: string; ms: number; source: string; data: TrainingWireData }
  | { kind: "fixed"; id: string; ms: number; source: string; data: FixedWireData };

function emit(item: Scheduled): DemoCloudEvent {
  return item.kind === "training"
    ? trainingEvent(item.id, item.source, item.ms, item.data)
    : fixedEvent(item.id, item.source, item.ms, item.data);
}

type Outcome = "finished" | "failed" | "runaway";

/**
 * A training run of the org's timeline. `slotMs` is when its schedule starts it (its identity: the
 * run's own generator is forked from the pipeline and the slot); it starts a few minutes later.
 */
interface TrainingRun {
  pipeline: TrainingPipeline;
  slotMs: number;
  /** Minutes after the slot it starts: at most this many (drawn from the run's own generator). */
  jitterMinutes: number;
  outcome: Outcome;
  /** A runaway runs until this moment (the week's end), then goes silent. */
  stopMs?: number;
}

const RUNAWAY_STALL_EPOCH = 2;
const FAILURE_EPOCH = 2;
/** Minutes between a failed run and its retry. */
const RETRY_AFTER_MINUTES = 20;
/** 1970-01-03, the first Saturday of the epoch: the runaway's weeks start on Saturdays at 00:00 UTC. */
const FIRST_SATURDAY_MS = 2 * DAY_MS;

const floorTo = (ms: number, unit: number, offset = 0) => Math.floor((ms - offset) / unit) * unit + offset;

/**
 * The org's training runs on fixed UTC schedules (never relative to the range), whole: every run that
 * has events in [fromMs, endMs), with all its events from its start up to the range's end.
 * - chat-finetune every ten hours (hours 4, 14, 24... since the epoch), ~4.7 h each; and every
 *   Saturday at 01:00 its run stalls at epoch 2 and runs on, heartbeats and all, until the next
 *   Saturday (past 10× its peers' cost from Monday on, through the working week):
 *   the runaway;
 * - ranker-nightly at 02:00 and vision-tagger-train at 13:00 every day;
 * - fraud-retrain at 06:00 every day: every other day (even days since the epoch) it runs out of GPU
 *   memory at epoch 2, and its retry with a smaller batch starts 20 minutes later and finishes.
 */
function trainingSchedule(
  org: SyntheticOrg,
  fromMs: number,
  endMs: number,
  rng: SeededRandom,
  tag: string,
): Scheduled[] {
  const pipeline = (name: string): TrainingPipeline => {
    const found = org.trainingPipelines.find((p) => p.name === name);
    if (!found) throw new RangeError(`synthetic org has no training pipeline ${name}`);
    return found;
  };
  const runs: TrainingRun[] = [];
  const earliest = fromMs - LONGEST_FINISHED_JOB_MS;

  const finetune = pipeline(RUNAWAY_PIPELINE);
  for (let week = floorTo(fromMs - WEEK_MS, WEEK_MS, FIRST_SATURDAY_MS); week < endMs; week += WEEK_MS) {
    runs.push({
      pipeline: finetune,
      slotMs: week + HOUR_MS,
      jitterMinutes: 10,
      outcome: "runaway",
      stopMs: week + WEEK_MS - HEARTBEAT_MS,
    });
  }
  for (let slot = floorTo(earliest, 10 * HOUR_MS, 4 * HOUR_MS); slot < endMs; slot += 10 * HOUR_MS) {
    runs.push({ pipeline: finetune, slotMs: slot, jitterMinutes: 20, outcome: "finished" });
  }
  for (const [name, hourUtc] of [
    ["ranker-nightly", 2],
    ["vision-tagger-train", 13],
  ] as const) {
    for (let day = floorTo(earliest, DAY_MS); day < endMs; day += DAY_MS) {
      runs.push({
        pipeline: pipeline(name),
        slotMs: day + hourUtc * HOUR_MS,
        jitterMinutes: 9,
        outcome: "finished",
      });
    }
  }
  const fraud = pipeline(FAILING_PIPELINE);
  for (let day = floorTo(earliest, DAY_MS); day < endMs; day += DAY_MS) {
    const failing = Math.round(day / DAY_MS) % 2 === 0;
    runs.push({
      pipeline: fraud,
      slotMs: day + 6 * HOUR_MS,
      jitterMinutes: 10,
      outcome: failing ? "failed" : "finished",
    });
  }

  const events: Scheduled[] = [];
  for (const run of runs) {
    const jobRng = rng.fork(`${run.pipeline.name}@${run.slotMs}`);
    const startMs = run.slotMs + jobRng.int(0, run.jitterMinutes) * 60_000;
    const jobs = [runEvents(org, run, startMs, jobRng, tag)];
    if (run.outcome === "failed") {
      // The retry is a run of its own, scheduled by the failure.
      const retrySlot = startMs + failureSeconds(run.pipeline) * 1000 + RETRY_AFTER_MINUTES * 60_000;
      const retry = { ...run, slotMs: retrySlot, outcome: "finished" as const };
      jobs.push(runEvents(org, retry, retrySlot, rng.fork(`${run.pipeline.name}@${retrySlot}`), tag));
    }
    // A job that ended before the range is left out; one still running at its start is kept whole.
    for (const job of jobs) {
      if ((job.at(-1)?.ms ?? Number.NEGATIVE_INFINITY) < fromMs) continue;
      for (const item of job) if (item.ms < endMs) events.push(item);
    }
  }
  return events;
}

function failureSeconds(p: TrainingPipeline): number {
  return Math.round((FAILURE_EPOCH + 0.6) * p.epochMinutes * 60);
}

/** The "20261102t0115" of a job id. */
function minuteKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace(/[-:]/g, "").toLowerCase();
}

/**
 * A run's lifecycle events, all of them (the caller cuts them to the range): the same run gives the
 * same events whatever range asks. Ids are `<tag>-<job id>-<n>`, n counting the job's events.
 */
function runEvents(
  org: SyntheticOrg,
  run: TrainingRun,
  startMs: number,
  rng: SeededRandom,
  tag: string,
): Scheduled[] {
  const p = run.pipeline;
  const team = findTeam(org, p.team);
  const epochSeconds = p.epochMinutes * 60;
  const jobId = `${p.name}-${minuteKey(startMs)}-${rng.hex(4)}`;
  const durationSeconds =
    run.outcome === "runaway"
      ? Math.floor(((run.stopMs ?? startMs) - startMs) / 1000)
      : run.outcome === "failed"
        ? failureSeconds(p)
        : Math.round(p.epochs * epochSeconds * (1 + 0.04 * rng.normalish()));
  const placement =
    p.placement.cloud === "gcp"
      ? { cloud: p.placement.cloud, region: p.placement.region, accelerator: p.placement.accelerator }
      : { cloud: p.placement.cloud, region: p.placement.region, instance_type: p.placement.instanceType };
  const source = `//training/${p.cluster}/${p.team}`;
  const out: Scheduled[] = [];
  const at = (
    elapsedSeconds: number,
    phase: TrainingWireData["phase"],
    epoch: number,
    extraLabels?: Record<string, string>,
  ): Scheduled => ({
    kind: "training",
    id: eventId(`${tag}-${jobId}`, out.length),
    ms: startMs + elapsedSeconds * 1000,
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
      labels: { pipeline: p.name, cluster: p.cluster, node_pool: nodePoolOf(p.placement), ...extraLabels },
    },
  });
  const epochAt = (elapsed: number): number => {
    const done = Math.floor(elapsed / epochSeconds);
    return run.outcome === "runaway" ? Math.min(RUNAWAY_STALL_EPOCH, done) : Math.min(p.epochs - 1, done);
  };

  out.push(at(0, "started", 0));
  // Heartbeats every ~15 minutes until the job ends (a runaway never finishes: it goes silent).
  const horizon = Math.min(durationSeconds, MAX_JOB_SECONDS);
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

/**
 * The fixed costs of each day the range touches, stamped at the day's start, with an id of the day
 * alone: a month's amount split over its days, every nano handed out (largest remainder), so the
 * days of a month add up to it exactly. Billed by the day, a licence lands on the days the demo has
 * workloads to share it, not on a month of hours nobody used.
 */
function fixedCostSchedule(org: SyntheticOrg, fromMs: number, endMs: number): Scheduled[] {
  const out: Scheduled[] = [];
  const DAY_MS = 24 * 3_600_000;
  for (let dayStart = Math.floor(fromMs / DAY_MS) * DAY_MS; dayStart < endMs; dayStart += DAY_MS) {
    const day = new Date(dayStart);
    const monthStart = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), 1);
    const daysInMonth = (Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + 1, 1) - monthStart) / DAY_MS;
    const dayOfMonth = (dayStart - monthStart) / DAY_MS;
    for (const item of org.fixedCosts) {
      const team = findTeam(org, item.team);
      const monthly = BigInt(item.monthlyUsd) * NANOS_PER_UNIT;
      const cost = splitByWeights(monthly, new Array(daysInMonth).fill(1n))[dayOfMonth] as bigint;
      out.push({
        kind: "fixed",
        // The day's bill: the same id and amount whatever run, seed or range sends it.
        id: `demo-fixed-${day.toISOString().slice(0, 10)}`,
        ms: dayStart,
        source: `//finance/fixed-costs/${item.vendor}`,
        data: {
          team: item.team,
          ...(team.businessUnit === undefined ? {} : { business_unit: team.businessUnit }),
          cost_center: team.costCenter,
          description: item.description,
          period: { start: day.toISOString(), end: new Date(dayStart + DAY_MS).toISOString() },
          cost_nanos: cost.toString(),
          currency: "USD",
          ...(item.labels === undefined ? {} : { labels: { ...item.labels } }),
          ...(item.allocate === undefined ? {} : { allocate: item.allocate }),
        },
      });
    }
  }
  return out;
}
