import { hash as digest } from "node:crypto";
import type { CostRow } from "#domain/cost-row.ts";
import { ALLOCATION_V1, type CostEvent } from "#domain/events/cloud-event.ts";
import { type DecodedItem, decodeEventBody, type EventBody } from "#domain/events/decode-body.ts";
import { parseCostEvent, type Rejection } from "#domain/events/parse.ts";
import { toCostRows } from "#domain/ingest/to-cost-rows.ts";
import type { Pricer } from "#domain/pricing/pricer.ts";

/** A rejected event, as the answer names it. */
export interface IngestRejection {
  /** Position of the event in the body (array index, or 0-based line of an NDJSON body). */
  index: number;
  id?: string;
  source?: string;
  /** Dotted path of the offending field ("data.gpu_seconds"), "body" for framing, "" for the whole event. */
  field: string;
  reason: string;
}

export interface Priced {
  index: number;
  /** The event as decoded, for a conflict's payload or the rejection should the warehouse refuse it. */
  raw: () => unknown;
  rows: CostRow[];
  /** The hash of the event as validated: what tells a duplicate from a conflict. */
  hash: string;
  /** Priced at a region's rate that is not its own (see IngestSummary.fallbackPriced). */
  fallback: boolean;
}

export interface Refused extends IngestRejection {
  eventType?: string;
  /** What is kept in rejected_events: the event's JSON, or the truncated body for framing errors. */
  payload: string;
  /** A body refused whole: its bytes as received, which is what goes to the dead-letter topic. */
  received?: Buffer;
}

/** How a body came, so that a body refused whole is dead-lettered as it can be replayed. */
export interface BodyFraming {
  contentType?: string;
  contentEncoding?: string;
}

/** An event stored before (or earlier in the insert) with another payload, and that copy's hash. */
export interface Conflict {
  priced: Priced;
  storedHash: string | null;
}

/** One body validated and priced, before anything of it is stored. */
export interface Prepared {
  received: number;
  framing: BodyFraming;
  refused: Refused[];
  priced: Priced[];
  /** Events repeated within the insert with the same payload (duplicates). */
  repeated: number;
  /** Events repeated within the insert with another payload. */
  conflicts: Conflict[];
}

function str(raw: unknown, key: string): string | undefined {
  if (raw === null || typeof raw !== "object" || !(key in raw)) return undefined;
  const value = (raw as Record<string, unknown>)[key];
  return typeof value === "string" ? value : undefined;
}

export function identity(raw: unknown): Pick<Refused, "id" | "source" | "eventType"> {
  const id = str(raw, "id");
  const source = str(raw, "source");
  const eventType = str(raw, "type");
  return {
    ...(id === undefined ? {} : { id }),
    ...(source === undefined ? {} : { source }),
    ...(eventType === undefined ? {} : { eventType }),
  };
}

function refusal(item: DecodedItem, rejection: Rejection): Refused {
  return { index: item.index, ...identity(item.raw), ...rejection, payload: item.text };
}

const bigintAsText = (_key: string, value: unknown) => (typeof value === "bigint" ? value.toString() : value);

/**
 * The hash that tells a resend from a conflict: of the event as validated, so layout does not
 * matter. Amounts (bigint) are written as their decimal text; an event without one needs no
 * replacer, which is the common case and several times cheaper. The envelope's `time` is written
 * as the text its Date.toJSON gives, in its place: the same JSON, but an object holding a Date
 * leaves V8's fast serializer, which costs more than the copy.
 */
export function payloadHash(event: CostEvent): string {
  const plain = !("cost_nanos" in event.data) && event.type !== ALLOCATION_V1;
  const envelope = { ...event, time: event.time.toJSON() };
  const text = plain ? JSON.stringify(envelope) : JSON.stringify(envelope, bigintAsText);
  return digest("sha256", text, "base64url").slice(0, 22);
}

/**
 * Decodes, validates and prices one body's events. `seen` holds the hash of each event kept so far
 * in this insert by source and id (the dedupe key), across the bodies before this one.
 */
function prepare(
  { body, contentType, contentEncoding }: EventBody,
  now: Date,
  pricer: Pricer,
  seen: Map<string, Map<string, Priced>>,
): Prepared {
  const decoded = decodeEventBody(body, contentType, contentEncoding);
  const refused: Refused[] = decoded.rejections.map((r) => ({ ...r }));
  const priced: Priced[] = [];
  let repeated = 0;
  const conflicts: Conflict[] = [];

  for (const item of decoded.items) {
    const parsed = parseCostEvent(item.raw, now);
    if (!parsed.ok) {
      refused.push(refusal(item, parsed.rejection));
      continue;
    }
    const { source, id } = parsed.event;
    const hash = payloadHash(parsed.event);
    let ids = seen.get(source);
    if (ids === undefined) {
      ids = new Map();
      seen.set(source, ids);
    }
    const first = ids.get(id);
    if (first !== undefined) {
      if (first.hash === hash) repeated += 1;
      else
        conflicts.push({
          priced: { index: item.index, raw: () => item.raw, rows: first.rows, hash, fallback: false },
          storedHash: first.hash,
        });
      continue;
    }
    const costed = toCostRows(parsed.event, pricer, now);
    if (!costed.ok) {
      refused.push(refusal(item, costed.rejection));
      continue;
    }
    for (const row of costed.rows) row.payload_hash = hash;
    const p: Priced = {
      index: item.index,
      raw: () => item.raw,
      rows: costed.rows,
      hash,
      fallback: costed.fallbackPriced,
    };
    ids.set(id, p);
    priced.push(p);
  }
  return {
    received: decoded.items.length + decoded.rejections.length,
    framing: {
      ...(contentType === undefined ? {} : { contentType }),
      ...(contentEncoding === undefined ? {} : { contentEncoding }),
    },
    refused,
    priced,
    repeated,
    conflicts,
  };
}

/**
 * Decodes, validates and prices the bodies of one insert, given in order: an event repeated in a
 * later body is a duplicate or a conflict of the earlier copy. Pure, so it runs on any thread.
 */
export function bodyPreparer(now: Date, pricer: Pricer): (body: EventBody) => Prepared {
  const seen = new Map<string, Map<string, Priced>>();
  return (body) => prepare(body, now, pricer, seen);
}
