import { createHash } from "node:crypto";
import type { Deployment } from "#domain/otlp/deployments.ts";
import {
  type BusySpan,
  exportWindow,
  type ShareWindow,
  shareWindowBusyTime,
} from "#domain/otlp/gpu-share.ts";
import { keptOfSpan } from "#domain/otlp/kept-span.ts";
import {
  type CloudEventJson,
  classifySpan,
  OTLP_EVENT_SOURCE,
  type SpanUse,
  spanEventId,
  spanTimeRefusal,
} from "#domain/otlp/span-events.ts";
import type { OtlpSpan, TraceExport } from "#domain/otlp/spans.ts";
import type { Clock } from "#ports/clock.ts";
import type { Logger } from "#ports/logger.ts";
import type { TracePartialSuccess } from "#ports/otlp-codec.ts";
import { MIN_SEEN_VALUE, type SeenStore } from "#ports/seen-store.ts";
import type { IngestEvents, Refused } from "./ingest-events.ts";

/**
 * The OTLP traces receiver's use case: turns an export's spans into ai.cost.inference.v1 events (one
 * per span, see #domain/otlp/span-events.ts), hands each replica's requests their share of its busy
 * time (see #domain/otlp/gpu-share.ts), and gives the events to the ingest use case, so validation,
 * pricing, dedupe, conflicts and the one view apply unchanged. A span refused before it becomes an
 * event is named in the answer's partial success and the log, and kept once in rejected_events (and
 * dead-lettered) as keptOfSpan reduces it: never a prompt or an answer the span carried.
 *
 * Each replica's windows are claimed in the seen-store beside the warehouse:
 * - `otlp:mark:<deployment>:<replica>` is the high-water mark, the end of the last window handed out
 *   (a claim raises it atomically and answers what was there, so concurrent exports get disjoint
 *   windows);
 * - `otlp:window:<deployment>:<replica>:<spans>` remembers where the window of one export (named by
 *   its span ids) started, so the exporter's retry of that export gets the same window, the same
 *   shares and so the same events: duplicates, never a second count and never a conflict. It is
 *   first claimed at the lowest value, which says "being handed out"; an export found in that state
 *   (a crash between the two claims) is treated as new and gets the window past the mark: nothing,
 *   which keeps the bound.
 */

export interface IngestTracesDeps {
  ingestEvents: Pick<IngestEvents, "ingest" | "keepRefused">;
  seen: SeenStore;
  deployments: readonly Deployment[];
  clock: Clock;
  logger: Logger;
}

export interface TraceIngestAnswer {
  /** Spans in the export (a span repeated in it counts once). */
  spans: number;
  /** Spans with no cost meaning, counted and ignored. */
  ignored: number;
  /** Events stored, already stored (a retried export), or stored before with another payload. */
  accepted: number;
  duplicates: number;
  conflicts: number;
  /** What the OTLP answer says about the spans refused; absent when none was. */
  partialSuccess?: TracePartialSuccess;
}

export interface IngestTraces {
  ingest(request: TraceExport): Promise<TraceIngestAnswer>;
}

/** Events per ingest call: a body well under the ingest path's 10 MB bound. */
const EVENTS_PER_BODY = 2000;
/** Refusals named in the answer's error message (the count covers them all). */
const NAMED_REFUSALS = 10;

interface Refusal {
  span: OtlpSpan;
  reason: string;
}

type GpuUse = Extract<SpanUse, { use: "gpu" }>;

function digest(text: string, length = 32): string {
  return createHash("sha256").update(text).digest("base64url").slice(0, length);
}

function describe(refusal: Refusal): string {
  return `span ${refusal.span.traceId}/${refusal.span.spanId} (${refusal.span.name}): ${refusal.reason}`;
}

export function createIngestTraces(deps: IngestTracesDeps): IngestTraces {
  const { ingestEvents, seen, deployments, clock, logger } = deps;

  /** The window this export's spans of one replica share: reused on a retry, else claimed past the mark. */
  async function windowFor(uses: readonly GpuUse[]): Promise<ShareWindow> {
    const first = uses[0] as GpuUse;
    const busy = uses.map((u) => u.busy);
    const replica = digest(first.replica, 16);
    const keys = busy.map((b) => b.key).sort();
    const exportKey = `otlp:window:${first.deployment.name}:${replica}:${digest(keys.join("\n"))}`;
    const markKey = `otlp:mark:${first.deployment.name}:${replica}`;
    const prior = await seen.claim(exportKey, MIN_SEEN_VALUE);
    const fresh = exportWindow(undefined, busy);
    if (prior !== undefined && prior !== MIN_SEEN_VALUE) return { fromUs: prior, toUs: fresh.toUs };
    const previous = await seen.claim(markKey, fresh.toUs);
    const window = exportWindow(previous, busy);
    await seen.claim(exportKey, window.fromUs);
    return window;
  }

  async function gpuEvents(uses: readonly GpuUse[]): Promise<Map<string, CloudEventJson>> {
    const groups = new Map<string, GpuUse[]>();
    for (const u of uses) {
      const list = groups.get(u.group);
      if (list) list.push(u);
      else groups.set(u.group, [u]);
    }
    const events = new Map<string, CloudEventJson>();
    for (const group of groups.values()) {
      const window = await windowFor(group);
      const shares = shareWindowBusyTime(
        window,
        group.map((u): BusySpan => u.busy),
      );
      for (const u of group) events.set(u.busy.key, u.event(shares.get(u.busy.key) ?? 0n));
    }
    return events;
  }

  async function ingest(request: TraceExport): Promise<TraceIngestAnswer> {
    const now = clock.now();
    const seenSpans = new Set<string>();
    const refused: Refusal[] = [];
    /** The spans refused before they became events, as kept: the ingest use case keeps the others. */
    const kept: Refused[] = [];
    const gpu: GpuUse[] = [];
    /** Each event to ingest, in span order, with the span it came from. */
    const made: { span: OtlpSpan; key: string; event?: CloudEventJson }[] = [];
    let spans = 0;
    let ignored = 0;
    for (const { resource, spans: list } of request.resourceSpans) {
      for (const span of list) {
        const key = spanEventId(span);
        if (seenSpans.has(key)) continue;
        seenSpans.add(key);
        spans += 1;
        const classified = classifySpan(span, resource, deployments);
        // A span with cost meaning whose time no event may have is refused before any of a replica's time is claimed for it.
        const use =
          classified.use === "gpu" || classified.use === "tokens"
            ? (spanTimeRefusal(span, now) ?? classified)
            : classified;
        if (use.use === "ignored") ignored += 1;
        else if (use.use === "refused") {
          refused.push({ span, reason: use.reason });
          kept.push({
            index: spans - 1,
            id: key,
            source: OTLP_EVENT_SOURCE,
            field: use.field,
            reason: use.reason,
            payload: JSON.stringify(keptOfSpan(span, resource, deployments)),
          });
        } else if (use.use === "tokens") made.push({ span, key, event: use.event });
        else {
          gpu.push(use);
          made.push({ span, key });
        }
      }
    }
    await ingestEvents.keepRefused(kept);
    const shared = gpu.length > 0 ? await gpuEvents(gpu) : new Map<string, CloudEventJson>();
    const events = made.map((m) => ({
      span: m.span,
      event: m.event ?? (shared.get(m.key) as CloudEventJson),
    }));

    let accepted = 0;
    let duplicates = 0;
    let conflicts = 0;
    for (let at = 0; at < events.length; at += EVENTS_PER_BODY) {
      const chunk = events.slice(at, at + EVENTS_PER_BODY);
      const summary = await ingestEvents.ingest(
        JSON.stringify(chunk.map((c) => c.event)),
        "application/cloudevents-batch+json",
      );
      accepted += summary.accepted;
      duplicates += summary.duplicates;
      conflicts += summary.conflicts;
      for (const r of summary.rejected) {
        const from = chunk[r.index];
        if (from) refused.push({ span: from.span, reason: r.reason });
      }
    }

    const answer: TraceIngestAnswer = { spans, ignored, accepted, duplicates, conflicts };
    if (refused.length > 0) {
      const named = refused.slice(0, NAMED_REFUSALS).map(describe);
      const more = refused.length > NAMED_REFUSALS ? `; and ${refused.length - NAMED_REFUSALS} more` : "";
      answer.partialSuccess = {
        rejectedSpans: refused.length,
        errorMessage: `${refused.length} of ${spans} spans refused: ${named.join("; ")}${more}`,
      };
    }
    // Exporters may not show the answer's partial success: refusals warn, so an operator sees them.
    const fields = {
      spans,
      gpuSpans: gpu.length,
      events: events.length,
      ignored,
      accepted,
      duplicates,
      conflicts,
      refused: refused.length,
      ...(refused.length > 0 ? { reasons: refused.slice(0, NAMED_REFUSALS).map(describe) } : {}),
    };
    if (refused.length > 0) logger.warn("trace export ingested, some spans refused", fields);
    else logger.info("trace export ingested", fields);
    return answer;
  }

  return { ingest };
}
