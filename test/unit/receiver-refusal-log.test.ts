import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createMemorySeenStore } from "#adapters/memory-seen-store/memory-seen-store.ts";
import type { IngestEvents, IngestSummary } from "#app/ingest-events.ts";
import { createIngestLiteLlm } from "#app/ingest-lite-llm.ts";
import { createIngestTraces } from "#app/ingest-traces.ts";
import { type Deployment, deploymentsSchema } from "#domain/otlp/deployments.ts";
import { SPAN_KIND } from "#domain/otlp/spans.ts";
import { fixedClock } from "#ports/clock.ts";
import type { Logger } from "#ports/logger.ts";

/**
 * The receivers for servers that do not read our answer (LiteLLM's callback, an OTLP exporter that
 * may only count partial success) say what they refused in the log at warn, the level the local
 * stack and most deployments show; a clean export stays at info.
 */

type Level = keyof Logger;

function recordingLogger() {
  const records: { level: Level; message: string; fields: Record<string, unknown> }[] = [];
  const at =
    (level: Level) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      records.push({ level, message, fields });
  const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { logger, records };
}

/** An ingest that takes every event, or refuses the first of each body naming `data.team`. */
function ingestEvents(refuseFirst: boolean): Pick<IngestEvents, "ingest" | "keepRefused"> {
  return {
    async keepRefused() {},
    async ingest(body) {
      const events = JSON.parse(String(body)) as unknown[];
      const rejected = refuseFirst ? [{ index: 0, field: "data.team", reason: "data.team: required" }] : [];
      const summary: IngestSummary = {
        received: events.length,
        accepted: events.length - rejected.length,
        duplicates: 0,
        conflicts: 0,
        rejected,
        hours: null,
      };
      return summary;
    },
  };
}

const PAYLOAD = readFileSync(
  new URL("../fixtures/litellm/standard-logging-payload.CONSTRUCTED.json", import.meta.url),
  "utf8",
);

describe("LiteLLM's receiver", () => {
  it("warns, naming the reason, when it refuses a payload", async () => {
    const { logger, records } = recordingLogger();
    const litellm = createIngestLiteLlm({ ingestEvents: ingestEvents(false), deployments: [], logger });

    const answer = await litellm.ingest(JSON.stringify([JSON.parse(PAYLOAD), { foo: 1 }]));

    expect(answer.rejected).toHaveLength(1);
    expect(records.map((r) => r.level)).toEqual(["warn"]);
    expect(records[0]?.fields).toMatchObject({ rejected: 1, reasons: [expect.stringMatching(/^id: /)] });
  });

  it("logs a clean body at info", async () => {
    const { logger, records } = recordingLogger();
    const litellm = createIngestLiteLlm({ ingestEvents: ingestEvents(false), deployments: [], logger });

    await litellm.ingest(PAYLOAD);

    expect(records.map((r) => r.level)).toEqual(["info"]);
  });
});

describe("the OTLP traces receiver", () => {
  const [deployment] = deploymentsSchema.parse([
    {
      name: "llama-chat",
      match: { "service.name": "vllm-llama-chat" },
      model: "llama-3.1-8b-instruct",
      owner: { team: "assistants" },
      placement: { cloud: "gcp", region: "us-central1", accelerator: "nvidia-l4", gpusPerReplica: 1 },
    },
  ]) as [Deployment];
  const startNs = BigInt(Date.UTC(2026, 10, 15, 9, 40)) * 1_000_000n;
  const request = {
    resourceSpans: [
      {
        resource: { "service.name": "vllm-llama-chat", "k8s.pod.name": "llama-0" },
        spans: [
          {
            traceId: "1".padStart(32, "0"),
            spanId: "1".padStart(16, "0"),
            name: "llm_request",
            kind: SPAN_KIND.server,
            startNs,
            endNs: startNs + 2_000_000_000n,
            attributes: {
              "gen_ai.request.id": "chatcmpl-1",
              "gen_ai.usage.prompt_tokens": 100,
              "gen_ai.usage.completion_tokens": 20,
              "gen_ai.latency.time_in_queue": 0,
              "gen_ai.latency.time_in_model_inference": 2,
            },
          },
        ],
      },
    ],
  };

  it.each([
    [true, "warn"],
    [false, "info"],
  ] as const)("when the ingest refuses a span (%s), logs at %s", async (refuse, level) => {
    const { logger, records } = recordingLogger();
    const traces = createIngestTraces({
      ingestEvents: ingestEvents(refuse),
      seen: createMemorySeenStore(),
      deployments: [deployment],
      clock: fixedClock(new Date(Date.UTC(2026, 10, 15, 10))),
      logger,
    });

    const answer = await traces.ingest(request);

    expect(answer.partialSuccess === undefined).toBe(!refuse);
    expect(records.map((r) => r.level)).toEqual([level]);
  });
});
