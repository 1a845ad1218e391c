import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

export const BATCH_LINES = 10_000;
const NDJSON = "application/x-ndjson";

/** Splits NDJSON into batches of lines; a JSON array (first non-blank char `[`) is one batch. */
export async function* eventBatches(
  input: Readable,
  batchLines = BATCH_LINES,
): AsyncGenerator<{ body: string; firstIndex: number; contentType: string }> {
  let lines: string[] = [];
  let index = 0;
  let arrayText: string[] | undefined;
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
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
  if (arrayText) yield { body: arrayText.join("\n"), firstIndex: 0, contentType: "application/json" };
  else if (lines.length > 0 || index === 0)
    yield { body: lines.join("\n"), firstIndex: index, contentType: NDJSON };
}

export interface StreamTotals {
  received: number;
  accepted: number;
  duplicates: number;
  rejected: Array<{ index: number; id?: string; source?: string; field: string; reason: string }>;
}

type Ingest = (
  body: string,
  contentType: string,
) => Promise<{
  received: number;
  accepted: number;
  duplicates: number;
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
  const totals: StreamTotals = { received: 0, accepted: 0, duplicates: 0, rejected: [] };
  const running = new Set<Promise<void>>();
  for await (const { body, firstIndex, contentType } of eventBatches(input)) {
    const task: Promise<void> = ingest(body, contentType).then((summary) => {
      totals.received += summary.received;
      totals.accepted += summary.accepted;
      totals.duplicates += summary.duplicates;
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
