import { describe, expect, it } from "vitest";
import {
  binaryToStructured,
  decodeEventBody,
  decodePubSubMessage,
  MAX_BODY_BYTES,
  MAX_PAYLOAD_BYTES,
  pubSubMessageOf,
  truncatePayload,
} from "#domain/events/decode-body.ts";
import { parseCostEvent } from "#domain/events/parse.ts";
import { inferenceEvent, NOW, ndjson } from "../support/ingest-builders.ts";

const ids = (result: ReturnType<typeof decodeEventBody>) =>
  result.items.map((i) => (i.raw as { id: string }).id);

describe("decodeEventBody", () => {
  it("reads one structured CloudEvent", () => {
    const event = inferenceEvent();
    const result = decodeEventBody(JSON.stringify(event), "application/cloudevents+json; charset=utf-8");
    expect(result.rejections).toEqual([]);
    expect(result.items).toHaveLength(1);
    expect(result.items[0]).toMatchObject({ index: 0, raw: event });
  });

  it("reads a CloudEvents batch from a Buffer, keeping each event's position", () => {
    const batch = [inferenceEvent({ id: "a" }), inferenceEvent({ id: "b" }), inferenceEvent({ id: "c" })];
    const result = decodeEventBody(Buffer.from(JSON.stringify(batch)), "application/cloudevents-batch+json");
    expect(result.rejections).toEqual([]);
    expect(result.items.map((i) => i.index)).toEqual([0, 1, 2]);
    expect(ids(result)).toEqual(["a", "b", "c"]);
  });

  it("rejects only the bad line of an NDJSON body, naming the line", () => {
    const body = [
      JSON.stringify(inferenceEvent({ id: "a" })),
      '{"specversion":"1.0","id":"broken"',
      "",
      JSON.stringify(inferenceEvent({ id: "c" })),
    ].join("\n");
    const result = decodeEventBody(body, "application/x-ndjson");
    expect(ids(result)).toEqual(["a", "c"]);
    expect(result.items.map((i) => i.index)).toEqual([0, 3]);
    expect(result.rejections).toHaveLength(1);
    expect(result.rejections[0]).toMatchObject({ index: 1, field: "body" });
    expect(result.rejections[0]?.reason).toMatch(/^body: line 2 is not valid JSON/);
    expect(result.rejections[0]?.payload).toBe('{"specversion":"1.0","id":"broken"');
  });

  it("recognizes NDJSON without a content type, with CRLF line ends", () => {
    const body = `${ndjson([inferenceEvent({ id: "a" }), inferenceEvent({ id: "b" })]).replace("\n", "\r\n")}\r\nnot json\r\n`;
    const result = decodeEventBody(body);
    expect(ids(result)).toEqual(["a", "b"]);
    expect(result.rejections.map((r) => r.reason)).toEqual([expect.stringMatching(/^body: line 3 /)]);
  });

  it.each([
    ["an empty string", ""],
    ["blank lines", " \n\t\n"],
    ["an empty Buffer", Buffer.alloc(0)],
  ])("reads %s as zero events, nothing rejected", (_, body) => {
    expect(decodeEventBody(body, "application/json")).toEqual({ items: [], rejections: [] });
  });

  it("rejects invalid JSON naming the line where it breaks", () => {
    const body = '{\n  "specversion": "1.0",\n  "id": "x"\n  "source": "s"\n}';
    const result = decodeEventBody(body, "application/json");
    expect(result.items).toEqual([]);
    expect(result.rejections).toHaveLength(1);
    expect(result.rejections[0]).toMatchObject({ index: 0, field: "body", payload: body });
    expect(result.rejections[0]?.reason).toMatch(/^body: line 4 is not valid JSON \(/);
  });

  it("does not read an unparseable batch as NDJSON", () => {
    const body = `${JSON.stringify(inferenceEvent())}\n${JSON.stringify(inferenceEvent())}`;
    const result = decodeEventBody(body, "application/cloudevents-batch+json");
    expect(result.items).toEqual([]);
    expect(result.rejections[0]?.reason).toMatch(/^body: line 2 is not valid JSON/);
  });

  it("rejects an empty batch", () => {
    expect(decodeEventBody("[]", "application/cloudevents-batch+json").rejections).toEqual([
      { index: 0, field: "body", reason: "body: empty batch", payload: "[]", received: Buffer.from("[]") },
    ]);
  });

  it("rejects a body over 10 MB whole, keeping 8 KB of it", () => {
    const body = `[${JSON.stringify("x".repeat(MAX_BODY_BYTES))}]`;
    const result = decodeEventBody(body);
    expect(result.items).toEqual([]);
    expect(result.rejections).toHaveLength(1);
    expect(result.rejections[0]?.field).toBe("body");
    expect(result.rejections[0]?.reason).toMatch(/^body: too large \(10\.0 MB, at most 10\.0 MB allowed\)$/);
    expect(Buffer.byteLength(result.rejections[0]?.payload ?? "")).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  });

  it("rejects an event with a 1 MB string, naming the field, and keeps the rest", () => {
    const huge = inferenceEvent({ id: "huge", data: { team: "t".repeat(1024 * 1024) } });
    const body = JSON.stringify([inferenceEvent({ id: "a" }), huge, inferenceEvent({ id: "c" })]);
    const result = decodeEventBody(body);
    expect(ids(result)).toEqual(["a", "c"]);
    expect(result.rejections).toHaveLength(1);
    const [rejection] = result.rejections;
    expect(rejection).toMatchObject({ index: 1, field: "data.team" });
    expect(rejection?.reason).toMatch(
      /^data\.team: too large \(the event is 1\.0 MB, at most 64 KB allowed\)$/,
    );
    expect(Buffer.byteLength(rejection?.payload ?? "")).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(rejection?.payload.startsWith('{"specversion":"1.0","id":"huge"')).toBe(true);
  });

  it("names the container when many small fields make an event too big", () => {
    const labels = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`k${i}`, "v".repeat(200)]));
    const result = decodeEventBody(JSON.stringify(inferenceEvent({ data: { labels } })));
    expect(result.rejections[0]?.field).toBe("data.labels");
  });
});

describe("truncatePayload", () => {
  it("keeps short text and cuts long text on a character boundary", () => {
    expect(truncatePayload("short")).toBe("short");
    const cut = truncatePayload("€".repeat(5000));
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(cut.endsWith("€…")).toBe(true);
    expect(cut).not.toContain("\uFFFD");
  });
});

describe("decodePubSubMessage", () => {
  it("decodes the base64 data of a messagePublished CloudEvent", () => {
    const event = inferenceEvent();
    const cloudEventData = {
      message: {
        data: Buffer.from(JSON.stringify(event)).toString("base64"),
        attributes: { "content-type": "application/cloudevents+json" },
        messageId: "2070443601311540",
        publishTime: "2021-02-26T19:13:55.749Z",
      },
      subscription: "projects/myproject/subscriptions/mysubscription",
    };
    const decoded = decodePubSubMessage(pubSubMessageOf(cloudEventData));
    expect(decoded.contentType).toBe("application/cloudevents+json");
    expect(decodeEventBody(decoded.body, decoded.contentType).items[0]?.raw).toEqual(event);
  });

  it("turns a message without data into an empty body: zero events", () => {
    const decoded = decodePubSubMessage({ attributes: {} });
    expect(decodeEventBody(decoded.body)).toEqual({ items: [], rejections: [] });
    expect(pubSubMessageOf({ nothing: true })).toBeUndefined();
  });

  it("rebuilds a binary-mode CloudEvent carried in message attributes", () => {
    const { data, specversion, id, source, type, time } = inferenceEvent();
    const decoded = decodePubSubMessage({
      data: Buffer.from(JSON.stringify(data)).toString("base64"),
      attributes: {
        "ce-specversion": String(specversion),
        "ce-id": String(id),
        "ce-source": String(source),
        "ce-type": String(type),
        "ce-time": String(time),
        "content-type": "application/json",
      },
    });
    expect(decoded.contentType).toBe("application/cloudevents+json");
    const [item] = decodeEventBody(decoded.body, decoded.contentType).items;
    expect(item?.raw).toEqual({
      specversion,
      id,
      source,
      type,
      time,
      datacontenttype: "application/json",
      data,
    });
    expect(parseCostEvent(item?.raw, NOW)).toMatchObject({ ok: true, event: { id, source } });
  });
});

describe("binaryToStructured", () => {
  it("reads ce-* HTTP headers, whatever their case and list form", () => {
    const { data } = inferenceEvent();
    const structured = binaryToStructured(
      {
        "ce-specversion": "1.0",
        "ce-id": "h-1",
        "ce-source": "//http",
        "ce-type": ["ai.cost.inference.v1"],
        "ce-time": "2026-11-15T11:00:00Z",
        "CE-Subject": "pod/abc",
        "content-type": "application/json",
      },
      Buffer.from(JSON.stringify(data)),
      "application/json",
    );
    expect(JSON.parse(String(structured?.body))).toEqual({
      specversion: "1.0",
      id: "h-1",
      source: "//http",
      type: "ai.cost.inference.v1",
      time: "2026-11-15T11:00:00Z",
      subject: "pod/abc",
      datacontenttype: "application/json",
      data,
    });
  });

  it("leaves non-binary requests alone and keeps unparseable data as text for validation", () => {
    expect(binaryToStructured({ "content-type": "application/json" }, "{}")).toBeUndefined();
    const structured = binaryToStructured(
      {
        "ce-specversion": "1.0",
        "ce-id": "1",
        "ce-source": "s",
        "ce-type": "ai.cost.inference.v1",
        "ce-time": "2026-11-15T11:00:00Z",
      },
      "{oops",
      "application/json",
    );
    const [item] = decodeEventBody(String(structured?.body)).items;
    expect(parseCostEvent(item?.raw, NOW)).toMatchObject({ ok: false, rejection: { field: "data" } });
  });
});
