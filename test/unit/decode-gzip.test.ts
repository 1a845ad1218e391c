import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decodeEventBody, decodePubSubMessage, MAX_BODY_BYTES } from "#domain/events/decode-body.ts";

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

  it("reads the encoding from a Pub/Sub message's attributes", () => {
    const data = gzipSync(JSON.stringify([event])).toString("base64");
    const body = decodePubSubMessage({ data, attributes: { "content-encoding": "gzip" } });
    expect(body.contentEncoding).toBe("gzip");
    expect(decodeEventBody(body.body, body.contentType, body.contentEncoding).items).toHaveLength(1);
  });
});
