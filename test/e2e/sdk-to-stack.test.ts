import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TOPICS } from "#ports/bus.ts";
import { busSender, createBatchingPublisher, httpSender } from "#sdk/batching-publisher.ts";
import { createTrainingTracker } from "#sdk/training-tracker.ts";
import {
  drainBus,
  floorHour,
  HOUR_MS,
  openTestSession,
  refreshRollups,
  report,
  type TestSession,
  tempDuckDb,
} from "../support/local-stack-session.ts";

/** A training launcher's whole life, as the SDK sends it (gzip-compressed CloudEvents batches). */
async function runJob(send: Parameters<typeof createBatchingPublisher>[0]["send"], jobId: string) {
  const publisher = createBatchingPublisher({ send, maxDelayMs: 10 });
  const tracker = createTrainingTracker({
    publisher,
    source: "//training/e2e-launcher",
    job_id: jobId,
    model: "ranker",
    team: "search-ranking",
    business_unit: "consumer",
    placement: { cloud: "aws", region: "us-east-1", instance_type: "p3.2xlarge" },
    gpu_count: 1,
  });
  tracker.start();
  tracker.progress(1);
  tracker.finish();
  expect(await publisher.flush(5_000)).toBe(true);
  await publisher.close();
  return publisher.stats();
}

describe("the SDK's batches reach the pipeline, compressed", () => {
  let db: ReturnType<typeof tempDuckDb>;
  let session: TestSession;
  beforeEach(async () => {
    db = tempDuckDb();
    session = await openTestSession(db.path);
  });
  afterEach(async () => {
    await session.close();
    db.remove();
  });

  it.each([
    ["HTTP (POST /v1/events)", (s: TestSession) => httpSender(`${s.stack.url}/v1/events`)],
    ["the bus (events topic → ingestEvents)", (s: TestSession) => busSender(s.runtime.bus, TOPICS.events)],
  ])("over %s", async (_, sender) => {
    // Act
    const stats = await runJob(sender(session), `job-${Math.random().toString(36).slice(2)}`);
    await drainBus(session.runtime);
    await refreshRollups(session.stack);

    // Assess: every event sent and stored, none dropped; the job's cost shows under its team.
    expect(stats).toMatchObject({ published: 3, sent: 3, dropped: 0, failed: 0 });
    const hour = floorHour(Date.now());
    const rows = await report(session.runtime, {
      by: ["team"],
      from: new Date(hour - HOUR_MS),
      to: new Date(hour + HOUR_MS),
    });
    expect(rows.map((r) => r.group.team)).toEqual(["search-ranking"]);
  });
});
