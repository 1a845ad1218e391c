import type { z } from "zod";
import { TRAINING_V1, trainingDataSchema } from "#domain/events/training.ts";
import {
  RUN_FIELDS,
  type RunField,
  type RunFieldDefaults,
  type RunKey,
} from "#domain/training/mlflow-import-settings.ts";

/**
 * A training run as an experiment tracker (MLflow) records it, and the training job events it
 * stands for. Pure: the adapter reads the runs, the use case sends the events.
 *
 * Each event's id is derived from the run id and what the event says (`<run>/started`,
 * `<run>/progress/<elapsed seconds>`, `<run>/finished`, `<run>/failed`), and its content from the
 * run alone, so reading the same run again yields the same events (duplicates, counted once) and a
 * running run that went on yields one new progress event.
 */

export const RUN_STATUSES = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"] as const;

export interface TrackedRun {
  run_id: string;
  experiment_id: string;
  /** As the tracker says: RUNNING, SCHEDULED, FINISHED, FAILED or KILLED. */
  status: string;
  start_time: Date | null;
  end_time: Date | null;
  tags: Readonly<Record<string, string>>;
  params: Readonly<Record<string, string>>;
  /** The latest value of each metric and when it was logged. */
  metrics: Readonly<Record<string, { value: number; timestamp: Date }>>;
}

/** A structured-mode ai.cost.training.v1 CloudEvent as it goes to ingest. */
export interface TrainingCloudEvent {
  specversion: "1.0";
  id: string;
  source: string;
  type: typeof TRAINING_V1;
  time: string;
  datacontenttype: "application/json";
  data: z.input<typeof trainingDataSchema>;
}

/** A field no key of the run gave and no default covers; `keys` are where it was looked for. */
export interface MissingField {
  field: string;
  keys: readonly string[];
}

export type RunEvents =
  /** The run's events (none when a running run has nothing new to say). */
  | { kind: "events"; events: TrainingCloudEvent[] }
  /** SCHEDULED, or not started yet: no cost so far. */
  | { kind: "not_started" }
  /** The owner, the placement or the GPU count is missing: nothing is sent for the run. */
  | { kind: "incomplete"; missing: MissingField[] }
  /** A value the event schema would refuse; `field` names where it came from. */
  | { kind: "invalid"; field: string; reason: string };

export interface RunEventsOptions {
  /** The events' CloudEvents source. */
  source: string;
  /** Where each field is looked for, first found wins. */
  keys: Readonly<Record<RunField, readonly RunKey[]>>;
  /** Values for fields the run does not name. */
  defaults: RunFieldDefaults;
  /** The instant of the import: a running run's progress is measured to it. */
  now: Date;
  /**
   * The start of the import's window: a run that started before it gets no `started` event, which
   * an earlier import sent (it carries no cost: the first event of a job counts from elapsed 0).
   */
  since: Date;
  /**
   * A running run with no metric logged for this long is charged no further than its last metric.
   * Earlier imports charged it up to their own time, and that stands (the rollup charges a job its
   * highest elapsed time), so a dead run costs at most this long past its last metric.
   */
  staleAfterMs: number;
}

/** The owner fields a job must have, and the placement it is priced by. */
const REQUIRED_OWNER: readonly RunField[] = ["team", "model"];

function valueAt(run: TrackedRun, key: RunKey): string | undefined {
  const dot = key.indexOf(".");
  const kind = key.slice(0, dot);
  const name = key.slice(dot + 1);
  let value: string | undefined;
  if (kind === "tags") value = run.tags[name];
  else if (kind === "params") value = run.params[name];
  else {
    const metric = run.metrics[name];
    value = metric === undefined ? undefined : String(metric.value);
  }
  const trimmed = value?.trim();
  return trimmed === "" ? undefined : trimmed;
}

interface Found {
  value: string | number;
  /** The key it came from, or "defaults". */
  from: string;
}

function lookup(
  run: TrackedRun,
  field: RunField,
  options: Pick<RunEventsOptions, "keys" | "defaults">,
): Found | undefined {
  for (const key of options.keys[field]) {
    const value = valueAt(run, key);
    if (value !== undefined) return { value, from: key };
  }
  const fallback = (options.defaults as Partial<Record<RunField, string | number>>)[field];
  return fallback === undefined ? undefined : { value: fallback, from: "defaults" };
}

const invalid = (field: string, reason: string): RunEvents => ({ kind: "invalid", field, reason });

/** The run's fields as event data (without phase and elapsed), or why it cannot be one. */
function baseData(
  run: TrackedRun,
  options: RunEventsOptions,
): { data: Record<string, unknown>; from: Map<string, string> } | RunEvents {
  const found = new Map<RunField, Found>();
  for (const field of RUN_FIELDS) {
    const value = lookup(run, field, options);
    if (value !== undefined) found.set(field, value);
  }
  const missing: MissingField[] = [];
  for (const field of REQUIRED_OWNER) {
    if (!found.has(field)) missing.push({ field, keys: options.keys[field] });
  }
  if (!found.has("instance_type") && !found.has("accelerator")) {
    missing.push({
      field: "instance_type or accelerator",
      keys: [...options.keys.instance_type, ...options.keys.accelerator],
    });
  }
  if (!found.has("gpu_count")) missing.push({ field: "gpu_count", keys: options.keys.gpu_count });
  if (run.start_time === null) missing.push({ field: "start_time", keys: ["attributes.start_time"] });
  if (missing.length > 0) return { kind: "incomplete", missing };

  const data: Record<string, unknown> = { job_id: run.run_id };
  const from = new Map<string, string>();
  for (const [field, { value, from: key }] of found) {
    from.set(field, key);
    if (field === "gpu_count") {
      const count = Number(value);
      if (!Number.isFinite(count) || count <= 0) {
        return invalid(field, `gpu_count: ${key} is ${JSON.stringify(String(value))}, not a number of GPUs`);
      }
      data.gpu_count = count;
    } else if (field === "epoch") {
      // Optional: an epoch that is no count is left out, never a reason to drop the cost.
      const epoch = Number(value);
      if (Number.isFinite(epoch) && epoch >= 0) data.epoch = Math.floor(epoch);
    } else if (field === "cloud" || field === "pricing_model") {
      data[field] = String(value).toLowerCase().replace(/-/g, "_");
    } else {
      data[field] = String(value);
    }
  }
  data.labels = { mlflow_experiment_id: run.experiment_id.slice(0, 256) };
  return { data, from };
}

function checked(
  event: TrainingCloudEvent,
  from: ReadonlyMap<string, string>,
): { ok: true } | { ok: false; result: RunEvents } {
  const result = trainingDataSchema.safeParse(event.data);
  if (result.success) return { ok: true };
  const issue = result.error.issues[0];
  const field = issue?.path.map(String).join(".") || "data";
  const key = from.get(field.split(".")[0] ?? "");
  const where = key === undefined ? field : `${field} (from ${key})`;
  return { ok: false, result: invalid(field, `${where}: ${issue?.message ?? "invalid"}`) };
}

function event(
  run: TrackedRun,
  source: string,
  suffix: string,
  at: Date,
  data: TrainingCloudEvent["data"],
): TrainingCloudEvent {
  return {
    specversion: "1.0",
    id: `${run.run_id}/${suffix}`,
    source,
    type: TRAINING_V1,
    time: at.toISOString(),
    datacontenttype: "application/json",
    data,
  };
}

/** The latest sign of life of a run: its start, or the latest time a metric was logged. */
function lastSignOfLife(run: TrackedRun, start: Date): number {
  let latest = start.getTime();
  for (const { timestamp } of Object.values(run.metrics)) {
    const t = timestamp.getTime();
    if (Number.isFinite(t) && t > latest) latest = t;
  }
  return latest;
}

/**
 * The training job events a run stands for, as of `options.now`:
 * - `started` at the run's start (only when it started inside the import's window);
 * - RUNNING: `progress` at the last whole second before now, elapsed counted from the start (a run
 *   silent for staleAfterMs: at its last metric instead, so a run whose process died is not charged
 *   on forever);
 * - FINISHED: `finished`, FAILED or KILLED: `failed` (the status in labels.failure_reason), at the
 *   run's end, elapsed = end - start.
 * The job id is the run id, so the cost logger writes the cost back to this very run.
 */
export function runToTrainingEvents(run: TrackedRun, options: RunEventsOptions): RunEvents {
  if (!(RUN_STATUSES as readonly string[]).includes(run.status)) {
    return invalid("status", `status: ${JSON.stringify(run.status)} is not an MLflow run status`);
  }
  if (run.status === "SCHEDULED") return { kind: "not_started" };
  const base = baseData(run, options);
  if ("kind" in base) return base;
  const { data, from } = base;
  const start = run.start_time as Date;
  const { source } = options;
  const events: TrainingCloudEvent[] = [];

  const started = event(run, source, "started", start, {
    ...data,
    phase: "started",
    elapsed_seconds: 0,
  } as TrainingCloudEvent["data"]);
  delete started.data.epoch;
  const check = checked(started, from);
  if (!check.ok) return check.result;
  if (start.getTime() >= options.since.getTime()) events.push(started);

  if (run.status === "RUNNING") {
    const now = options.now.getTime();
    const alive = lastSignOfLife(run, start);
    const until = now - alive > options.staleAfterMs ? alive : now;
    const elapsed = Math.floor((until - start.getTime()) / 1000);
    if (elapsed > 0) {
      const progress = event(run, source, `progress/${elapsed}`, new Date(start.getTime() + elapsed * 1000), {
        ...data,
        phase: "progress",
        elapsed_seconds: elapsed,
      } as TrainingCloudEvent["data"]);
      const ok = checked(progress, from);
      if (!ok.ok) return ok.result;
      events.push(progress);
    }
    return { kind: "events", events };
  }

  if (run.end_time === null) {
    return { kind: "incomplete", missing: [{ field: "end_time", keys: ["attributes.end_time"] }] };
  }
  const elapsedMs = run.end_time.getTime() - start.getTime();
  if (elapsedMs < 0) {
    return invalid("end_time", `end_time: ${run.end_time.toISOString()} is before the run's start`);
  }
  const phase = run.status === "FINISHED" ? "finished" : "failed";
  const endData = { ...data, phase, elapsed_seconds: elapsedMs / 1000 } as TrainingCloudEvent["data"];
  if (phase === "failed") endData.labels = { ...endData.labels, failure_reason: run.status };
  const end = event(run, source, phase, run.end_time, endData);
  const ok = checked(end, from);
  if (!ok.ok) return ok.result;
  events.push(end);
  return { kind: "events", events };
}
