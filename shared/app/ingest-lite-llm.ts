import { decodeLoggingBody, keptOfPayload } from "#domain/litellm/logging-payload.ts";
import { LITELLM_EVENT_SOURCE, type PayloadUse, payloadUse } from "#domain/litellm/payload-events.ts";
import type { Deployment } from "#domain/otlp/deployments.ts";
import type { CloudEventJson } from "#domain/otlp/span-events.ts";
import type { Logger } from "#ports/logger.ts";
import type { IngestEvents, Refused } from "./ingest-events.ts";

/**
 * LiteLLM's generic_api logging callback (POST /v1/litellm locally): each StandardLoggingPayload
 * becomes one event (see #domain/litellm/payload-events.ts) that goes through the ingest use case,
 * so validation, pricing, dedupe by LiteLLM's id, conflicts and the one view apply unchanged. Only
 * the events are stored: a payload's prompt and answer are dropped when it is parsed, and a payload
 * refused before it becomes an event is named in the answer and the log, and kept in rejected_events
 * (and dead-lettered) as only the plain fields the schema reads.
 */

export interface IngestLiteLlmDeps {
  ingestEvents: Pick<IngestEvents, "ingest" | "keepRefused">;
  deployments: readonly Deployment[];
  logger: Logger;
}

export interface LiteLlmRejection {
  /** Position of the payload in the body (array index, or 0-based line of NDJSON). */
  index: number;
  id?: string;
  field: string;
  reason: string;
}

export interface LiteLlmIngestAnswer {
  /** Payloads in the body. */
  received: number;
  /** Of the events made, how many were provider calls, self-hosted attributions and cache hits. */
  providerCalls: number;
  selfHosted: number;
  cacheHits: number;
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: LiteLlmRejection[];
}

export interface IngestLiteLlm {
  /** Throws LoggingBodyError for a body that is not the callback's output. */
  ingest(body: string): Promise<LiteLlmIngestAnswer>;
}

/** Events per ingest call: a body well under the ingest path's 10 MB bound. */
const EVENTS_PER_BODY = 2000;

type Made = Extract<PayloadUse, { use: "event" }> & { index: number };

export function createIngestLiteLlm(deps: IngestLiteLlmDeps): IngestLiteLlm {
  const { ingestEvents, deployments, logger } = deps;

  async function ingest(body: string): Promise<LiteLlmIngestAnswer> {
    const payloads = decodeLoggingBody(body);
    const rejected: LiteLlmRejection[] = [];
    const refused: Refused[] = [];
    const made: Made[] = [];
    payloads.forEach((raw, index) => {
      const use = payloadUse(raw, deployments);
      if (use.use === "event") {
        made.push({ ...use, index });
        return;
      }
      const named = {
        index,
        ...(use.id === undefined ? {} : { id: use.id }),
        field: use.field,
        reason: use.reason,
      };
      rejected.push(named);
      refused.push({ ...named, source: LITELLM_EVENT_SOURCE, payload: JSON.stringify(keptOfPayload(raw)) });
    });
    await ingestEvents.keepRefused(refused);
    let accepted = 0;
    let duplicates = 0;
    let conflicts = 0;
    for (let at = 0; at < made.length; at += EVENTS_PER_BODY) {
      const chunk = made.slice(at, at + EVENTS_PER_BODY);
      const events: CloudEventJson[] = chunk.map((m) => m.event);
      const summary = await ingestEvents.ingest(JSON.stringify(events), "application/cloudevents-batch+json");
      accepted += summary.accepted;
      duplicates += summary.duplicates;
      conflicts += summary.conflicts;
      for (const r of summary.rejected) {
        const from = chunk[r.index];
        if (from) rejected.push({ index: from.index, id: from.event.id, field: r.field, reason: r.reason });
      }
    }
    rejected.sort((a, b) => a.index - b.index);
    const answer: LiteLlmIngestAnswer = {
      received: payloads.length,
      providerCalls: made.filter((m) => m.kind === "provider").length,
      selfHosted: made.filter((m) => m.kind === "self-hosted").length,
      cacheHits: made.filter((m) => m.kind === "cache-hit").length,
      accepted,
      duplicates,
      conflicts,
      rejected,
    };
    // LiteLLM does not read the answer: refusals warn, so an operator sees them in the log.
    const fields = {
      ...answer,
      rejected: rejected.length,
      ...(rejected.length > 0 ? { reasons: rejected.slice(0, 10).map((r) => r.reason.slice(0, 200)) } : {}),
    };
    if (rejected.length > 0) logger.warn("litellm payloads ingested, some refused", fields);
    else logger.info("litellm payloads ingested", fields);
    return answer;
  }

  return { ingest };
}
