import { describe, expect, it } from "vitest";
import { parseCostEvent } from "#domain/events/parse.ts";
import { DEFAULT_RUN_KEYS, runKeysOf } from "#domain/training/mlflow-import-settings.ts";
import { type RunEventsOptions, runToTrainingEvents, type TrackedRun } from "#domain/training/tracked-run.ts";

const NOW = new Date("2026-11-20T12:00:00Z");
const HOUR = 3_600_000;

function trackedRun(overrides: Partial<TrackedRun> = {}): TrackedRun {
  return {
    run_id: "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6",
    experiment_id: "4",
    status: "FINISHED",
    start_time: new Date("2026-11-20T08:00:00Z"),
    end_time: new Date("2026-11-20T11:00:00Z"),
    tags: { team: "nlp", model: "llama-ft", cloud: "gcp", region: "us-central1", "mlflow.user": "ci-bot" },
    params: { accelerator: "nvidia-a100-80gb", num_gpus: "4" },
    metrics: { epoch: { value: 3, timestamp: new Date("2026-11-20T10:59:00Z") } },
    ...overrides,
  };
}

function options(overrides: Partial<RunEventsOptions> = {}): RunEventsOptions {
  return {
    source: "//mlflow",
    keys: DEFAULT_RUN_KEYS,
    defaults: {},
    now: NOW,
    since: new Date(NOW.getTime() - 72 * HOUR),
    staleAfterMs: 24 * HOUR,
    ...overrides,
  };
}

function eventsOf(run: TrackedRun, opts: RunEventsOptions = options()) {
  const result = runToTrainingEvents(run, opts);
  if (result.kind !== "events") throw new Error(`expected events, got ${JSON.stringify(result)}`);
  return result.events;
}

describe("runToTrainingEvents: an MLflow run as training job events", () => {
  it("a FINISHED run: started at its start, finished at its end, the run id as job id", () => {
    const events = eventsOf(trackedRun());

    expect(events).toEqual([
      {
        specversion: "1.0",
        id: "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6/started",
        source: "//mlflow",
        type: "ai.cost.training.v1",
        time: "2026-11-20T08:00:00.000Z",
        datacontenttype: "application/json",
        data: {
          job_id: "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6",
          team: "nlp",
          model: "llama-ft",
          cloud: "gcp",
          region: "us-central1",
          accelerator: "nvidia-a100-80gb",
          gpu_count: 4,
          labels: { mlflow_experiment_id: "4" },
          phase: "started",
          elapsed_seconds: 0,
        },
      },
      expect.objectContaining({
        id: "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6/finished",
        time: "2026-11-20T11:00:00.000Z",
        data: expect.objectContaining({ phase: "finished", elapsed_seconds: 10_800, epoch: 3, gpu_count: 4 }),
      }),
    ]);
    // Each is a valid event for ingest.
    for (const event of events) expect(parseCostEvent(event, NOW).ok).toBe(true);
  });

  it("FAILED and KILLED end as failed, the status kept as the failure reason", () => {
    for (const status of ["FAILED", "KILLED"]) {
      const end = eventsOf(trackedRun({ status }))[1];
      expect(end?.id).toBe("1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6/failed");
      expect(end?.data).toMatchObject({
        phase: "failed",
        labels: { mlflow_experiment_id: "4", failure_reason: status },
      });
    }
  });

  it("a RUNNING run: progress to the last whole second, its id naming the elapsed seconds", () => {
    const run = trackedRun({ status: "RUNNING", end_time: null });
    const at = new Date("2026-11-20T12:00:00.900Z");

    const events = eventsOf(run, options({ now: at }));

    expect(events.map((e) => e.id)).toEqual([
      "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6/started",
      "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6/progress/14400",
    ]);
    expect(events[1]).toMatchObject({
      time: "2026-11-20T12:00:00.000Z",
      data: { phase: "progress", elapsed_seconds: 14_400, epoch: 3 },
    });
    // The same instant again gives the same events: the import is idempotent by run id.
    expect(eventsOf(run, options({ now: at }))).toEqual(events);
  });

  it("a RUNNING run silent for staleAfterMs is charged up to its last metric, and no further", () => {
    const run = trackedRun({ status: "RUNNING", end_time: null });
    const later = new Date(NOW.getTime() + 30 * HOUR);

    const events = eventsOf(run, options({ now: later }));

    // The last metric was logged at 10:59, 2 h 59 min after the start.
    expect(events.map((e) => e.id)).toEqual([
      "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6/started",
      "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6/progress/10740",
    ]);
    expect(eventsOf(run, options({ now: new Date(later.getTime() + HOUR) }))).toEqual(events);
  });

  it("sends no started event for a run that began before the window (an earlier import sent it)", () => {
    const events = eventsOf(trackedRun(), options({ since: new Date("2026-11-20T09:00:00Z") }));
    expect(events.map((e) => e.data.phase)).toEqual(["finished"]);
  });

  it("a SCHEDULED run has nothing to charge yet", () => {
    expect(runToTrainingEvents(trackedRun({ status: "SCHEDULED", start_time: null }), options())).toEqual({
      kind: "not_started",
    });
  });

  it("names every missing field and where it was looked for", () => {
    const run = trackedRun({ tags: { model: "llama-ft" }, params: {} });

    expect(runToTrainingEvents(run, options())).toEqual({
      kind: "incomplete",
      missing: [
        { field: "team", keys: ["tags.team"] },
        {
          field: "instance_type or accelerator",
          keys: ["params.instance_type", "tags.instance_type", "params.accelerator", "tags.accelerator"],
        },
        { field: "gpu_count", keys: ["params.num_gpus", "params.gpu_count", "tags.gpu_count"] },
      ],
    });
  });

  it("takes configured keys first, then defaults for what the run does not name", () => {
    const run = trackedRun({
      tags: { owner_team: "search", "mlflow.runName": "x" },
      params: { model_name: "ranker", gpus: "2" },
    });
    const keys = runKeysOf({ fields: { team: ["tags.owner_team"], gpu_count: ["params.gpus"] } });

    const [started] = eventsOf(
      run,
      options({
        keys,
        defaults: { cloud: "gcp", region: "us-central1", accelerator: "nvidia-l4", team: "x" },
      }),
    );

    expect(started?.data).toMatchObject({
      team: "search",
      model: "ranker",
      gpu_count: 2,
      cloud: "gcp",
      region: "us-central1",
      accelerator: "nvidia-l4",
    });
  });

  it("reports a value the event schema refuses, naming the key it came from", () => {
    expect(
      runToTrainingEvents(trackedRun({ params: { accelerator: "a", num_gpus: "many" } }), options()),
    ).toEqual({
      kind: "invalid",
      field: "gpu_count",
      reason: 'gpu_count: params.num_gpus is "many", not a number of GPUs',
    });
    const result = runToTrainingEvents(
      trackedRun({ tags: { ...trackedRun().tags, cloud: "ibm" } }),
      options(),
    );
    expect(result).toMatchObject({ kind: "invalid", field: "cloud" });
    expect(result.kind === "invalid" && result.reason).toMatch(/^cloud \(from tags\.cloud\): /);
    expect(runToTrainingEvents(trackedRun({ status: "DONE" }), options())).toMatchObject({ kind: "invalid" });
  });
});
