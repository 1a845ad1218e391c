import { afterAll, describe, expect, it } from "vitest";
import type { IngestSummary } from "#app/ingest-events.ts";
import type { DemoCloudEvent } from "#domain/demo/demo-cloud-event.ts";
import { generateDemoEvents } from "#domain/demo/demo-events.ts";
import { withDuplicatesShuffled } from "#domain/demo/stream-faults.ts";
import { TOPICS } from "#ports/bus.ts";
import { expectedCosts, shippedPricer, withoutUsageShared } from "../support/expected-costs.ts";
import {
  batchMessage,
  drainBus,
  floorHour,
  HOUR_MS,
  openTestSession,
  postJson,
  refreshRollups,
  report,
  type TestSession,
  tempDuckDb,
  totalsByGroup,
} from "../support/local-stack-session.ts";

const HOURS = 12;
const SEED = "e2e-idempotency";
const BATCHES = 8;
const BY: ["team", "model"] = ["team", "model"];

const db = tempDuckDb();
const sessions: TestSession[] = [];

afterAll(async () => {
  for (const s of sessions) await s.close();
  db.remove();
});

function split<T>(items: readonly T[], parts: number): T[][] {
  const size = Math.ceil(items.length / parts);
  return Array.from({ length: parts }, (_, i) => items.slice(i * size, (i + 1) * size));
}

/** Sends one batch the way a given emitter would: NDJSON or a JSON array over HTTP, or a bus message. */
async function deliver(
  session: TestSession,
  batch: readonly DemoCloudEvent[],
  how: number,
): Promise<IngestSummary[]> {
  if (how % 3 === 0) {
    const res = await postJson(session.stack, "/v1/events", batch.map((e) => JSON.stringify(e)).join("\n"), {
      "content-type": "application/x-ndjson",
    });
    expect(res.status).toBe(200);
    return [res.body];
  }
  if (how % 3 === 1) {
    const res = await postJson(session.stack, "/v1/events", JSON.stringify(batch), {
      "content-type": "application/cloudevents-batch+json",
    });
    expect(res.status).toBe(200);
    return [res.body];
  }
  // The bus path: the summary is not returned to the publisher; the ingest use case's is observed.
  const summaries: IngestSummary[] = [];
  const ingest = session.runtime.ingestEvents.ingest;
  session.runtime.ingestEvents.ingest = async (body, contentType) => {
    const summary = await ingest(body, contentType);
    summaries.push(summary);
    return summary;
  };
  try {
    await session.runtime.bus.publish(
      TOPICS.events,
      split(batch, 2).map((part) => batchMessage(part)),
    );
    await drainBus(session.runtime);
  } finally {
    session.runtime.ingestEvents.ingest = ingest;
  }
  return summaries;
}

describe("idempotency through the local stack", () => {
  it("gives every team and model the same total, to the nano, when a third of the stream repeats out of order across a restart", async () => {
    // Prepare
    const now = new Date();
    const to = new Date(floorHour(now.getTime()));
    const from = new Date(to.getTime() - HOURS * HOUR_MS);
    const events = withoutUsageShared(generateDemoEvents({ from, hours: HOURS, seed: SEED }));
    // A training job running at the demo's start comes whole, from its start: the report covers it.
    const since = new Date(floorHour(Math.min(from.getTime(), ...events.map((e) => Date.parse(e.time)))));
    const expected = expectedCosts(events, {
      pricer: shippedPricer(),
      now,
      range: { from: since, to },
      by: BY,
    });
    const faulty = withDuplicatesShuffled(events, { seed: SEED });
    const batches = split(faulty, BATCHES);

    // Act
    const summaries: IngestSummary[] = [];
    for (const [index, batch] of batches.entries()) {
      if (index === 0 || index === BATCHES / 2) {
        // A restart halfway: the first runtime is closed, a new one opens the same DuckDB file.
        await sessions.pop()?.close();
        sessions.push(await openTestSession(db.path));
      }
      summaries.push(...(await deliver(sessions[0] as TestSession, batch, index)));
    }
    await refreshRollups((sessions[0] as TestSession).stack);
    const rows = await report((sessions[0] as TestSession).runtime, { by: BY, from: since, to });

    // Assess
    for (const { maxCumulative, sumOfDeltas } of expected.trainingJobs.values()) {
      expect(sumOfDeltas).toBe(maxCumulative);
    }
    expect(expected.trainingJobs.size).toBeGreaterThan(1);
    expect(faulty.length - events.length).toBeGreaterThanOrEqual(Math.round(events.length / 3));
    const sum = (pick: (s: IngestSummary) => number) => summaries.reduce((n, s) => n + pick(s), 0);
    expect({
      received: sum((s) => s.received),
      accepted: sum((s) => s.accepted),
      duplicates: sum((s) => s.duplicates),
      rejected: sum((s) => s.rejected.length),
    }).toEqual({
      received: faulty.length,
      accepted: expected.distinctEvents,
      duplicates: faulty.length - expected.distinctEvents,
      rejected: 0,
    });
    const actual = totalsByGroup(rows, BY);
    expect([...actual.keys()].sort()).toEqual([...expected.totals.keys()].sort());
    for (const [group, nanos] of expected.totals) {
      expect({ group, nanos: actual.get(group) }).toEqual({ group, nanos });
    }
  });
});
