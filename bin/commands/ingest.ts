import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { composeRuntime } from "#runtime/compose.ts";
import { type Command, parseCommandArgs, UsageError } from "../cli-args.ts";

const BATCH_LINES = 10_000;
const SHOWN_REJECTIONS = 100;

interface Totals {
  received: number;
  accepted: number;
  duplicates: number;
  rejected: Array<{ index: number; id?: string; source?: string; field: string; reason: string }>;
}

/** Splits NDJSON into batches of lines; a JSON array (first non-blank char `[`) is one batch. */
async function* batches(input: Readable): AsyncGenerator<{ body: string; firstIndex: number }> {
  let lines: string[] = [];
  let index = 0;
  let arrayText: string[] | undefined;
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (arrayText === undefined && lines.length === 0 && index === 0 && line.trimStart().startsWith("[")) arrayText = [];
    if (arrayText) {
      arrayText.push(line);
      continue;
    }
    lines.push(line);
    if (lines.length === BATCH_LINES) {
      yield { body: lines.join("\n"), firstIndex: index };
      index += lines.length;
      lines = [];
    }
  }
  if (arrayText) yield { body: arrayText.join("\n"), firstIndex: 0 };
  else if (lines.length > 0 || index === 0) yield { body: lines.join("\n"), firstIndex: index };
}

export const ingestCommand: Command = {
  name: "ingest",
  summary: "load NDJSON or JSON-array CloudEvents from a file or stdin and print a JSON summary",
  usage: `finops ingest <file|-> [--quiet]

  Reads CloudEvents (one JSON object per line, or one JSON array) from a file, or from stdin with -,
  ingests them in batches of ${BATCH_LINES} lines (validate, price, dedupe, store), refreshes the hourly
  rollup and prints {received, accepted, duplicates, rejected, rejections[]} as JSON on stdout.
  Progress goes to stderr. Exit code 0 when nothing was rejected, 1 otherwise.

  --quiet    no progress lines`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { quiet: { type: "boolean", default: false } }, true);
    const [path] = positionals;
    if (path === undefined || positionals.length > 1) throw new UsageError("give one file, or - for stdin");
    const input = path === "-" ? process.stdin : createReadStream(path);
    const opened = new Promise<void>((resolve, reject) => {
      if (path === "-") resolve();
      else input.once("open", () => resolve()).once("error", reject);
    });
    await opened.catch((error: Error) => {
      throw new UsageError(`cannot read ${path}: ${error.message}`);
    });
    const runtime = await composeRuntime({ logLevel: "warn" });
    const startedAt = runtime.clock.now();
    const totals: Totals = { received: 0, accepted: 0, duplicates: 0, rejected: [] };
    const began = performance.now();
    try {
      for await (const { body, firstIndex } of batches(input)) {
        const summary = await runtime.ingestEvents.ingest(body);
        totals.received += summary.received;
        totals.accepted += summary.accepted;
        totals.duplicates += summary.duplicates;
        totals.rejected.push(...summary.rejected.map((r: { index: number; field: string; reason: string }) => ({ ...r, index: r.index + firstIndex })));
        if (!values.quiet) {
          const rate = Math.round(totals.received / ((performance.now() - began) / 1000));
          process.stderr.write(
            `ingested ${totals.received} events (${totals.accepted} accepted, ${totals.duplicates} duplicates, ${totals.rejected.length} rejected) ${rate}/s\n`,
          );
        }
      }
      await runtime.refreshRollups.refresh(startedAt);
      const { rejected, ...counts } = totals;
      const out = {
        ...counts,
        rejected: rejected.length,
        rejections: rejected.slice(0, SHOWN_REJECTIONS),
        ...(rejected.length > SHOWN_REJECTIONS ? { rejections_not_shown: rejected.length - SHOWN_REJECTIONS } : {}),
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return rejected.length === 0 ? 0 : 1;
    } finally {
      await runtime.close();
    }
  },
};
