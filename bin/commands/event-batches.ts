import { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";

export const BATCH_LINES = 10_000;
const NDJSON = "application/x-ndjson";
/** A line ends at \r\n, \n or a lone \r, as node:readline reads it. */
const LINE_BREAK = /\r\n|\n|\r/;

/** The bytes of a stream, inflated when they start with gzip's magic number (a .gz file, gzip on stdin). */
async function* inflated(input: Readable): AsyncGenerator<Buffer | string> {
  const chunks = input[Symbol.asyncIterator]();
  // Enough of the start to see the two magic bytes, however the stream is cut.
  const head: (Buffer | string)[] = [];
  let seen = 0;
  while (seen < 2) {
    const next = await chunks.next();
    if (next.done) break;
    head.push(next.value);
    seen += next.value.length;
  }
  async function* all() {
    yield* head;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  }
  const start = head.every((c) => typeof c !== "string") ? Buffer.concat(head as Buffer[]) : undefined;
  if (start !== undefined && start[0] === 0x1f && start[1] === 0x8b)
    yield* Readable.from(all()).pipe(createGunzip());
  else yield* all();
}

/**
 * The lines of a stream, a chunk's worth at a time (one regex split per chunk rather than an event
 * per line): \r\n, \n and a lone \r end a line, and a last line without a break counts.
 */
async function* lineChunks(input: Readable): AsyncGenerator<string[]> {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  for await (const chunk of inflated(input)) {
    let text = pending + (typeof chunk === "string" ? chunk : decoder.write(chunk as Buffer));
    // A \r at the very end may be the first half of a \r\n cut between chunks: the next one decides.
    let held = "";
    if (text.endsWith("\r")) {
      held = "\r";
      text = text.slice(0, -1);
    }
    const lines = text.includes("\r") ? text.split(LINE_BREAK) : text.split("\n");
    pending = (lines.pop() ?? "") + held;
    if (lines.length > 0) yield lines;
  }
  const rest = pending + decoder.end();
  if (rest === "") return;
  const lines = rest.split(LINE_BREAK);
  if (lines[lines.length - 1] === "") lines.pop();
  if (lines.length > 0) yield lines;
}

/**
 * A first line that opens a JSON document spread over lines: an array, or an object that does not
 * close on its own line (a pretty-printed CloudEvent). An NDJSON line is a whole object.
 */
function opensDocument(line: string): boolean {
  const text = line.trim();
  return text.startsWith("[") || (text.startsWith("{") && !text.endsWith("}"));
}

/**
 * Splits NDJSON into batches of lines; a JSON document over several lines (an array, a
 * pretty-printed event) is one batch. Gzip input is inflated first. The same bodies, split or not,
 * get the same answer as over HTTP.
 */
export async function* eventBatches(
  input: Readable,
  batchLines = BATCH_LINES,
): AsyncGenerator<{ body: string; firstIndex: number; contentType: string }> {
  let lines: string[] = [];
  let index = 0;
  let documentText: string[] | undefined;
  for await (const chunk of lineChunks(input)) {
    for (const line of chunk) {
      if (documentText === undefined && lines.length === 0 && index === 0 && opensDocument(line))
        documentText = [];
      if (documentText) {
        documentText.push(line);
        continue;
      }
      lines.push(line);
      if (lines.length === batchLines) {
        yield { body: lines.join("\n"), firstIndex: index, contentType: NDJSON };
        index += lines.length;
        lines = [];
      }
    }
  }
  if (documentText) yield { body: documentText.join("\n"), firstIndex: 0, contentType: "application/json" };
  else if (lines.length > 0 || index === 0)
    yield { body: lines.join("\n"), firstIndex: index, contentType: NDJSON };
}

export interface StreamTotals {
  received: number;
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: Array<{ index: number; id?: string; source?: string; field: string; reason: string }>;
}

/** Ingests one body of events (in this process, or by a stack's POST /v1/events). */
export type IngestBatch = (
  body: string,
  contentType: string,
) => Promise<{
  received: number;
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: StreamTotals["rejected"];
}>;

/**
 * Ingests a stream batch by batch with up to `inFlight` batches under way, so that parsing and
 * pricing the next batch overlaps the warehouse writing the last one (writes stay serialized).
 */
export async function ingestStream(
  ingest: IngestBatch,
  input: Readable,
  options: { inFlight?: number; onBatch?: (totals: StreamTotals) => void } = {},
): Promise<StreamTotals> {
  const totals: StreamTotals = { received: 0, accepted: 0, duplicates: 0, conflicts: 0, rejected: [] };
  const running = new Set<Promise<void>>();
  for await (const { body, firstIndex, contentType } of eventBatches(input)) {
    const task: Promise<void> = ingest(body, contentType).then((summary) => {
      totals.received += summary.received;
      totals.accepted += summary.accepted;
      totals.duplicates += summary.duplicates;
      totals.conflicts += summary.conflicts;
      totals.rejected.push(...summary.rejected.map((r) => ({ ...r, index: r.index + firstIndex })));
      running.delete(task);
      options.onBatch?.(totals);
    });
    running.add(task);
    if (running.size >= (options.inFlight ?? 2)) await Promise.race(running);
  }
  await Promise.all(running);
  totals.rejected.sort((a, b) => a.index - b.index);
  return totals;
}
