import type { z } from "zod";
import { type CostEvent, dataSchemas, envelopeSchema } from "./cloud-event.ts";
import { fastCostEvent } from "./fast-parse.ts";

/** How far ahead of the receiver's clock an event time may be (clock skew), and how far back. */
export const MAX_FUTURE_MS = 15 * 60 * 1000;
export const MAX_PAST_MS = 400 * 24 * 3600 * 1000;

export interface Rejection {
  /** Dotted path of the offending field, e.g. "data.gpu_seconds"; "" for the whole event. */
  field: string;
  reason: string;
}

export type ParseResult = { ok: true; event: CostEvent } | { ok: false; rejection: Rejection };

function firstIssue(error: z.ZodError, prefix: string): Rejection {
  const issue = error.issues[0];
  const path = issue?.path.map(String).join(".") ?? "";
  const field = [prefix, path].filter(Boolean).join(".");
  return { field, reason: `${field || "event"}: ${issue?.message ?? "invalid"}` };
}

/** Why an event time cannot be taken at `now` (further ahead than clock skew, or too old); undefined when it can. */
export function timeOutOfRange(at: Date, now: Date): string | undefined {
  if (at.getTime() > now.getTime() + MAX_FUTURE_MS) return "is in the future";
  if (at.getTime() < now.getTime() - MAX_PAST_MS) return "is more than 400 days old";
  return undefined;
}

/** A rejection of an event time too far ahead of `now` or behind it; undefined when it is in range. */
function outOfRange(at: Date, time: string, now: Date): ParseResult | undefined {
  const why = timeOutOfRange(at, now);
  return why === undefined
    ? undefined
    : { ok: false, rejection: { field: "time", reason: `time: ${time} ${why}` } };
}

/**
 * Validates one structured-mode CloudEvent. Never throws: bad input becomes a Rejection naming the
 * field. Plainly valid inference and training events take the hand-written fast path; every other
 * event, and every rejection, is the schemas' (the same answer, sooner).
 */
export function parseCostEvent(raw: unknown, now: Date): ParseResult {
  const fast = fastCostEvent(raw);
  if (fast === undefined) return parseCostEventBySchema(raw, now);
  return outOfRange(fast.event.time, fast.time, now) ?? { ok: true, event: fast.event };
}

/** parseCostEvent by the zod schemas alone: the reference the fast path is held to. */
export function parseCostEventBySchema(raw: unknown, now: Date): ParseResult {
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) return { ok: false, rejection: firstIssue(envelope.error, "") };
  const { id, source, type, time, subject } = envelope.data;
  const at = new Date(time);
  const timeRejection = outOfRange(at, time, now);
  if (timeRejection !== undefined) return timeRejection;
  const data = dataSchemas[type].safeParse(envelope.data.data);
  if (!data.success) return { ok: false, rejection: firstIssue(data.error, "data") };
  const base = { id, source, time: at, ...(subject === undefined ? {} : { subject }) };
  return { ok: true, event: { ...base, type, data: data.data } as CostEvent };
}
