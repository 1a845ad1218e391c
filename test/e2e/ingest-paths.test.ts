import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { TOPICS } from "#ports/bus.ts";
import { ingestStream } from "../../bin/commands/event-batches.ts";
import { inferenceEvent } from "../support/ingest-builders.ts";
import { drainBus, postJson, readRejected, useTestSession } from "../support/local-stack-session.ts";

// The same body gets the same answer whichever way it comes: `finops ingest` (a file, .gz or not),
// POST /v1/events (gzip by header or not), or a Pub/Sub message on the events topic.

const time = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000).toISOString();
const good = (source: string, id: string) => inferenceEvent({ id, source, time });
const bad = (source: string, id: string) => inferenceEvent({ id, source, time, data: { team: "" } });

type Form = "pretty single object" | "array" | "NDJSON" | "empty";
const FORMS: readonly Form[] = ["pretty single object", "array", "NDJSON", "empty"];

function body(form: Form, source: string): { text: string; contentType: string } {
  switch (form) {
    case "pretty single object":
      return { text: JSON.stringify(good(source, "one"), null, 2), contentType: "application/json" };
    case "array":
      return {
        text: JSON.stringify([good(source, "a"), bad(source, "b"), good(source, "a")]),
        contentType: "application/json",
      };
    case "NDJSON":
      return {
        text: [good(source, "a"), bad(source, "b"), good(source, "c")]
          .map((e) => JSON.stringify(e))
          .join("\n"),
        contentType: "application/x-ndjson",
      };
    case "empty":
      return { text: "", contentType: "application/json" };
  }
}

/** What an answer says, without the parts that name the path (ids are the same, sources differ). */
function gist(answer: {
  received: number;
  accepted: number;
  duplicates: number;
  rejected: { index: number; field: string }[];
}) {
  return {
    received: answer.received,
    accepted: answer.accepted,
    duplicates: answer.duplicates,
    rejected: answer.rejected.map((r) => [r.index, r.field]),
  };
}

describe("one body, one answer, whichever way it comes", () => {
  const session = useTestSession();

  it.each(FORMS.flatMap((form) => [[form, false] as const, [form, true] as const]))(
    "%s (gzip: %s)",
    async (form, gzip) => {
      const tag = `${form.replaceAll(" ", "-")}-${gzip ? "gz" : "plain"}`;
      const file = body(form, `//paths/file/${tag}`);
      const fileBytes = gzip ? gzipSync(file.text) : Buffer.from(file.text);
      const fromFile = await ingestStream(
        (bodies) => session().runtime.ingestEvents.ingestBodies(bodies),
        Readable.from([fileBytes]),
      );

      const http = body(form, `//paths/http/${tag}`);
      const res = await fetch(`${session().stack.url}/v1/events`, {
        method: "POST",
        headers: { "content-type": http.contentType, ...(gzip ? { "content-encoding": "gzip" } : {}) },
        body: gzip ? gzipSync(http.text) : http.text,
      });
      const overHttp = (await res.json()) as Parameters<typeof gist>[0];

      expect(gist(overHttp), `HTTP ${res.status}`).toEqual(gist(fromFile));

      const bus = body(form, `//paths/bus/${tag}`);
      const started = new Date();
      await session().runtime.bus.publish(TOPICS.events, [
        {
          data: gzip ? gzipSync(bus.text) : Buffer.from(bus.text),
          attributes: { "content-type": bus.contentType, ...(gzip ? { "content-encoding": "gzip" } : {}) },
        },
      ]);
      await drainBus(session().runtime);
      const rejectedOnBus = await readRejected(session().runtime.warehouse, {
        from: started,
        to: new Date(Date.now() + 60_000),
      });
      expect(rejectedOnBus.filter((r) => r.event_source?.startsWith("//paths/bus/")).length).toBe(
        fromFile.rejected.length,
      );
    },
  );

  it("an empty body is zero events, answered 200", async () => {
    const res = await postJson(session().stack, "/v1/events", "");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ received: 0, accepted: 0, rejected: [] });
  });
});
