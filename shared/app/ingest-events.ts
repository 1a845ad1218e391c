import { createHash } from "node:crypto";
import type { CostRow } from "#domain/cost-row.ts";
import { type EventBody, truncatePayload } from "#domain/events/decode-body.ts";
import type { Pricer } from "#domain/pricing/pricer.ts";
import type { Bus, BusMessage } from "#ports/bus.ts";
import { BUS_LIMITS, truncateUtf8 } from "#ports/bus-error.ts";
import type { Clock } from "#ports/clock.ts";
import type { Logger } from "#ports/logger.ts";
import { isRetryableError } from "#ports/port-error.ts";
import type { ConflictRow, InsertResult, TimeRange, Warehouse } from "#ports/warehouse.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";
import {
  type BodyFraming,
  bodyPreparer,
  type Conflict,
  type IngestRejection,
  identity,
  type Prepared,
  type Priced,
  type Refused,
} from "./prepare-events.ts";

export type { IngestRejection, Refused } from "./prepare-events.ts";
export { payloadHash } from "./prepare-events.ts";

export interface IngestEventsDeps {
  warehouse: Warehouse;
  pricer: Pricer;
  clock: Clock;
  /** With `deadLetterTopic`, every rejected payload is also published there. */
  bus?: Bus;
  deadLetterTopic?: string;
  logger: Logger;
}

export interface IngestSummary {
  /** Events found in the body, good or bad (a body that cannot be read at all counts as one). */
  received: number;
  /** Events with at least one newly stored row. */
  accepted: number;
  /** Events already stored (or earlier in the same body) with the same payload: nothing to do. */
  duplicates: number;
  /**
   * Events whose (source, id) is already stored (or earlier in the same body) with another payload:
   * the first copy stays the one counted; this one is kept in conflicting_events, not counted.
   */
  conflicts: number;
  /**
   * Of the events accepted, those priced at a region's rate that is not their own: a region the
   * catalog does not price, at pricing.regionFallback's rate, or no region named, at the fallback or
   * the catalog's default region. Their rows' price_source names the region. Present when not zero.
   */
  fallbackPriced?: number;
  rejected: IngestRejection[];
  /** The span of event hours written, what a rollup refresh must cover; null when nothing new. */
  hours: TimeRange | null;
}

export interface IngestEvents {
  ingest(body: string | Buffer, contentType?: string, contentEncoding?: string): Promise<IngestSummary>;
  /**
   * Several bodies in one insert, one answer each: what a file ingest sends, so that the warehouse
   * writes large batches. The bodies answer as one body made of them all would, each for its own
   * events (an event repeated in a later body is a duplicate or a conflict of the earlier copy).
   */
  ingestBodies(bodies: readonly EventBody[], prepared?: PreparedBodies): Promise<IngestSummary[]>;
  /**
   * Keeps refusals a receiver made before there was an event to ingest (a LiteLLM payload with no
   * id), as the ingest keeps its own: each once in rejected_events, and on the dead-letter topic.
   */
  keepRefused(refused: readonly Refused[]): Promise<void>;
}

const HOUR_MS = 3600 * 1000;

const nothingStored = (): Stored => ({
  stored: 0,
  duplicateEvents: 0,
  conflicts: [],
  newRows: [],
  fallbackPriced: 0,
});

/** The whole UTC hours the rows fall in, as one half-open range; null for no rows. */
export function hoursOf(rows: readonly CostRow[]): TimeRange | null {
  if (rows.length === 0) return null;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const row of rows) {
    const t = row.event_time.getTime();
    if (t < min) min = t;
    if (t > max) max = t;
  }
  return {
    from: new Date(Math.floor(min / HOUR_MS) * HOUR_MS),
    to: new Date((Math.floor(max / HOUR_MS) + 1) * HOUR_MS),
  };
}

/** Bodies prepared for one insert (see bodyPreparer), and the time they were prepared at. */
export interface PreparedBodies {
  now: Date;
  bodies: readonly Prepared[];
}

/** What one insert of a body's events came to, event by event. */
interface Stored {
  /** Events the warehouse took (all, unless it refused some one by one). */
  stored: number;
  /** Of those, the events whose every row was already stored. */
  duplicateEvents: number;
  /** Of those, the events stored before with another payload, each with the stored copy's hash. */
  conflicts: Conflict[];
  /** The rows newly written. */
  newRows: CostRow[];
  /** Events newly written that were priced at a region's rate not their own. */
  fallbackPriced: number;
}

/**
 * Splits an insert's result by event: `priced` laid their rows out one event after another from
 * row `firstRow` of the insert, so the warehouse's duplicate and conflict row indexes fall in each
 * event's own range. An event is a conflict when its rows are, a duplicate when all its rows are.
 */
function byEvent(priced: readonly Priced[], result: InsertResult, firstRow = 0): Stored {
  const { duplicateRows, conflictRows } = result;
  if (duplicateRows.size === 0 && conflictRows.size === 0) {
    return {
      stored: priced.length,
      duplicateEvents: 0,
      conflicts: [],
      newRows: priced.flatMap((p) => p.rows),
      fallbackPriced: priced.filter((p) => p.fallback).length,
    };
  }
  let duplicateEvents = 0;
  let fallbackPriced = 0;
  const conflicts: Conflict[] = [];
  const newRows: CostRow[] = [];
  let offset = firstRow;
  for (const p of priced) {
    const conflict = conflictRows.get(offset);
    if (conflict !== undefined || conflictRows.has(offset)) {
      conflicts.push({ priced: p, storedHash: conflict ?? null });
      offset += p.rows.length;
      continue;
    }
    let fresh = 0;
    for (let r = 0; r < p.rows.length; r++) {
      if (duplicateRows.has(offset + r)) continue;
      newRows.push(p.rows[r] as CostRow);
      fresh += 1;
    }
    if (fresh === 0) duplicateEvents += 1;
    else if (p.fallback) fallbackPriced += 1;
    offset += p.rows.length;
  }
  return { stored: priced.length, duplicateEvents, conflicts, newRows, fallbackPriced };
}

/**
 * Names a rejection by what was refused, why, and where in its body, so a redelivery of the same
 * input stores it once while two bad copies in one body stay two.
 */
function rejectionKey(r: Refused): string {
  return createHash("sha256")
    .update(`${r.index}\n${r.field}\n${r.reason}\n`)
    .update(r.received ?? r.payload)
    .digest("base64url")
    .slice(0, 22);
}

/**
 * The HTTP status for a summary: 200 when nothing was rejected, 207 (Multi-Status) when some
 * events were rejected and others stored or already there, 400 when nothing could be taken
 * (empty or unreadable body, every event invalid). The body lists the rejections in each case.
 */
export function ingestStatus(summary: IngestSummary): 200 | 207 | 400 {
  if (summary.rejected.length === 0) return 200;
  return summary.accepted + summary.duplicates > 0 ? 207 : 400;
}

function isInvalid(error: unknown): error is WarehouseError {
  return error instanceof WarehouseError && error.code === "invalid";
}

/**
 * The ingest use case: decode a body, validate and price every event, store the good rows of the
 * whole body in one insert and the rejected ones in the rejected table (and on the dead-letter
 * topic). A bad event never costs the others their place. Transient warehouse and bus failures
 * propagate so the delivery is retried; a retry is harmless because rows dedupe on
 * (event_source, event_id, part).
 */
export function createIngestEvents(deps: IngestEventsDeps): IngestEvents {
  const { warehouse, pricer, clock, bus, deadLetterTopic, logger } = deps;

  /** Stores events one by one: what is left when the warehouse refuses a batch of them as invalid. */
  async function storeOneByOne(priced: readonly Priced[], refused: Refused[]): Promise<Stored> {
    const total = nothingStored();
    for (const p of priced) {
      try {
        const one = byEvent([p], await warehouse.insertEvents(p.rows));
        total.stored += 1;
        total.duplicateEvents += one.duplicateEvents;
        total.conflicts.push(...one.conflicts);
        total.fallbackPriced += one.fallbackPriced;
        total.newRows.push(...one.newRows);
      } catch (error) {
        if (!isInvalid(error)) throw error;
        refused.push({
          index: p.index,
          ...identity(p.raw()),
          field: "",
          reason: `event: the warehouse refused it (${error.message})`,
          payload: JSON.stringify(p.raw()) ?? "",
        });
      }
    }
    return total;
  }

  /**
   * Stores the priced events of every body in one insert, and tells each body its share of the
   * result. If the warehouse refuses the insert as invalid, body by body, event by event.
   */
  async function storeAll(prepared: readonly Prepared[]): Promise<Stored[]> {
    const priced =
      prepared.length === 1 ? (prepared[0] as Prepared).priced : prepared.flatMap((p) => p.priced);
    if (priced.length === 0) return prepared.map(nothingStored);
    const rows = priced.length === 1 ? (priced[0] as Priced).rows : priced.flatMap((p) => p.rows);
    let result: InsertResult;
    try {
      result = await warehouse.insertEvents(rows);
    } catch (error) {
      if (!isInvalid(error)) throw error;
      logger.warn("warehouse refused the batch; inserting event by event", { error: error.message });
      const stored: Stored[] = [];
      for (const p of prepared) stored.push(await storeOneByOne(p.priced, p.refused));
      return stored;
    }
    let firstRow = 0;
    return prepared.map((p) => {
      const stored = byEvent(p.priced, result, firstRow);
      for (const q of p.priced) firstRow += q.rows.length;
      return stored;
    });
  }

  /**
   * Publishes the rejections to the dead-letter topic. A permanent failure (no such topic) is
   * logged, not thrown: the rejection is kept in rejected_events either way, and a redelivery would
   * fail the same way. A transient one throws, so the input is delivered again.
   */
  async function deadLetter(refused: readonly Refused[], framing: BodyFraming): Promise<void> {
    if (!bus || !deadLetterTopic || refused.length === 0) return;
    const max = BUS_LIMITS.maxAttributeValueBytes;
    const messages: BusMessage[] = refused.map((r) => {
      // A body refused whole goes as received, so republishing it replays the input exactly.
      const raw =
        r.received !== undefined && r.received.length <= BUS_LIMITS.maxDataBytes ? r.received : undefined;
      return {
        data: raw ?? Buffer.from(r.payload, "utf8"),
        attributes: {
          ...(raw && framing.contentType ? { "content-type": truncateUtf8(framing.contentType, max) } : {}),
          ...(raw && framing.contentEncoding
            ? { "content-encoding": truncateUtf8(framing.contentEncoding, max) }
            : {}),
          ...(r.received && !raw ? { truncated: "true" } : {}),
          reason: truncateUtf8(r.reason, max),
          field: truncateUtf8(r.field || "event", max),
          index: String(r.index),
          ...(r.id === undefined ? {} : { event_id: truncateUtf8(r.id, max) }),
          ...(r.source === undefined ? {} : { event_source: truncateUtf8(r.source, max) }),
          ...(r.eventType === undefined ? {} : { event_type: truncateUtf8(r.eventType, max) }),
        },
      };
    });
    try {
      await bus.publish(deadLetterTopic, messages);
    } catch (error) {
      if (isRetryableError(error)) throw error;
      logger.error("cannot dead-letter rejected events; they are kept in rejected_events", {
        topic: deadLetterTopic,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /**
   * Keeps the rejections, each once: those already stored (a redelivery) are neither stored nor
   * dead-lettered again. Dead-lettered before they are stored, so a failure in between publishes
   * again on redelivery rather than never.
   */
  async function keepRejections(refused: readonly Refused[], now: Date, framing: BodyFraming): Promise<void> {
    if (refused.length === 0) return;
    const keyed = refused.map((r) => ({ refused: r, key: rejectionKey(r) }));
    const known = await warehouse.knownRejections(keyed.map((k) => k.key));
    const fresh = keyed.filter((k) => !known.has(k.key));
    if (fresh.length === 0) return;
    await deadLetter(
      fresh.map((k) => k.refused),
      framing,
    );
    await warehouse.insertRejected(
      fresh.map(({ refused: r, key }) => ({
        rejected_at: now,
        event_source: r.source ?? null,
        event_id: r.id ?? null,
        event_type: r.eventType ?? null,
        field: r.field,
        reason: r.reason,
        payload: truncatePayload(r.payload),
        rejection_key: key,
      })),
    );
  }

  async function keepConflicts(conflicts: Conflict[], now: Date): Promise<void> {
    if (conflicts.length === 0) return;
    const rows: ConflictRow[] = conflicts.map(({ priced, storedHash }) => {
      const first = priced.rows[0] as CostRow;
      return {
        received_at: now,
        event_source: first.event_source,
        event_id: first.event_id,
        event_type: first.event_type,
        stored_hash: storedHash,
        received_hash: priced.hash,
        payload: truncatePayload(JSON.stringify(priced.raw()) ?? ""),
      };
    });
    await warehouse.insertConflicts(rows);
    logger.warn("events came again with another payload; the first copies stay counted", {
      conflicts: rows.length,
      keys: rows.slice(0, 10).map((r) => `${r.event_source} ${r.event_id}`),
    });
  }

  /** Keeps a body's rejections and conflicts, and answers for it. */
  async function answer(body: Prepared, stored: Stored, now: Date): Promise<IngestSummary> {
    const { refused } = body;
    const accepted = stored.stored - stored.duplicateEvents - stored.conflicts.length;
    const { fallbackPriced } = stored;
    const duplicates = body.repeated + stored.duplicateEvents;
    const conflicts = [...body.conflicts, ...stored.conflicts];
    refused.sort((a, b) => a.index - b.index);
    await keepRejections(refused, now, body.framing);
    await keepConflicts(conflicts, now);

    const summary: IngestSummary = {
      received: body.received,
      accepted,
      duplicates,
      conflicts: conflicts.length,
      ...(fallbackPriced > 0 ? { fallbackPriced } : {}),
      rejected: refused.map(({ index, id, source, field, reason }) => ({
        index,
        ...(id === undefined ? {} : { id }),
        ...(source === undefined ? {} : { source }),
        field,
        reason,
      })),
      hours: hoursOf(stored.newRows),
    };
    logger.info("events ingested", {
      received: summary.received,
      accepted,
      duplicates,
      conflicts: conflicts.length,
      ...(fallbackPriced > 0 ? { fallbackPriced } : {}),
      rejected: refused.length,
      ...(refused.length > 0 ? { reasons: refused.slice(0, 10).map((r) => r.reason.slice(0, 200)) } : {}),
    });
    return summary;
  }

  async function prepareHere(bodies: readonly EventBody[]): Promise<PreparedBodies> {
    const now = clock.now();
    const prepare = bodyPreparer(now, pricer);
    const prepared: Prepared[] = [];
    for (const body of bodies) {
      // Between bodies, let the event loop run: the warehouse may be writing an earlier insert,
      // and each of its steps waits for this thread.
      if (prepared.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      prepared.push(prepare(body));
    }
    return { now, bodies: prepared };
  }

  async function ingestBodies(
    bodies: readonly EventBody[],
    given?: PreparedBodies,
  ): Promise<IngestSummary[]> {
    if (given !== undefined && given.bodies.length !== bodies.length)
      throw new Error(`${given.bodies.length} bodies prepared for ${bodies.length} given`);
    const { now, bodies: prepared } = given ?? (await prepareHere(bodies));
    const stored = await storeAll(prepared);
    const summaries: IngestSummary[] = [];
    for (const [i, body] of prepared.entries()) summaries.push(await answer(body, stored[i] as Stored, now));
    return summaries;
  }

  async function ingest(
    body: string | Buffer,
    contentType?: string,
    contentEncoding?: string,
  ): Promise<IngestSummary> {
    const [summary] = await ingestBodies([
      {
        body,
        ...(contentType === undefined ? {} : { contentType }),
        ...(contentEncoding === undefined ? {} : { contentEncoding }),
      },
    ]);
    return summary as IngestSummary;
  }

  async function keepRefused(refused: readonly Refused[]): Promise<void> {
    await keepRejections(refused, clock.now(), {});
  }

  return { ingest, ingestBodies, keepRefused };
}
