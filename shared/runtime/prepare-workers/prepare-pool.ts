import { Worker } from "node:worker_threads";
import type { IngestEvents, IngestSummary, PreparedBodies } from "#app/ingest-events.ts";
import type { EventBody } from "#domain/events/decode-body.ts";
import type { PriceCatalog, RegionFallback } from "#domain/pricing/catalog.ts";
import { type PreparedTransfer, unpackPrepared } from "./prepared-transfer.ts";

/** What every worker is given once, at start: the pricer's inputs. */
export interface PrepareWorkerData {
  catalog: PriceCatalog;
  regionFallback: RegionFallback | undefined;
}

export interface PrepareRequest {
  id: number;
  nowMs: number;
  bodies: readonly EventBody[];
}

export type PrepareResponse = { id: number; prepared: PreparedTransfer } | { id: number; error: string };

/**
 * Worker threads that decode, validate and price bodies of events (the pure part of an ingest), so
 * that this thread only writes: on two cores, the next insert is prepared while DuckDB writes the last.
 */
export interface PreparePool {
  readonly workers: number;
  /**
   * Calls worth having under way at once: one being written, one being prepared by each worker and
   * one more read ahead, so that no worker waits for the file.
   */
  readonly inFlight: number;
  prepare(bodies: readonly EventBody[], now: Date): Promise<PreparedBodies>;
  close(): Promise<void>;
}

export function createPreparePool(data: PrepareWorkerData, workers: number): PreparePool {
  if (!Number.isInteger(workers) || workers < 1)
    throw new RangeError(`a prepare pool needs 1 or more workers, not ${workers}`);
  const pending = new Map<
    number,
    { bodies: readonly EventBody[]; resolve: (p: PreparedBodies) => void; reject: (e: Error) => void }
  >();
  const failAll = (error: Error) => {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  const threads = Array.from({ length: workers }, () => {
    const worker = new Worker(new URL("./prepare-worker.ts", import.meta.url), { workerData: data });
    worker.on("message", (response: PrepareResponse) => {
      const request = pending.get(response.id);
      if (request === undefined) return;
      pending.delete(response.id);
      if ("error" in response) request.reject(new Error(`preparing events failed: ${response.error}`));
      else request.resolve(unpackPrepared(response.prepared, request.bodies));
    });
    worker.on("error", failAll);
    worker.on("exit", (code) => {
      if (pending.size > 0) failAll(new Error(`an ingest worker stopped (exit code ${code})`));
    });
    return worker;
  });
  let next = 0;
  return {
    workers,
    inFlight: workers + 2,
    prepare(bodies, now) {
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { bodies, resolve, reject });
        (threads[id % threads.length] as Worker).postMessage({ id, nowMs: now.getTime(), bodies });
      });
    },
    async close() {
      await Promise.all(threads.map((worker) => worker.terminate()));
    },
  };
}

/**
 * ingestBodies with the bodies prepared by the pool. Inserts start in the order of the calls, as
 * they would on one thread, whichever worker finishes first: the first copy of an event stays the
 * one that counts. Only the start is ordered, so one insert's answer overlaps the next's write.
 */
export function ingestPrepared(
  ingestEvents: IngestEvents,
  pool: PreparePool,
): (bodies: readonly EventBody[]) => Promise<IngestSummary[]> {
  let previous: Promise<unknown> = Promise.resolve();
  return (bodies) => {
    const prepared = pool.prepare(bodies, new Date());
    // Wrapped, so that awaiting the start does not also await the answers.
    const started = previous.then(async () => ({
      answers: ingestEvents.ingestBodies(bodies, await prepared),
    }));
    previous = started.catch(() => undefined);
    return started.then(({ answers }) => answers);
  };
}
