import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { TRAINING_V1, trainingDataSchema } from "#domain/events/training.ts";
import type { EventPublisher } from "#sdk/batching-publisher.ts";
import { type SdkClock, type SdkTimer, systemSdkClock } from "#sdk/sdk-clock.ts";
import { PublisherError, SdkConfigError } from "#sdk/sdk-errors.ts";
import { optionalEventFields } from "./event-fields.ts";

/** The `data` of an ai.cost.training.v1 event as it goes on the wire. */
export type TrainingEventData = z.input<typeof trainingDataSchema>;

export type TrainingPhase = "started" | "progress" | "finished" | "failed";

export interface TrainingPlacement {
  cloud: "gcp" | "aws" | "azure" | "other";
  region: string;
  instance_type?: string;
  accelerator?: string;
  pricing_model?: "on_demand" | "spot";
}

export interface TrainingTrackerOptions {
  publisher: EventPublisher;
  /** CloudEvents `source` of the launcher, e.g. "//training/launcher". */
  source: string;
  job_id: string;
  model: string;
  model_version?: string;
  team: string;
  business_unit?: string;
  cost_center?: string;
  environment?: string;
  namespace?: string;
  labels?: Record<string, string>;
  placement: TrainingPlacement;
  /** GPUs the job holds (all its workers). */
  gpu_count: number;
  /** At most this long without an event while the job runs: a `progress` heartbeat. Default 60,000 ms. */
  heartbeatMs?: number;
  clock?: SdkClock;
  /** Event ids, unique per source. Default crypto.randomUUID. */
  idFactory?: () => string;
  /** Told when an event could not be built (a bug); the job is never interrupted. */
  onError?: (error: PublisherError) => void;
}

export type TrainingState = "idle" | "running" | "finished" | "failed";

export interface TrainingTracker {
  /** Emits `started` and starts the heartbeat. Later calls do nothing. */
  start(): void;
  /** Emits `progress` with the epoch reached (starting the job first if needed); the heartbeat repeats it. */
  progress(epoch: number): void;
  /** Emits `finished` with the elapsed time and stops the heartbeat. Only the first finish or fail counts. */
  finish(): void;
  /** Emits `failed` (the reason in `labels.failure_reason`) and stops the heartbeat. Only the first finish or fail counts. */
  fail(reason: string): void;
  state(): TrainingState;
}

const MAX_LABEL_VALUE = 256;

function placementField(key: string): string {
  const placementKeys = new Set(["cloud", "region", "instance_type", "accelerator", "pricing_model"]);
  return placementKeys.has(key) ? `placement.${key}` : key;
}

/**
 * Tracks one training job's lifecycle as ai.cost.training.v1 events: `started`, `progress` on each
 * epoch and as a heartbeat (so a job that dies without a word still shows its cost up to the last
 * heartbeat), then `finished` or `failed`. `elapsed_seconds` is cumulative since `start()`, so the
 * job's cost up to any event is a function of that event alone and events may arrive in any order.
 * The heartbeat timer is unref'd: it never keeps the launcher's process alive.
 */
export function createTrainingTracker(options: TrainingTrackerOptions): TrainingTracker {
  if (!options.publisher || typeof options.publisher.publish !== "function") {
    throw new SdkConfigError("publisher", "must have a publish(event) method");
  }
  if (typeof options.source !== "string" || options.source.trim() === "" || options.source.length > 512) {
    throw new SdkConfigError("source", "must be a non-empty string of at most 512 characters");
  }
  if (!options.placement || typeof options.placement !== "object") {
    throw new SdkConfigError("placement", "is required: cloud, region, instance_type or accelerator");
  }
  const heartbeatMs = options.heartbeatMs ?? 60_000;
  if (!Number.isFinite(heartbeatMs) || heartbeatMs <= 0) {
    throw new SdkConfigError("heartbeatMs", `must be a positive number, got ${heartbeatMs}`);
  }
  const { placement } = options;
  const template: Omit<TrainingEventData, "phase" | "elapsed_seconds"> = {
    team: options.team,
    model: options.model,
    job_id: options.job_id,
    cloud: placement.cloud,
    region: placement.region,
    gpu_count: options.gpu_count,
    ...optionalEventFields(options, placement),
  };
  if (options.model_version !== undefined) template.model_version = options.model_version;
  if (options.business_unit !== undefined) template.business_unit = options.business_unit;
  const check = trainingDataSchema.safeParse({ ...template, phase: "started", elapsed_seconds: 0 });
  if (!check.success) {
    const issue = check.error.issues[0];
    const field = placementField(issue?.path.map(String).join(".") ?? "");
    throw new SdkConfigError(field || "options", issue?.message ?? "invalid");
  }

  const clock = options.clock ?? systemSdkClock;
  const idFactory = options.idFactory ?? randomUUID;
  const { publisher, source } = options;
  let state: TrainingState = "idle";
  let startedNs = 0n;
  let lastEpoch: number | undefined;
  let heartbeat: SdkTimer | undefined;

  const report = (message: string, cause: unknown) => {
    try {
      options.onError?.(new PublisherError("internal", message, { cause }));
    } catch {
      // The job goes on whatever the error callback does.
    }
  };

  function emit(phase: TrainingPhase, failureReason?: string): void {
    const elapsedNs = phase === "started" ? 0n : clock.monotonicNs() - startedNs;
    const data: TrainingEventData = {
      ...template,
      phase,
      // Milliseconds are finer than any price; cumulative, so a late event can never lower it.
      elapsed_seconds: Math.round(Number(elapsedNs) / 1e6) / 1e3,
    };
    if (lastEpoch !== undefined) data.epoch = lastEpoch;
    if (failureReason !== undefined) {
      data.labels = { ...template.labels, failure_reason: failureReason.slice(0, MAX_LABEL_VALUE) };
    }
    publisher.publish({
      specversion: "1.0",
      id: idFactory(),
      source,
      type: TRAINING_V1,
      time: new Date(clock.now()).toISOString(),
      datacontenttype: "application/json",
      data,
    });
  }

  function armHeartbeat(): void {
    heartbeat?.cancel();
    heartbeat = clock.setTimer(() => {
      heartbeat = undefined;
      if (state !== "running") return;
      guarded("a heartbeat could not be sent", () => emit("progress"));
      armHeartbeat();
    }, heartbeatMs);
  }

  function guarded(message: string, action: () => void): void {
    try {
      action();
    } catch (error) {
      report(message, error);
    }
  }

  function start(): void {
    if (state !== "idle") return;
    state = "running";
    startedNs = clock.monotonicNs();
    guarded("the started event could not be sent", () => emit("started"));
    armHeartbeat();
  }

  function end(phase: "finished" | "failed", reason?: string): void {
    if (state === "finished" || state === "failed") return;
    start();
    state = phase;
    heartbeat?.cancel();
    heartbeat = undefined;
    guarded(`the ${phase} event could not be sent`, () => emit(phase, reason));
  }

  return {
    start,
    progress(epoch) {
      if (state === "finished" || state === "failed") return;
      start();
      if (Number.isInteger(epoch) && epoch >= 0) lastEpoch = epoch;
      guarded("a progress event could not be sent", () => emit("progress"));
      armHeartbeat();
    },
    finish() {
      end("finished");
    },
    fail(reason) {
      end("failed", typeof reason === "string" && reason.trim() !== "" ? reason : "unknown");
    },
    state: () => state,
  };
}
