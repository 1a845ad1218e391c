import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOPICS } from "#ports/bus.ts";
import { MESSAGE_PUBLISHED } from "#runtime/local/pubsub-cloud-event.ts";
import { CLI_FUNCTION } from "../../bin/stack-endpoints.ts";
import { FUNCTIONS } from "../../functions/registry.ts";
import { inferenceEvent, trainingEvent } from "../support/ingest-builders.ts";
import {
  batchMessage,
  drainBus,
  floorHour,
  HOUR_MS,
  openTestSession,
  postJson,
  readRejected,
  refreshRollups,
  report,
  type TestSession,
  tempDuckDb,
  totalsByGroup,
} from "../support/local-stack-session.ts";

/** 10 GPU-seconds on a p3.2xlarge at the shipped catalog's 3.06 USD/h: 3.06e9 / 3600 × 10 nanos. */
const TEN_SECONDS_ON_P3 = 8_500_000n;
const PUBSUB_SOURCE = `//pubsub.googleapis.com/projects/local/topics/${TOPICS.events}`;
const BY_TEAM_MODEL: ["team", "model"] = ["team", "model"];

const startedAt = new Date();
/** Each scenario writes into its own past hour, so its report shows its events alone. */
const hourOf = (hoursAgo: number) => floorHour(startedAt.getTime()) - hoursAgo * HOUR_MS;
const timeIn = (hour: number, minutes: number) => new Date(hour + minutes * 60_000).toISOString();

const db = tempDuckDb();
let session: TestSession;
const deadLetters: Array<Record<string, string>> = [];

beforeAll(async () => {
  session = await openTestSession(db.path);
  await session.runtime.bus.subscribe(TOPICS.eventsDeadLetter, "e2e-dead-letters", async (message) => {
    deadLetters.push(message.attributes);
  });
});

afterAll(async () => {
  await session?.close();
  db.remove();
});

/** The report over one hour, as a map "team|model" → nanos. */
async function hourTotals(hour: number): Promise<Map<string, bigint>> {
  const rows = await report(session.runtime, {
    by: BY_TEAM_MODEL,
    from: new Date(hour),
    to: new Date(hour + HOUR_MS),
  });
  return totalsByGroup(rows, BY_TEAM_MODEL);
}

/** The `data` of a messagePublished CloudEvent: a Pub/Sub message carrying `payload`. */
function pubSubData(payload: unknown, attributes: Record<string, string>, messageId: string) {
  return {
    message: {
      data: Buffer.from(JSON.stringify(payload)).toString("base64"),
      attributes,
      messageId,
      publishTime: startedAt.toISOString(),
    },
    subscription: `projects/local/subscriptions/${TOPICS.events}-e2e`,
  };
}

describe("POST /v1/events", () => {
  const hour = hourOf(3);
  const at = (minutes: number) => timeIn(hour, minutes);
  const good = [
    inferenceEvent({ id: "http-good-1", time: at(5) }),
    inferenceEvent({
      id: "http-good-2",
      source: "//inference/chat",
      time: at(10),
      data: { team: "assistants", model: "chat-llm", cost_nanos: "1234567891" },
    }),
    trainingEvent({ id: "http-train-1", time: at(15) }),
  ];
  const bad = {
    missingTeam: inferenceEvent({ id: "http-no-team", time: at(20), data: { team: undefined } }),
    negativeCost: inferenceEvent({ id: "http-negative", time: at(21), data: { cost_nanos: "-5" } }),
    unknownInstance: inferenceEvent({ id: "http-p9", time: at(22), data: { instance_type: "p9.imaginary" } }),
    future: inferenceEvent({
      id: "http-future",
      time: new Date(startedAt.getTime() + 24 * HOUR_MS).toISOString(),
    }),
    huge: inferenceEvent({
      id: "http-huge",
      time: at(23),
      data: { labels: { note: "x".repeat(1024 * 1024) } },
    }),
  };

  it("stores the good events of a mixed batch, answers 207 and names each bad field", async () => {
    // Prepare
    const batch = [
      good[0],
      bad.missingTeam,
      bad.negativeCost,
      good[1],
      bad.unknownInstance,
      bad.future,
      bad.huge,
      good[2],
    ];

    // Act
    const res = await postJson(session.stack, "/v1/events", JSON.stringify(batch));

    // Assess
    expect(res.status).toBe(207);
    expect(res.body).toEqual({
      received: 8,
      accepted: 3,
      duplicates: 0,
      conflicts: 0,
      rejected: [
        {
          index: 1,
          id: "http-no-team",
          source: "//inference/fraud-scorer",
          field: "data.team",
          reason: expect.stringMatching(/^data\.team: /),
        },
        {
          index: 2,
          id: "http-negative",
          source: "//inference/fraud-scorer",
          field: "data.cost_nanos",
          reason: expect.stringMatching(/^data\.cost_nanos: /),
        },
        {
          index: 4,
          id: "http-p9",
          source: "//inference/fraud-scorer",
          field: "data.instance_type",
          reason: expect.stringMatching(/^data\.instance_type: .*p9\.imaginary/),
        },
        {
          index: 5,
          id: "http-future",
          source: "//inference/fraud-scorer",
          field: "time",
          reason: expect.stringMatching(/^time: .* in the future$/),
        },
        expect.objectContaining({
          index: 6,
          field: "data.labels.note",
          reason: expect.stringMatching(/^data\.labels\.note: too large/),
        }),
      ],
      hours: { from: new Date(hour).toISOString(), to: new Date(hour + HOUR_MS).toISOString() },
    });
  });

  it("takes NDJSON with a broken line: the other lines are stored or counted as duplicates", async () => {
    // Prepare
    const third = inferenceEvent({
      id: "http-good-3",
      time: at(30),
      data: { team: "search", model: "ranker" },
    });
    const body = [JSON.stringify(third), '{"specversion": "1.0", "id": ', JSON.stringify(good[0])].join("\n");

    // Act
    const res = await postJson(session.stack, "/v1/events", body, { "content-type": "application/x-ndjson" });

    // Assess
    expect(res.status).toBe(207);
    expect(res.body).toMatchObject({ received: 3, accepted: 1, duplicates: 1 });
    expect(res.body.rejected).toEqual([
      { index: 1, field: "body", reason: expect.stringMatching(/^body: line 2 is not valid JSON/) },
    ]);
  });

  it("answers 400 when nothing in the body can be taken, and 200 when everything is", async () => {
    // Prepare
    const onlyBad = JSON.stringify(bad.missingTeam);
    const onlyGood = JSON.stringify(good[1]);

    // Act
    const refused = await postJson(session.stack, "/v1/events", onlyBad, {
      "content-type": "application/cloudevents+json",
    });
    const replayed = await postJson(session.stack, "/v1/events", onlyGood, {
      "content-type": "application/cloudevents+json",
    });

    // Assess
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ received: 1, accepted: 0, duplicates: 0, hours: null });
    expect(refused.body.rejected).toEqual([expect.objectContaining({ index: 0, field: "data.team" })]);
    expect(replayed.status).toBe(200);
    expect(replayed.body).toEqual({
      received: 1,
      accepted: 0,
      duplicates: 1,
      conflicts: 0,
      rejected: [],
      hours: null,
    });
  });

  it("keeps every rejection in the rejected table and on the dead-letter topic, and reports only the good events", async () => {
    // Prepare
    const expectedFields = [
      "data.team",
      "data.cost_nanos",
      "data.instance_type",
      "time",
      "data.labels.note",
      "body",
      "data.team",
    ];

    // Act
    await drainBus(session.runtime);
    const rejected = await readRejected(session.runtime.warehouse, {
      from: startedAt,
      to: new Date(Date.now() + 60_000),
    });
    await refreshRollups(session.stack);
    const totals = await hourTotals(hour);

    // Assess
    expect(rejected.map((r) => r.field).sort()).toEqual([...expectedFields].sort());
    expect(rejected.find((r) => r.field === "data.labels.note")?.payload.length).toBeLessThanOrEqual(
      8 * 1024,
    );
    expect(deadLetters.map((a) => a.field).sort()).toEqual([...expectedFields].sort());
    expect(totals).toEqual(
      new Map([
        ["research|ranker", 24_480_000_000n],
        ["assistants|chat-llm", 1_234_567_891n],
        ["risk|fraud-scorer", TEN_SECONDS_ON_P3],
        ["search|ranker", TEN_SECONDS_ON_P3],
      ]),
    );
  });

  it("answers 405 to a GET", async () => {
    // Act
    const res = await fetch(`${session.stack.url}/v1/events`);

    // Assess
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
  });
});

describe("POST /events/ingestEvents with a Pub/Sub messagePublished CloudEvent", () => {
  const hour = hourOf(2);
  const event = (id: string, minutes: number, team: string) =>
    inferenceEvent({ id, source: "//inference/pubsub-e2e", time: timeIn(hour, minutes), data: { team } });

  it("stores the events of a binary-mode delivery (ce-* headers)", async () => {
    // Prepare
    const batch = [event("ps-binary-1", 5, "binary"), event("ps-binary-2", 6, "binary")];
    const headers = {
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-type": MESSAGE_PUBLISHED,
      "ce-source": PUBSUB_SOURCE,
      "ce-id": "ps-message-1",
      "ce-time": startedAt.toISOString(),
    };
    const body = pubSubData(batch, { "content-type": "application/cloudevents-batch+json" }, "ps-message-1");

    // Act
    const res = await fetch(`${session.stack.url}/events/ingestEvents`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });

    // Assess
    expect(res.status).toBe(204);
  });

  it("stores the event of a structured-mode delivery, and one sent as a binary CloudEvent inside the message", async () => {
    // Prepare
    const structured = {
      specversion: "1.0",
      type: MESSAGE_PUBLISHED,
      source: PUBSUB_SOURCE,
      id: "ps-message-2",
      time: startedAt.toISOString(),
      datacontenttype: "application/json",
      data: pubSubData(event("ps-structured-1", 10, "structured"), {}, "ps-message-2"),
    };
    const inner = event("ps-attributes-1", 11, "attributes");
    const binaryInside = {
      ...structured,
      id: "ps-message-3",
      data: pubSubData(
        inner.data,
        {
          "ce-specversion": "1.0",
          "ce-type": String(inner.type),
          "ce-source": String(inner.source),
          "ce-id": String(inner.id),
          "ce-time": String(inner.time),
          "content-type": "application/json",
        },
        "ps-message-3",
      ),
    };

    // Act
    const responses = await Promise.all(
      [structured, binaryInside].map((ce) =>
        fetch(`${session.stack.url}/events/ingestEvents`, {
          method: "POST",
          headers: { "content-type": "application/cloudevents+json" },
          body: JSON.stringify(ce),
        }),
      ),
    );
    await refreshRollups(session.stack);
    const totals = await hourTotals(hour);

    // Assess
    expect(responses.map((r) => r.status)).toEqual([204, 204]);
    expect(totals).toEqual(
      new Map([
        ["binary|fraud-scorer", 2n * TEN_SECONDS_ON_P3],
        ["attributes|fraud-scorer", TEN_SECONDS_ON_P3],
        ["structured|fraud-scorer", TEN_SECONDS_ON_P3],
      ]),
    );
  });

  it("acknowledges a message whose events are all invalid (no redelivery) and dead-letters them", async () => {
    // Prepare
    const invalid = inferenceEvent({ id: "ps-invalid", time: timeIn(hour, 40), data: { gpu_seconds: -3 } });
    const lettersBefore = deadLetters.length;
    const headers = {
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-type": MESSAGE_PUBLISHED,
      "ce-source": PUBSUB_SOURCE,
      "ce-id": "ps-message-4",
      "ce-time": startedAt.toISOString(),
    };

    // Act
    const res = await fetch(`${session.stack.url}/events/ingestEvents`, {
      method: "POST",
      headers,
      body: JSON.stringify(pubSubData(invalid, {}, "ps-message-4")),
    });
    await drainBus(session.runtime);

    // Assess
    expect(res.status).toBe(204);
    expect(deadLetters.slice(lettersBefore)).toEqual([
      expect.objectContaining({ field: "data.gpu_seconds", event_id: "ps-invalid" }),
    ]);
  });
});

describe("the in-process bus", () => {
  it("delivers a published batch to ingestEvents; after a refresh the report shows it", async () => {
    // Prepare
    const hour = hourOf(1);
    const events = [1, 2, 3].map((n) =>
      inferenceEvent({
        id: `bus-${n}`,
        source: "//inference/bus-e2e",
        time: timeIn(hour, n),
        data: { team: "bus", model: "embedder", gpu_seconds: 10 * n },
      }),
    );

    // Act
    await session.runtime.bus.publish(TOPICS.events, [batchMessage(events), batchMessage(events.slice(1))]);
    await drainBus(session.runtime);
    await refreshRollups(session.stack);
    const totals = await hourTotals(hour);

    // Assess
    expect(totals).toEqual(new Map([["bus|embedder", 6n * TEN_SECONDS_ON_P3]]));
  });
});

describe("routes", () => {
  it("answers /healthz", async () => {
    // Act
    const res = await fetch(`${session.stack.url}/healthz`);

    // Assess
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("lists every function at /, and the CLI's local-only endpoints", async () => {
    // Act
    const res = await fetch(`${session.stack.url}/`);

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      functions: [...FUNCTIONS, CLI_FUNCTION].map((f) => ({ target: f.target, trigger: f.trigger })),
    });
  });

  it("answers 404 with JSON for a path no function serves", async () => {
    // Act
    const res = await fetch(`${session.stack.url}/no/such/function`, { method: "POST", body: "{}" });

    // Assess
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ error: "no function at /no/such/function: GET / lists them" });
  });

  it("answers the refresh trigger with the ranges it rebuilt, and none when nothing is pending", async () => {
    // Act
    await postJson<unknown>(session.stack, "/refreshRollups", "");
    const res = await postJson<{ refreshed: unknown[] }>(session.stack, "/refreshRollups", "");

    // Assess
    expect(res.status).toBe(200);
    expect(res.body.refreshed).toEqual([]);
  });
});
