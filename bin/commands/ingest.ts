import { createReadStream } from "node:fs";
import { composeRuntime } from "#runtime/compose.ts";
import { type Command, parseCommandArgs, UsageError } from "../cli-args.ts";
import { BATCH_LINES, ingestStream } from "./event-batches.ts";

const SHOWN_REJECTIONS = 100;

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
    const { values, positionals } = parseCommandArgs(
      argv,
      { quiet: { type: "boolean", default: false } },
      true,
    );
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
    const began = performance.now();
    try {
      const totals = await ingestStream(
        (body, contentType) => runtime.ingestEvents.ingest(body, contentType),
        input,
        {
          onBatch(t) {
            if (values.quiet) return;
            const rate = Math.round(t.received / ((performance.now() - began) / 1000));
            process.stderr.write(
              `ingested ${t.received} events (${t.accepted} accepted, ${t.duplicates} duplicates, ${t.rejected.length} rejected) ${rate}/s\n`,
            );
          },
        },
      );
      await runtime.refreshRollups.refresh();
      const { rejected, ...counts } = totals;
      const out = {
        ...counts,
        rejected: rejected.length,
        rejections: rejected.slice(0, SHOWN_REJECTIONS),
        ...(rejected.length > SHOWN_REJECTIONS
          ? { rejections_not_shown: rejected.length - SHOWN_REJECTIONS }
          : {}),
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return rejected.length === 0 ? 0 : 1;
    } finally {
      await runtime.close();
    }
  },
};
