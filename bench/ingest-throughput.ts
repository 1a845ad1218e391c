import { createReadStream, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { syntheticInferenceEvents } from "#domain/demo/load-events.ts";
import { parsePriceCatalog } from "#domain/pricing/catalog.ts";
import { createPricer } from "#domain/pricing/pricer.ts";
import { composeRuntime } from "#runtime/compose.ts";
import { readEnv } from "#runtime/env.ts";
import { createPreparePool, ingestPrepared } from "#runtime/prepare-workers/prepare-pool.ts";
import { ingestStream, LOCAL_BODIES_PER_CALL } from "../bin/commands/event-batches.ts";
import { measureIngestStages, type StageTimes } from "./ingest-stages.ts";

/** A phase's wall time and the CPU time the process spent in it (every thread, DuckDB's included). */
export interface Timed {
  seconds: number;
  cpuSeconds: number;
}

/** One run of the whole path over the file. */
export interface PipelineRun extends Timed {
  /** Worker threads that prepared the bodies while the main thread wrote; 0: all on the main thread. */
  workers: number;
  /** The share of the run's wall time the main thread's event loop was busy. */
  mainBusy: number;
}

export interface ThroughputResult {
  events: number;
  /** All on the main thread (what `finops ingest` does by default), then with a worker. */
  pipelines: PipelineRun[];
  /** After the first run: the hourly rollup's refresh, and closing the warehouse (its final checkpoint). */
  rollupSeconds: number;
  closeSeconds: number;
  bulkLoad: Timed;
  stages: StageTimes;
}

async function timed<T>(work: () => Promise<T>): Promise<Timed & { value: T }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = await work();
  const used = process.cpuUsage(cpu);
  return {
    value,
    seconds: (performance.now() - start) / 1000,
    cpuSeconds: (used.user + used.system) / 1e6,
  };
}

/**
 * The whole ingest path (parse, validate, price, dedupe, write) as `finops ingest <file>` runs it,
 * against DuckDB's own bulk NDJSON reader over the same file, then the path taken apart by stage.
 */
export async function measureIngestThroughput(dir: string, count: number): Promise<ThroughputResult> {
  const from = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 6 * 3_600_000);
  const file = join(dir, "events.ndjson");
  writeFileSync(
    file,
    `${syntheticInferenceEvents(count, "bench", { from })
      .map((e) => JSON.stringify(e))
      .join("\n")}\n`,
  );

  const catalog = parsePriceCatalog(
    JSON.parse(readFileSync(new URL("../config/price-catalog.json", import.meta.url), "utf8")),
  );
  const pricer = createPricer(catalog);
  const pipelines: PipelineRun[] = [];
  let rollupSeconds = 0;
  let closeSeconds = 0;
  for (const workers of [0, 1]) {
    const env = readEnv({
      FINOPS_DUCKDB_PATH: join(dir, `pipeline-${workers}.duckdb`),
      FINOPS_LOG_LEVEL: "warn",
    });
    const runtime = await composeRuntime({ env, pricer });
    const pool =
      workers === 0 ? undefined : createPreparePool({ catalog, regionFallback: undefined }, workers);
    const loop = performance.eventLoopUtilization();
    const pipeline = await timed(() =>
      ingestStream(
        pool
          ? ingestPrepared(runtime.ingestEvents, pool)
          : (bodies) => runtime.ingestEvents.ingestBodies(bodies),
        createReadStream(file),
        { bodiesPerCall: LOCAL_BODIES_PER_CALL, ...(pool ? { inFlight: pool.inFlight } : {}) },
      ),
    ).finally(() => pool?.close());
    const mainBusy = performance.eventLoopUtilization(loop).utilization;
    if (pipeline.value.accepted !== count)
      throw new Error(`pipeline accepted ${pipeline.value.accepted} of ${count} events`);
    pipelines.push({ seconds: pipeline.seconds, cpuSeconds: pipeline.cpuSeconds, workers, mainBusy });
    if (workers === 0) {
      rollupSeconds = (await timed(() => runtime.refreshRollups.refresh())).seconds;
      closeSeconds = (await timed(() => runtime.close())).seconds;
    } else await runtime.close();
  }

  const instance = await DuckDBInstance.create(join(dir, "bulk.duckdb"));
  const connection = await instance.connect();
  const bulkLoad = await timed(() =>
    connection.run(`CREATE TABLE raw AS SELECT * FROM read_json('${file}', format = 'newline_delimited')`),
  );
  const loaded = await connection.runAndReadAll("SELECT count(*) FROM raw");
  connection.closeSync();
  instance.closeSync();
  if (Number(loaded.getRows()[0]?.[0]) !== count) throw new Error("bulk load lost rows");

  return {
    events: count,
    pipelines,
    rollupSeconds,
    closeSeconds,
    bulkLoad,
    stages: await measureIngestStages(file, dir, pricer),
  };
}
