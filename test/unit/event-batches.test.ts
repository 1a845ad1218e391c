import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { eventBatches } from "../../bin/commands/event-batches.ts";

/** A stream that delivers `text` cut into the given pieces (bytes, so a cut may split a character). */
function streamOf(pieces: readonly string[]): Readable {
  return Readable.from(pieces.map((p) => Buffer.from(p, "utf8")));
}

async function batchesOf(pieces: readonly string[], batchLines: number) {
  const out: { body: string; firstIndex: number; contentType: string }[] = [];
  for await (const batch of eventBatches(streamOf(pieces), batchLines)) out.push(batch);
  return out;
}

describe("eventBatches", () => {
  it("cuts NDJSON into batches of lines, numbering each batch's first line", async () => {
    const batches = await batchesOf(['{"a":1}\n{"a":2}\n{"a":3}\n'], 2);
    expect(batches).toEqual([
      { body: '{"a":1}\n{"a":2}', firstIndex: 0, contentType: "application/x-ndjson" },
      { body: '{"a":3}', firstIndex: 2, contentType: "application/x-ndjson" },
    ]);
  });

  it("ends lines at \\n, \\r\\n and a lone \\r, also when a chunk boundary falls inside \\r\\n", async () => {
    const batches = await batchesOf(["one\r", "\ntwo\rthr", "ee\n\nfour"], 100);
    expect(batches).toEqual([
      { body: "one\ntwo\nthree\n\nfour", firstIndex: 0, contentType: "application/x-ndjson" },
    ]);
  });

  it("keeps a character split between chunks whole", async () => {
    const bytes = Buffer.from('{"team":"ünï"}\n', "utf8");
    const pieces = [bytes.subarray(0, 10), bytes.subarray(10)];
    const out: string[] = [];
    for await (const batch of eventBatches(Readable.from(pieces), 10)) out.push(batch.body);
    expect(out).toEqual(['{"team":"ünï"}']);
  });

  it("reads a body that opens with [ as one JSON batch", async () => {
    const batches = await batchesOf(["  [\n", '{"a":1},\n', '{"a":2}]\n'], 1);
    expect(batches).toEqual([
      { body: '  [\n{"a":1},\n{"a":2}]', firstIndex: 0, contentType: "application/json" },
    ]);
  });

  it("reads a pretty-printed event (an object over several lines) as one JSON batch", async () => {
    const event = JSON.stringify({ id: "a", data: { team: "x" } }, null, 2);
    const batches = await batchesOf([event.slice(0, 9), event.slice(9)], 1);
    expect(batches).toEqual([{ body: event, firstIndex: 0, contentType: "application/json" }]);
  });

  it("inflates gzip input, whatever the chunks", async () => {
    const zipped = gzipSync('{"a":1}\n{"a":2}\n');
    const out: string[] = [];
    for await (const batch of eventBatches(Readable.from([zipped.subarray(0, 1), zipped.subarray(1)]), 10))
      out.push(batch.body);
    expect(out).toEqual(['{"a":1}\n{"a":2}']);
  });

  it("yields one empty batch for empty input", async () => {
    expect(await batchesOf([], 10)).toEqual([
      { body: "", firstIndex: 0, contentType: "application/x-ndjson" },
    ]);
  });
});
