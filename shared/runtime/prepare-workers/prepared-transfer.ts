import type { PreparedBodies } from "#app/ingest-events.ts";
import type { BodyFraming, Conflict, Prepared, Priced, Refused } from "#app/prepare-events.ts";
import type { CostRow } from "#domain/cost-row.ts";
import { decodeEventBody, type EventBody } from "#domain/events/decode-body.ts";
import { packRows, type RowsTransfer, unpackRows } from "./rows-transfer.ts";

/** An event repeated with another payload within the insert: rare, so sent as it is. */
interface ConflictTransfer {
  index: number;
  raw: unknown;
  rows: CostRow[];
  hash: string;
  storedHash: string | null;
}

/** A body's share of a PreparedTransfer; its priced events' rows follow one another in `rows`. */
interface BodyTransfer {
  received: number;
  framing: BodyFraming;
  refused: Refused[];
  repeated: number;
  conflicts: ConflictTransfer[];
  index: Int32Array;
  rowCount: Int32Array;
  fallback: Uint8Array;
}

/** Prepared bodies as they cross from a worker: the rows of them all packed once. */
export interface PreparedTransfer {
  nowMs: number;
  bodies: BodyTransfer[];
  rows: RowsTransfer;
}

/** Prepared bodies laid out to be posted, and the buffers to transfer rather than copy. */
export function packPrepared({ now, bodies }: PreparedBodies): {
  message: PreparedTransfer;
  transfer: ArrayBuffer[];
} {
  const transfer: ArrayBuffer[] = [];
  const packed = bodies.map((body): BodyTransfer => {
    const n = body.priced.length;
    const index = new Int32Array(n);
    const rowCount = new Int32Array(n);
    const fallback = new Uint8Array(n);
    body.priced.forEach((p, i) => {
      index[i] = p.index;
      rowCount[i] = p.rows.length;
      fallback[i] = p.fallback ? 1 : 0;
    });
    transfer.push(index.buffer, rowCount.buffer, fallback.buffer);
    return {
      received: body.received,
      framing: body.framing,
      refused: body.refused,
      repeated: body.repeated,
      conflicts: body.conflicts.map(({ priced, storedHash }) => ({
        index: priced.index,
        raw: priced.raw(),
        rows: priced.rows,
        hash: priced.hash,
        storedHash,
      })),
      index,
      rowCount,
      fallback,
    };
  });
  const rows = packRows(bodies.flatMap((body) => body.priced.flatMap((p) => p.rows)));
  transfer.push(...rows.transfer);
  return { message: { nowMs: now.getTime(), bodies: packed, rows: rows.rows }, transfer };
}

/** A buffer that came through a structured clone as a plain Uint8Array. */
const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * The prepared bodies again, for the bodies they were prepared from. An event's decoded form is
 * needed only for a conflict or a refusal by the warehouse, so it is decoded again from its body then.
 */
export function unpackPrepared(message: PreparedTransfer, bodies: readonly EventBody[]): PreparedBodies {
  const rows = unpackRows(message.rows);
  let at = 0;
  const prepared = message.bodies.map((body, b): Prepared => {
    let decoded: Map<number, unknown> | undefined;
    const rawOf = (index: number) => () => {
      const { body: text, contentType, contentEncoding } = bodies[b] as EventBody;
      decoded ??= new Map(
        decodeEventBody(text, contentType, contentEncoding).items.map((i) => [i.index, i.raw]),
      );
      return decoded.get(index);
    };
    const priced: Priced[] = new Array(body.index.length);
    for (let i = 0; i < body.index.length; i++) {
      const count = body.rowCount[i] as number;
      const own = rows.slice(at, at + count);
      at += count;
      const index = body.index[i] as number;
      priced[i] = {
        index,
        raw: rawOf(index),
        rows: own,
        hash: (own[0] as CostRow).payload_hash as string,
        fallback: body.fallback[i] === 1,
      };
    }
    const conflicts = body.conflicts.map(
      ({ storedHash, ...c }): Conflict => ({
        priced: { index: c.index, raw: () => c.raw, rows: c.rows, hash: c.hash, fallback: false },
        storedHash,
      }),
    );
    return {
      received: body.received,
      framing: body.framing,
      refused: body.refused.map((r) =>
        r.received === undefined ? r : { ...r, received: asBuffer(r.received) },
      ),
      priced,
      repeated: body.repeated,
      conflicts,
    };
  });
  return { now: new Date(message.nowMs), bodies: prepared };
}
