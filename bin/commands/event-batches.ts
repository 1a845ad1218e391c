import { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";

export const BATCH_LINES = 10_000;
/**
 * Bodies per insert when ingesting in this process: 13 bodies of BATCH_LINES events make a little
 * more than one DuckDB row group (122,880 rows), which DuckDB writes straight into the database
 * file at commit, compressed once, instead of through its write-ahead log and a later checkpoint.
 */
export const LOCAL_BODIES_PER_CALL = 13;
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

/** A body of events from a stream, and the position of its first line in the stream. */
interface Batch {
  body: string;
  firstIndex: number;
  contentType: string;
}

/**
 * Splits NDJSON into batches of lines; a JSON document over several lines (an array, a
 * pretty-printed event) is one batch. Gzip input is inflated first. The same bodies, split or not,
 * get the same answer as over HTTP.
 */
export async function* eventBatches(input: Readable, batchLines = BATCH_LINES): AsyncGenerator<Batch> {
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

/** What one body of events came to. */
export interface BodyAnswer {
  received: number;
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: StreamTotals["rejected"];
}

/**
 * Ingests bodies of events, one answer each: in this process in one insert, or by a stack's
 * POST /v1/events one after the other.
 */
export type IngestBodies = (
  bodies: readonly { body: string; contentType: string }[],
) => Promise<BodyAnswer[]>;

export interface IngestStreamOptions {
  /** Bodies handed over per call (default 1): more make larger inserts. */
  bodiesPerCall?: number;
  /** Calls under way at once (default 2). */
  inFlight?: number;
  onBatch?: (totals: StreamTotals) => void;
}

/**
 * Ingests a stream body by body, `bodiesPerCall` bodies a call, with up to `inFlight` calls under
 * way, so that parsing and pricing the next bodies overlaps the warehouse writing the last ones
 * (writes stay serialized).
 */
export async function ingestStream(
  ingest: IngestBodies,
  input: Readable,
  options: IngestStreamOptions = {},
): Promise<StreamTotals> {
  const totals: StreamTotals = { received: 0, accepted: 0, duplicates: 0, conflicts: 0, rejected: [] };
  const running = new Set<Promise<void>>();
  const call = (group: readonly Batch[]) => {
    const task: Promise<void> = ingest(group).then((answers) => {
      answers.forEach((answer, i) => {
        const firstIndex = (group[i] as Batch).firstIndex;
        totals.received += answer.received;
        totals.accepted += answer.accepted;
        totals.duplicates += answer.duplicates;
        totals.conflicts += answer.conflicts;
        totals.rejected.push(...answer.rejected.map((r) => ({ ...r, index: r.index + firstIndex })));
      });
      running.delete(task);
      options.onBatch?.(totals);
    });
    running.add(task);
  };
  let group: Batch[] = [];
  try {
    for await (const batch of eventBatches(input)) {
      group.push(batch);
      if (group.length < (options.bodiesPerCall ?? 1)) continue;
      call(group);
      group = [];
      if (running.size >= (options.inFlight ?? 2)) await Promise.race(running);
    }
  } catch (error) {
    // The input broke off (a truncated gzip file): what was sent finishes, so what is stored is whole.
    await Promise.allSettled(running);
    throw error;
  }
  if (group.length > 0) call(group);
  await Promise.all(running);
  totals.rejected.sort((a, b) => a.index - b.index);
  return totals;
}
