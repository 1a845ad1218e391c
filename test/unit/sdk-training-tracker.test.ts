import { describe, expect, it } from "vitest";
import { parseCostEvent } from "#domain/events/parse.ts";
import type { EventPublisher, OutgoingCloudEvent } from "#sdk/batching-publisher.ts";
import { createManualClock } from "#sdk/sdk-clock.ts";
import { SdkConfigError } from "#sdk/sdk-errors.ts";
import {
  createTrainingTracker,
  type TrainingEventData,
  type TrainingTrackerOptions,
} from "#sdk/training-tracker.ts";

const MINUTE = 60_000;

function setup(overrides: Partial<TrainingTrackerOptions> = {}) {
  const clock = createManualClock(Date.UTC(2026, 10, 2, 8));
  const events: OutgoingCloudEvent[] = [];
  let next = 0;
  const publisher: EventPublisher = { publish: (e) => events.push(e) };
  const tracker = createTrainingTracker({
    publisher,
    source: "//training/launcher",
    job_id: "job-42",
    model: "llm-chat",
    model_version: "2026-11",
    team: "assistants",
    business_unit: "platform",
    placement: { cloud: "gcp", region: "us-central1", instance_type: "a2-highgpu-8g" },
    gpu_count: 8,
    heartbeatMs: MINUTE,
    clock,
    idFactory: () => `t-${++next}`,
    ...overrides,
  });
  const data = () => events.map((e) => e.data as TrainingEventData);
  const summary = () => data().map((d) => [d.phase, d.elapsed_seconds, d.epoch]);
  return { clock, events, tracker, data, summary };
}

describe("createTrainingTracker", () => {
  it("emits started, progress and finished with cumulative elapsed seconds", async () => {
    const { clock, tracker, summary, events } = setup();
    tracker.start();
    await clock.advance(30_000);
    tracker.progress(1);
    await clock.advance(45_500);
    tracker.progress(2);
    await clock.advance(10_000);
    tracker.finish();

    expect(summary()).toEqual([
      ["started", 0, undefined],
      ["progress", 30, 1],
      ["progress", 75.5, 2],
      ["finished", 85.5, 2],
    ]);
    expect(events[0]).toMatchObject({
      specversion: "1.0",
      id: "t-1",
      type: "ai.cost.training.v1",
      source: "//training/launcher",
      time: "2026-11-02T08:00:00.000Z",
    });
    expect(events.at(-1)?.time).toBe("2026-11-02T08:01:25.500Z");
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(tracker.state()).toBe("finished");
  });

  it("sends a heartbeat with the last epoch when heartbeatMs pass without an event, until the job ends", async () => {
    const { clock, tracker, summary } = setup();
    tracker.start();
    await clock.advance(MINUTE);
    tracker.progress(3);
    await clock.advance(2.5 * MINUTE);
    tracker.finish();
    await clock.advance(10 * MINUTE);

    expect(summary()).toEqual([
      ["started", 0, undefined],
      ["progress", 60, undefined],
      ["progress", 60, 3],
      ["progress", 120, 3],
      ["progress", 180, 3],
      ["finished", 210, 3],
    ]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("finishes once: a second finish or a fail after it does nothing", async () => {
    const { clock, tracker, summary } = setup();
    tracker.start();
    tracker.start();
    await clock.advance(5000);
    tracker.finish();
    tracker.finish();
    tracker.fail("late");
    tracker.progress(9);
    expect(summary().map(([phase]) => phase)).toEqual(["started", "finished"]);
  });

  it("records the failure reason in labels and stops the heartbeat", async () => {
    const { clock, tracker, data } = setup({ labels: { run: "r1" } });
    tracker.progress(0);
    await clock.advance(90_000);
    tracker.fail("CUDA out of memory ".repeat(30));
    await clock.advance(10 * MINUTE);

    const last = data().at(-1);
    expect(data().map((d) => d.phase)).toEqual(["started", "progress", "progress", "failed"]);
    expect(last?.elapsed_seconds).toBe(90);
    expect(last?.labels?.run).toBe("r1");
    expect(last?.labels?.failure_reason).toHaveLength(256);
    expect(tracker.state()).toBe("failed");
  });

  it("emits only events the pipeline accepts", async () => {
    const { clock, tracker, events } = setup();
    tracker.start();
    for (let epoch = 0; epoch < 5; epoch += 1) {
      await clock.advance(7 * MINUTE);
      tracker.progress(epoch);
    }
    tracker.fail("preempted");
    const rejections = events
      .map((e) => parseCostEvent(JSON.parse(JSON.stringify(e)), new Date(clock.now())))
      .filter((r) => !r.ok);
    expect(events.length).toBeGreaterThan(5);
    expect(rejections).toEqual([]);
  });

  it("keeps the job running when the publisher throws", async () => {
    const errors: unknown[] = [];
    const clock = createManualClock();
    const tracker = createTrainingTracker({
      publisher: {
        publish: () => {
          throw new Error("down");
        },
      },
      source: "//training/launcher",
      job_id: "j",
      model: "m",
      team: "t",
      placement: { cloud: "aws", region: "us-east-1", instance_type: "p4d.24xlarge" },
      gpu_count: 8,
      clock,
      onError: (e) => errors.push(e),
    });
    expect(() => {
      tracker.start();
      tracker.progress(1);
      tracker.finish();
    }).not.toThrow();
    expect(errors).toHaveLength(3);
  });

  it("refuses options that cannot make a valid event, naming the option", () => {
    const publisher: EventPublisher = { publish: () => undefined };
    const base: TrainingTrackerOptions = {
      publisher,
      source: "//training/launcher",
      job_id: "j",
      model: "m",
      team: "t",
      placement: { cloud: "gcp", region: "us-central1", accelerator: "nvidia-a100-80gb" },
      gpu_count: 4,
    };
    expect(() => createTrainingTracker(base)).not.toThrow();
    expect(() => createTrainingTracker({ ...base, gpu_count: 0 })).toThrow(/gpu_count/);
    expect(() => createTrainingTracker({ ...base, job_id: " " })).toThrow(SdkConfigError);
    expect(() => createTrainingTracker({ ...base, placement: { cloud: "gcp", region: "x" } })).toThrow(
      /placement\.instance_type/,
    );
    expect(() => createTrainingTracker({ ...base, heartbeatMs: 0 })).toThrow(/heartbeatMs/);
  });
});
