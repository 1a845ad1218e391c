import { createReadStream } from "node:fs";
import { join } from "node:path";
import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import { stageCostRows } from "#adapters/duckdb/row-encoding.ts";
import { payloadHash } from "#app/ingest-events.ts";
import type { CostRow } from "#domain/cost-row.ts";
import type { CostEvent } from "#domain/events/cloud-event.ts";
import { decodeEventBody } from "#domain/events/decode-body.ts";
import { parseCostEvent } from "#domain/events/parse.ts";
import { toCostRows } from "#domain/ingest/to-cost-rows.ts";
import type { Pricer } from "#domain/pricing/pricer.ts";
import { eventBatches, LOCAL_BODIES_PER_CALL } from "../bin/commands/event-batches.ts";

export const STAGES = ["parse", "validate", "price", "encode", "write"] as const;
export type Stage = (typeof STAGES)[number];

export interface StageTimes {
  /** Wall seconds of each stage, run one after the other on one thread. */
  seconds: Record<Stage, number>;
  events: number;
}

/**
 * The ingest path taken apart, stage by stage, over the same file and in the pipeline's batches,
 * each stage timed alone: parse (read, split and JSON.parse), validate (schemas and the payload
 * hash), price (the catalog, cost rows), encode (the warehouse's columnar layout), write (DuckDB:
 * staging, dedupe against what is stored, the insert and its pending hours, commit; the encoding
 * it does again is taken off).
 */
export async function measureIngestStages(file: string, dir: string, pricer: Pricer): Promise<StageTimes> {
  const seconds: Record<Stage, number> = { parse: 0, validate: 0, price: 0, encode: 0, write: 0 };
  const warehouse = createDuckDbWarehouse({ path: join(dir, "stages.duckdb") });
  await warehouse.init();
  const now = new Date();
  let events = 0;
  let rows: CostRow[] = [];
  let bodies = 0;
  let at = performance.now();
  const lap = (stage: Stage) => {
    const t = performance.now();
    seconds[stage] += (t - at) / 1000;
    at = t;
  };
  const write = async () => {
    const start = performance.now();
    stageCostRows(rows);
    const encoded = performance.now();
    await warehouse.insertEvents(rows);
    const written = performance.now();
    seconds.encode += (encoded - start) / 1000;
    seconds.write += (written - encoded - (encoded - start)) / 1000;
    rows = [];
  };
  try {
    for await (const batch of eventBatches(createReadStream(file))) {
      const decoded = decodeEventBody(batch.body, batch.contentType);
      lap("parse");
      const valid: CostEvent[] = [];
      const hashes: string[] = [];
      for (const item of decoded.items) {
        const parsed = parseCostEvent(item.raw, now);
        if (!parsed.ok) continue;
        valid.push(parsed.event);
        hashes.push(payloadHash(parsed.event));
      }
      lap("validate");
      valid.forEach((event, i) => {
        const costed = toCostRows(event, pricer, now);
        if (!costed.ok) return;
        for (const row of costed.rows) {
          row.payload_hash = hashes[i] as string;
          rows.push(row);
        }
      });
      events += decoded.items.length;
      lap("price");
      bodies += 1;
      if (bodies % LOCAL_BODIES_PER_CALL === 0) await write();
      at = performance.now();
    }
    if (rows.length > 0) await write();
  } finally {
    await warehouse.close();
  }
  return { seconds, events };
}
