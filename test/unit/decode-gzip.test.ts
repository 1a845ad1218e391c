import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  decodeEventBody,
  decodePubSubMessage,
  MAX_BODY_BYTES,
  MAX_PAYLOAD_BYTES,
} from "#domain/events/decode-body.ts";

const event = {
  specversion: "1.0",
  id: "a",
  source: "//s",
  type: "ai.cost.inference.v1",
  time: "2026-11-25T00:00:00Z",
};

describe("content-encoding", () => {
  it("inflates a gzip batch", () => {
    const body = gzipSync(JSON.stringify([event, { ...event, id: "b" }]));
    const decoded = decodeEventBody(body, "application/cloudevents-batch+json", "gzip");
    expect(decoded.rejections).toEqual([]);
    expect(decoded.items.map((i) => (i.raw as { id: string }).id)).toEqual(["a", "b"]);
  });

  it("names the body when it is not gzip, or inflates past the size limit", () => {
    const corrupt = decodeEventBody(Buffer.from("not gzip"), "application/json", "gzip");
    expect(corrupt.rejections).toMatchObject([{ field: "body" }]);
    const bomb = decodeEventBody(gzipSync(Buffer.alloc(MAX_BODY_BYTES + 10, 32)), "application/json", "gzip");
    expect(bomb.rejections).toMatchObject([{ field: "body" }]);
    expect(decodeEventBody("{}", "application/json", "br").rejections[0]?.reason).toMatch(/unsupported/);
  });

  it("keeps the bytes as received on a body it cannot read, for the dead-letter path to replay", () => {
    const corrupt = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.from("truncated gzip")]);
    const [bad] = decodeEventBody(corrupt, "application/cloudevents-batch+json", "gzip").rejections;
    expect(bad).toMatchObject({ index: 0, field: "body", payload: corrupt.toString("base64") });
    expect(bad?.received).toEqual(corrupt);

    // Delivered as a string (latin1 bytes), an unknown encoding: the same bytes come back.
    const brotli = Buffer.from([0xce, 0xb2, 0x00, 0xff]);
    const [unknown] = decodeEventBody(brotli.toString("latin1"), "application/json", "br").rejections;
    expect(unknown?.received).toEqual(brotli);
    expect(unknown?.payload).toBe(brotli.toString("base64"));

    // Inflated but not JSON: still the compressed bytes, not the text they inflate to.
    const notJson = gzipSync("this is not json");
    const [text] = decodeEventBody(notJson, "application/json", "gzip").rejections;
    expect(text).toMatchObject({ field: "body", payload: "this is not json" });
    expect(text?.received).toEqual(notJson);

    // A large body's base64 is cut to the payload limit; the bytes are all kept.
    const large = Buffer.concat([Buffer.from("not gzip"), Buffer.alloc(MAX_PAYLOAD_BYTES * 2, 7)]);
    const [cut] = decodeEventBody(large, "application/json", "gzip").rejections;
    expect(Buffer.byteLength(cut?.payload ?? "")).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(cut?.received).toEqual(large);
  });

  it("keeps no received bytes on a rejection of one event", () => {
    const body = gzipSync(
      JSON.stringify([event, { ...event, id: "huge", data: { pad: "x".repeat(70_000) } }]),
    );
    const result = decodeEventBody(body, "application/cloudevents-batch+json", "gzip");
    expect(result.items).toHaveLength(1);
    expect(result.rejections).toMatchObject([{ index: 1, field: "data.pad" }]);
    expect(result.rejections[0]?.received).toBeUndefined();
  });

  it("reads the encoding from a Pub/Sub message's attributes", () => {
    const data = gzipSync(JSON.stringify([event])).toString("base64");
    const body = decodePubSubMessage({ data, attributes: { "content-encoding": "gzip" } });
    expect(body.contentEncoding).toBe("gzip");
    expect(decodeEventBody(body.body, body.contentType, body.contentEncoding).items).toHaveLength(1);
  });
});
