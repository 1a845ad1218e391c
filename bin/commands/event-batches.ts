import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";

export const BATCH_LINES = 10_000;
const NDJSON = "application/x-ndjson";
/** A line ends at \r\n, \n or a lone \r, as node:readline reads it. */
const LINE_BREAK = /\r\n|\n|\r/;

/**
 * The lines of a stream, a chunk's worth at a time (one regex split per chunk rather than an event
 * per line): \r\n, \n and a lone \r end a line, and a last line without a break counts.
 */
async function* lineChunks(input: Readable): AsyncGenerator<string[]> {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  for await (const chunk of input) {
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

/** Splits NDJSON into batches of lines; a JSON array (first non-blank char `[`) is one batch. */
export async function* eventBatches(
  input: Readable,
  batchLines = BATCH_LINES,
): AsyncGenerator<{ body: string; firstIndex: number; contentType: string }> {
  let lines: string[] = [];
  let index = 0;
  let arrayText: string[] | undefined;
  for await (const chunk of lineChunks(input)) {
    for (const line of chunk) {
      if (arrayText === undefined && lines.length === 0 && index === 0 && line.trimStart().startsWith("["))
        arrayText = [];
      if (arrayText) {
        arrayText.push(line);
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
  if (arrayText) yield { body: arrayText.join("\n"), firstIndex: 0, contentType: "application/json" };
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

type Ingest = (
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
  ingest: Ingest,
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
