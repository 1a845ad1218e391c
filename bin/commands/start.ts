import { type Command, parseCommandArgs, parsePort, UsageError } from "../cli-args.ts";
import { runDemoWithAlerts } from "./demo-alerts.ts";
import { runDemoReconciliation } from "./demo-reconcile.ts";
import { type LocalSession, openLocalSession } from "./local-session.ts";

export const startCommand: Command = {
  name: "start",
  summary: "run the local stack: every function, DuckDB, in-process bus and scheduler, HTTP ingest",
  usage: `finops start [--port N] [--demo] [--hours N] [--seed S]

  Hosts every function in one process on http://127.0.0.1:PORT (default $PORT or 8080):
    GET /                    the cost dashboard in a browser (the list of functions, as JSON, otherwise)
    POST /v1/events          ingest CloudEvents (one, a JSON array, or NDJSON)
    POST /v1/traces          OTLP/HTTP traces (ingestTraces); with $FINOPS_INGEST_TOKEN set, only
                             with the header Authorization: Bearer <that token>
    POST /v1/litellm         LiteLLM's generic_api logging callback (ingestLiteLlm); the same
                             token rule as /v1/traces
    POST /<target>           any HTTP function, e.g. /ingestHttp, /refreshRollups, /collectAllocations,
                             /importMlflowRuns (the scheduled ones take POST only)
    POST /events/<target>    hand an event-driven function the CloudEvent the cloud would deliver
                             (binary or structured mode), e.g. a Pub/Sub messagePublished event
    GET /cli, /cli/<command> what the finops commands ask while this stack holds the warehouse
  The warehouse is DuckDB at $FINOPS_DUCKDB_PATH (default ./data/finops.duckdb). While the stack
  runs it holds that file, and writes <warehouse>.stack.json beside it (its URL and pid, removed when
  it stops): the other finops commands find it there and ask the stack instead of opening the file.
  Beyond local.maxInFlightBodies or local.maxInFlightBytes of bodies at once it answers 503 with
  Retry-After. Ctrl-C or SIGTERM: refuses new bodies, finishes those in flight, refreshes the rollup
  once more and exits (a second signal exits at once).

  --port     the port to listen on, 0..65535 (0: any free one; default $PORT, local.port or 8080)
  --demo     first stream a synthetic org's events through the bus, print a report, then show the
             budget, GCP budget, AWS anomaly and spend anomaly alerts and the reconciliation
             against the demo's bill (see finops demo --help)
  --hours    hours of demo history (default 48)
  --seed     demo seed (default "demo"). The history ends at the current hour: a rerun within the
             same hour gives the same events and adds nothing, a later one is a new history on
             top of the old (remove ./data first for a fresh start)`,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      port: { type: "string" },
      demo: { type: "boolean", default: false },
      hours: { type: "string", default: "48" },
      seed: { type: "string", default: "demo" },
    });
    const hours = Number(values.hours);
    if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 62)
      throw new UsageError("--hours: a whole number 1..1488");
    const port = values.port === undefined ? -1 : parsePort(values.port);
    let session: LocalSession;
    if (values.demo) {
      process.stdout.write(`Streaming ${hours} h of a synthetic org's events through the bus...\n`);
      const seed = values.seed ?? "demo";
      ({ session } = await runDemoWithAlerts({ port, hours, seed, out: process.stdout }));
      await runDemoReconciliation(session, { hours, seed, out: process.stdout });
    } else {
      session = await openLocalSession(port);
    }
    const { stack, runtime } = session;
    process.stdout.write(`${values.demo ? "\n" : ""}finops local stack listening on ${stack.url}\n`);
    process.stdout.write(
      `  warehouse: ${runtime.config.warehouse.kind} ${runtime.config.warehouse.duckdb.path}\n`,
    );
    process.stdout.write(`  functions: ${stack.targets.join(", ")}\n`);
    process.stdout.write(`  dashboard: ${stack.url}/ (open it in a browser)\n`);
    if (values.demo) {
      process.stdout.write(
        [
          "",
          "Try, from another terminal:",
          "  npx finops report --by business_unit,team      (commands find this stack and ask it)",
          `  npx finops demo --hours 2 --seed more --out - | curl -s ${stack.url}/v1/events -H 'content-type: application/x-ndjson' --data-binary @-`,
          "",
        ].join("\n"),
      );
    }
    process.stdout.write(`\nReady. Ctrl-C to stop.\n`);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve).once("SIGTERM", resolve);
    });
    process.stdout.write("stopping...\n");
    await stop(session);
    return 0;
  },
};

/**
 * Refuses new bodies, finishes those in flight, refreshes the rollup one last time (what the
 * ingest marked pending stays so even if it fails) and closes. A second signal stops at once.
 */
async function stop(session: LocalSession): Promise<void> {
  const now = () => process.exit(130);
  process.once("SIGINT", now).once("SIGTERM", now);
  await session.stack.drain();
  const refreshed = await session.stack.trigger("refreshRollups").then(
    async (res) => (res.ok ? undefined : `answered ${res.status}: ${await res.text()}`),
    (error: unknown) => String(error),
  );
  if (refreshed !== undefined) process.stderr.write(`finops start: the last rollup refresh ${refreshed}\n`);
  await session.close();
}
