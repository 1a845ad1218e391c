import { parentPort, workerData } from "node:worker_threads";
import { bodyPreparer } from "#app/prepare-events.ts";
import type { EventBody } from "#domain/events/decode-body.ts";
import { createPricer } from "#domain/pricing/pricer.ts";
import type { PrepareRequest, PrepareResponse, PrepareWorkerData } from "./prepare-pool.ts";
import { packPrepared } from "./prepared-transfer.ts";

/** A worker thread of the prepare pool: validates and prices the bodies it is sent. */
const { catalog, regionFallback } = workerData as PrepareWorkerData;
const pricer = createPricer(catalog, regionFallback === undefined ? {} : { regionFallback });
const port = parentPort;
if (port === null) throw new Error("prepare-worker.ts runs as a worker thread");

/** A Buffer body comes through the clone as a plain Uint8Array. */
function asEventBody(body: EventBody): EventBody {
  if (typeof body.body === "string" || Buffer.isBuffer(body.body)) return body;
  const bytes = body.body as Uint8Array;
  return { ...body, body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

port.on("message", ({ id, nowMs, bodies }: PrepareRequest) => {
  let response: PrepareResponse;
  let transfer: ArrayBuffer[] = [];
  try {
    const now = new Date(nowMs);
    const prepare = bodyPreparer(now, pricer);
    const packed = packPrepared({ now, bodies: bodies.map((body) => prepare(asEventBody(body))) });
    response = { id, prepared: packed.message };
    transfer = packed.transfer;
  } catch (error) {
    response = { id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(response, transfer);
});
