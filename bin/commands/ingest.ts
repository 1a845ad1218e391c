import { createReadStream, ReadStream, statSync } from "node:fs";
import type { Readable } from "node:stream";
import { loadCatalog } from "#runtime/compose.ts";
import { createPreparePool, ingestPrepared } from "#runtime/prepare-workers/prepare-pool.ts";
import { type Command, CommandFailure, parseCommandArgs, UsageError, urlFlagHelp } from "../cli-args.ts";
import { systemReason } from "../error-boundary.ts";
import { processOutput } from "../operation.ts";
import { commandConfig, stackToAsk, withLocalRuntime } from "../run-operation.ts";
import { postEvents, refreshStackRollups } from "../stack-client.ts";
import { BATCH_LINES, type IngestBodies, ingestStream, LOCAL_BODIES_PER_CALL } from "./event-batches.ts";

const SHOWN_REJECTIONS = 100;

/** The input: stdin for -, else the file, checked to be one that can be read before anything is opened. */
async function openInput(path: string): Promise<Readable> {
  if (path === "-") return process.stdin;
  let folder = false;
  try {
    folder = statSync(path).isDirectory();
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${systemReason(error as NodeJS.ErrnoException)}`);
  }
  if (folder)
    throw new UsageError(`${path} is a folder; give a file of events (NDJSON or JSON), or - for stdin`);
  const input = createReadStream(path);
  await new Promise<void>((resolve, reject) =>
    input.once("open", () => resolve()).once("error", reject),
  ).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${path}: ${systemReason(error)}`);
  });
  return input;
}

/** A gzip input that breaks off or is corrupt, said with the file and what a resend does; undefined for anything else. */
function brokenGzip(path: string, error: unknown): CommandFailure | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string" || !code.startsWith("Z_")) return undefined;
  return new CommandFailure(
    `${path === "-" ? "standard input" : path}: not a whole gzip stream (${(error as Error).message}); ` +
      "the bodies the progress lines counted are stored, and sending a whole file again adds only the rest",
  );
}

export const ingestCommand: Command = {
  name: "ingest",
  summary: "load NDJSON or JSON-array CloudEvents from a file or stdin and print a JSON summary",
  usage: `finops ingest <file|-> [--quiet] [--workers N] [--url URL]

  Reads CloudEvents (one JSON object per line, one JSON array, or one pretty-printed event; gzip
  inflated) from a file, or from stdin with -, ingests them in batches of ${BATCH_LINES} lines (validate,
  price, dedupe, store; ${LOCAL_BODIES_PER_CALL} batches per insert when no stack runs), refreshes the hourly
  rollup and prints {received, accepted, duplicates, conflicts, rejected, rejections[]} as JSON on
  stdout. Progress (events/s, how far through the file) goes to stderr. Exit code 0 when nothing was
  rejected, 1 otherwise.

  --quiet    no progress lines
  --workers  threads that validate and price while the main thread writes, when no stack runs
             (default 0: all on the main thread). For a machine with an idle core: where every
             core is busy, handing the rows across costs more than the overlap wins
${urlFlagHelp(13, ", posting to its /v1/events")}`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      { quiet: { type: "boolean", default: false }, workers: { type: "string" }, url: { type: "string" } },
      true,
    );
    const [path] = positionals;
    if (path === undefined || positionals.length > 1) throw new UsageError("give one file, or - for stdin");
    const workers = Number(values.workers ?? 0);
    if (!/^\d+$/.test(values.workers?.trim() ?? "0") || workers > 64)
      throw new UsageError(`--workers: ${JSON.stringify(values.workers)} is not a whole number 0..64`);
    const input = await openInput(path);
    const { env, config } = commandConfig();
    const stack = await stackToAsk(values.url, config);
    // How far through a file the ingested bodies reach (gzip: in its compressed bytes), for the progress.
    const size = input instanceof ReadStream ? statSync(path).size : 0;
    let reached = 0;
    const done = () => (size > 0 ? `, ${Math.floor((100 * reached) / size)}% of ${path}` : "");
    const tracked =
      (ingest: IngestBodies): IngestBodies =>
      async (bodies) => {
        const at = input instanceof ReadStream ? input.bytesRead : 0;
        const answers = await ingest(bodies);
        reached = Math.max(reached, at);
        return answers;
      };
    const run = async (
      ingest: IngestBodies,
      calls: { bodiesPerCall: number; inFlight?: number },
      refresh: () => Promise<unknown>,
    ) => {
      const began = performance.now();
      const totals = await ingestStream(tracked(ingest), input, {
        ...calls,
        onBatch(t) {
          if (values.quiet) return;
          const rate = Math.round(t.received / ((performance.now() - began) / 1000));
          processOutput.err(
            `ingested ${t.received} events (${t.accepted} accepted, ${t.duplicates} duplicates, ${t.conflicts > 0 ? `${t.conflicts} conflicts, ` : ""}${t.rejected.length} rejected) ${rate}/s${done()}\n`,
          );
        },
      }).catch((error: unknown) => {
        throw brokenGzip(path, error) ?? error;
      });
      await refresh();
      const { rejected, ...counts } = totals;
      const out = {
        ...counts,
        rejected: rejected.length,
        rejections: rejected.slice(0, SHOWN_REJECTIONS),
        ...(rejected.length > SHOWN_REJECTIONS
          ? { rejections_not_shown: rejected.length - SHOWN_REJECTIONS }
          : {}),
      };
      await processOutput.out(`${JSON.stringify(out, null, 2)}\n`);
      return rejected.length === 0 ? 0 : 1;
    };
    if (stack !== undefined) {
      return run(
        async (bodies) => {
          const answers = [];
          for (const { body, contentType } of bodies)
            answers.push(await postEvents(stack, body, contentType));
          return answers;
        },
        { bodiesPerCall: 1 },
        () => refreshStackRollups(stack),
      );
    }
    return withLocalRuntime({ env, config, mustExist: false }, async (runtime) => {
      const refresh = () => runtime.refreshRollups.refresh();
      if (workers === 0)
        return run(
          (bodies) => runtime.ingestEvents.ingestBodies(bodies),
          { bodiesPerCall: LOCAL_BODIES_PER_CALL },
          refresh,
        );
      const pool = createPreparePool(
        {
          catalog: loadCatalog(config),
          regionFallback: config.pricing.regionFallback,
        },
        workers,
      );
      try {
        return await run(
          ingestPrepared(runtime.ingestEvents, pool),
          { bodiesPerCall: LOCAL_BODIES_PER_CALL, inFlight: pool.inFlight },
          refresh,
        );
      } finally {
        await pool.close();
      }
    });
  },
};
