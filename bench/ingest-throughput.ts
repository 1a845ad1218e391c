import { createReadStream, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { syntheticInferenceEvents } from "#domain/demo/load-events.ts";
import { composeRuntime } from "#runtime/compose.ts";
import { readEnv } from "#runtime/env.ts";
import { ingestStream } from "../bin/commands/event-batches.ts";

export interface ThroughputResult {
  events: number;
  pipelineSeconds: number;
  rollupSeconds: number;
  /** Closing the warehouse afterwards: the final checkpoint of the write-ahead log into the file. */
  closeSeconds: number;
  bulkLoadSeconds: number;
}

/** The whole ingest path (parse, validate, price, dedupe, write) against DuckDB's own bulk NDJSON reader. */
export async function measureIngestThroughput(dir: string, count: number): Promise<ThroughputResult> {
  const from = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 6 * 3_600_000);
  const file = join(dir, "events.ndjson");
  writeFileSync(
    file,
    `${syntheticInferenceEvents(count, "bench", { from })
      .map((e) => JSON.stringify(e))
      .join("\n")}\n`,
  );

  const env = readEnv({ FINOPS_DUCKDB_PATH: join(dir, "pipeline.duckdb"), FINOPS_LOG_LEVEL: "warn" });
  const runtime = await composeRuntime({ env });
  const t0 = performance.now();
  const { accepted } = await ingestStream(
    (body, contentType) => runtime.ingestEvents.ingest(body, contentType),
    createReadStream(file),
  );
  const t1 = performance.now();
  await runtime.refreshRollups.refresh();
  const t2 = performance.now();
  await runtime.close();
  const tClosed = performance.now();
  if (accepted !== count) throw new Error(`pipeline accepted ${accepted} of ${count} events`);

  const instance = await DuckDBInstance.create(join(dir, "bulk.duckdb"));
  const connection = await instance.connect();
  const t3 = performance.now();
  await connection.run(
    `CREATE TABLE raw AS SELECT * FROM read_json('${file}', format = 'newline_delimited')`,
  );
  const t4 = performance.now();
  const loaded = await connection.runAndReadAll("SELECT count(*) FROM raw");
  connection.closeSync();
  instance.closeSync();
  if (Number(loaded.getRows()[0]?.[0]) !== count) throw new Error("bulk load lost rows");

  return {
    events: count,
    pipelineSeconds: (t1 - t0) / 1000,
    rollupSeconds: (t2 - t1) / 1000,
    closeSeconds: (tClosed - t2) / 1000,
    bulkLoadSeconds: (t4 - t3) / 1000,
  };
}
