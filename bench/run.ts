import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { argsErrorLine } from "../bin/cli-args.ts";
import { dashboardBytesLines, measureDashboardBytes } from "./dashboard-bytes.ts";
import { runFaultInjection } from "./faults.ts";
import { measureFreshness } from "./freshness.ts";
import { STAGES } from "./ingest-stages.ts";
import { measureIngestThroughput } from "./ingest-throughput.ts";
import { measureReportSeries } from "./report-series.ts";
import { measureSdkOverhead } from "./sdk-overhead.ts";

function usage(message: string): never {
  process.stderr.write(`bench: ${message} (try --help)\n`);
  process.exit(2);
}

function parseCommandLine() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        events: { type: "string" },
        rate: { type: "string", default: "2000" },
        seconds: { type: "string", default: "20" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    return usage(argsErrorLine(error));
  }
}

/** A flag's value as a number above 0 (a whole one when `whole`), or a usage error naming it. */
function positive(flag: string, text: string, whole: boolean): number {
  const value = Number(text);
  const ok = whole ? Number.isSafeInteger(value) : Number.isFinite(value);
  if (!ok || value <= 0 || text.trim() === "")
    usage(`--${flag}: ${JSON.stringify(text)} is not a ${whole ? "whole " : ""}number above 0`);
  return value;
}

const { values, positionals } = parseCommandLine();
if (values.help) {
  process.stdout.write(`npm run bench -- [--events N] [--rate EVENTS_PER_S] [--seconds S]
npm run bench -- faults [--events N]
npm run bench -- ingest [--events N]
npm run bench -- freshness [--rate EVENTS_PER_S] [--seconds S]
npm run bench -- dashboard-bytes

  1. Ingest throughput: --events synthetic events (default 200,000) through the whole path (parse,
     validate, price, dedupe, write to DuckDB), against DuckDB's own bulk NDJSON load of the same
     file, in the same run.
  2. Freshness: a steady stream at --rate (default 2,000 events/s) through the local stack for
     --seconds (default 20); time from publish to the event's cost showing in the report (live:
     the rollup and the hours not refreshed yet), p50 and p99.
  3. SDK overhead: an Express handler with and without the inference cost middleware, over
     loopback, medians of paired rounds.
  4. Report series: a week of spend per team by hour on the demo org, as 168 one-hour reports and as
     one report grouped by hour (what the budget forecast reads), checked equal.
  5. Dashboard bytes on BigQuery: what one dashboard load reads at the seed's scale (2,000
     requests/s), query by query, from the columns read, their measured sizes and the partitions
     left by the layout; and what 100 loads a day cost a month.
  Figures are printed side by side; nothing passes or fails on absolute times.

  ingest, freshness, dashboard-bytes: that section alone.

  faults: the fault-injection run instead. Four producers post --events events (default 60,000 in
  bodies of 500, every 20th body twice) to the local stack as a process, which is killed with -9
  twice while bodies are in flight and restarted; unanswered bodies are resent. Prints events sent,
  acknowledged, stored, lost and doubled, and the reported total against the expected one.
`);
  process.exit(0);
}

async function printFaultRun(dir: string, events: number): Promise<void> {
  process.stdout.write(`Fault injection: ${events} events, kill -9 of the local stack twice mid-stream...\n`);
  const f = await runFaultInjection(dir, { events, perBody: 500, producers: 4, kills: 2 });
  const usd = (nanos: bigint) =>
    `${nanos / 1_000_000_000n}.${String(nanos % 1_000_000_000n).padStart(9, "0")}`;
  process.stdout.write(
    [
      `  events sent ${f.events.toLocaleString("en-US")} in ${f.posts} posts (${f.acknowledged} acknowledged, ${f.unanswered} unanswered and resent), ${f.kills} kills`,
      `  stored ${f.stored.toLocaleString("en-US")} events; lost ${f.lost}; doubled ${f.doubled}`,
      `  reported ${usd(f.reportedNanos)} USD, expected ${usd(f.expectedNanos)} USD: ${f.reportedNanos === f.expectedNanos ? "exact" : "DIFFERENT"}`,
      `  (${f.seconds.toFixed(1)} s)`,
      "",
    ].join("\n"),
  );
}

async function printIngestRun(dir: string, count: number): Promise<void> {
  process.stdout.write(`Ingest throughput, ${count} events (generating, then ingesting)...\n`);
  const t = await measureIngestThroughput(dir, count);
  const bulkRate = t.events / t.bulkLoad.seconds;
  const [inline] = t.pipelines;
  const stageSum = STAGES.reduce((sum, stage) => sum + t.stages.seconds[stage], 0);
  const writeRate = t.events / t.stages.seconds.write;
  const perEvent = (seconds: number) => `${((seconds / t.events) * 1e6).toFixed(2).padStart(6)} µs/event`;
  process.stdout.write(
    [
      ...t.pipelines.flatMap((run) => {
        const rate = t.events / run.seconds;
        const where =
          run.workers === 0
            ? "main thread only"
            : `${run.workers} worker thread${run.workers === 1 ? "" : "s"}`;
        return [
          `  pipeline (parse, validate, price, dedupe, write), ${where}: ${Math.round(rate).toLocaleString("en-US")} events/s (${run.seconds.toFixed(2)} s, CPU ${run.cpuSeconds.toFixed(2)} s, CPU / wall ${(run.cpuSeconds / run.seconds).toFixed(2)}, main thread busy ${(100 * run.mainBusy).toFixed(0)}%)`,
          `    ratio to the bulk load: ${(rate / bulkRate).toFixed(2)}`,
        ];
      }),
      `  DuckDB bulk NDJSON load (read_json): ${Math.round(bulkRate).toLocaleString("en-US")} rows/s (${t.bulkLoad.seconds.toFixed(2)} s, CPU ${t.bulkLoad.cpuSeconds.toFixed(2)} s)`,
      `  hourly rollup refresh afterwards:                 ${t.rollupSeconds.toFixed(2)} s`,
      `  close afterwards (final checkpoint of the log):   ${t.closeSeconds.toFixed(2)} s`,
      "  by stage, each alone on one thread (the pipeline overlaps them):",
      ...STAGES.map(
        (stage) =>
          `    ${stage.padEnd(9)} ${perEvent(t.stages.seconds[stage])} ${((100 * t.stages.seconds[stage]) / stageSum).toFixed(0).padStart(3)}%`,
      ),
      `    all       ${perEvent(stageSum)}; the main-thread pipeline took ${(((inline?.seconds ?? Number.NaN) / stageSum) * 100).toFixed(0)}% of that`,
      `  the write stage alone (DuckDB storing the rows in cost_events' layout, with the dedupe and pending hours): ${Math.round(writeRate).toLocaleString("en-US")} rows/s, ratio ${(writeRate / bulkRate).toFixed(2)} to the bulk load: the ceiling for the whole path, with every other stage hidden behind it`,
      "",
    ].join("\n"),
  );
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

async function printFreshness(dir: string, rate: number, seconds: number): Promise<void> {
  process.stdout.write(`Freshness at ${rate} events/s for ${seconds} s through the local stack...\n`);
  const f = await measureFreshness(dir, rate, seconds);
  process.stdout.write(
    [
      `  published ${f.eventsPublished} events, ${f.probes} probes, ${f.seen} seen in the report`,
      `  publish → report latency: p50 ${quantile(f.latenciesMs, 0.5).toFixed(0)} ms, p99 ${quantile(f.latenciesMs, 0.99).toFixed(0)} ms, max ${quantile(f.latenciesMs, 1).toFixed(0)} ms`,
      "",
    ].join("\n"),
  );
}

function printDashboardBytes(): void {
  process.stdout.write("Dashboard bytes on BigQuery at the seed's scale (computed from the layout)...\n");
  process.stdout.write([...dashboardBytesLines(measureDashboardBytes()), ""].join("\n"));
}
const RUNS = ["faults", "ingest", "freshness", "dashboard-bytes"];
if (positionals.length > 1) usage(`one run at a time, not ${positionals.join(" ")}`);
if (positionals[0] !== undefined && !RUNS.includes(positionals[0]))
  usage(`unknown run ${positionals[0]}: one of ${RUNS.join(", ")}`);
const eventsGiven = values.events === undefined ? undefined : positive("events", values.events, true);
const events = (fallback: number) => eventsGiven ?? fallback;
const rate = positive("rate", values.rate, false);
const seconds = positive("seconds", values.seconds, false);

const dir = mkdtempSync(join(tmpdir(), "finops-bench-"));
if (positionals[0] === "faults") {
  try {
    await printFaultRun(dir, events(60_000));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}
const sections: Record<string, () => Promise<void> | void> = {
  ingest: () => printIngestRun(dir, events(200_000)),
  freshness: () => printFreshness(dir, rate, seconds),
  "dashboard-bytes": printDashboardBytes,
};
const section = positionals[0] === undefined ? undefined : sections[positionals[0]];
if (section !== undefined) {
  try {
    await section();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}
try {
  await printIngestRun(dir, events(200_000));

  await printFreshness(dir, rate, seconds);

  process.stdout.write("SDK per-request overhead (Express, loopback, paired rounds)...\n");
  const o = await measureSdkOverhead({ requests: 5000 });
  process.stdout.write(
    [
      `  without middleware ${o.baselineUsPerRequest.toFixed(1)} µs/request, with ${o.instrumentedUsPerRequest.toFixed(1)} µs/request: +${o.overheadUsPerRequest.toFixed(1)} µs`,
      `  the recorder alone (no HTTP): ${o.recorderUsPerCall.toFixed(1)} µs/call; ${o.eventsSent} events sent in ${o.batchesSent} batches, ${o.eventsDropped} dropped`,
      "",
    ].join("\n"),
  );

  process.stdout.write("Report series: a week by hour, per-hour reports against one grouped report...\n");
  const r = await measureReportSeries();
  process.stdout.write(
    [
      `  ${r.hours} one-hour reports: ${r.perHourSeconds.toFixed(2)} s; one report by hour: ${r.groupedSeconds.toFixed(2)} s`,
      `  ratio per-hour / grouped: ${(r.perHourSeconds / r.groupedSeconds).toFixed(1)}; same figures to the nano: ${r.same ? "yes" : "NO"}`,
      "",
    ].join("\n"),
  );

  printDashboardBytes();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
