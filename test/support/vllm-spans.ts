import { type Attributes, SpanKind } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, type SpanExporter, TracerProvider } from "@opentelemetry/sdk-trace";

/** Spans made by OpenTelemetry's own SDK, shaped exactly like vLLM's, for the real exporters to send. */

/** A tracer provider for one resource, exporting through `exporter` when flushed. */
export function provider(resource: Attributes, exporter: SpanExporter) {
  return new TracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [
      new BatchSpanProcessor({ exporter, scheduledDelayMillis: 60_000, maxExportBatchSize: 512 }),
    ],
  });
}

/** vLLM V1's llm_request span: arrival to finish, the legacy usage names, no model. */
export function vllmRequest(p: TracerProvider, i: number, startMs: number, seconds: number, inModel: number) {
  const span = p.getTracer("vllm.llm_engine").startSpan("llm_request", {
    kind: SpanKind.SERVER,
    startTime: startMs,
    attributes: {
      "gen_ai.latency.time_to_first_token": 0.2,
      "gen_ai.latency.e2e": seconds,
      "gen_ai.latency.time_in_queue": seconds - inModel,
      "gen_ai.usage.prompt_tokens": 800 + i,
      "gen_ai.usage.completion_tokens": 64,
      "gen_ai.latency.time_in_model_prefill": 0.1,
      "gen_ai.latency.time_in_model_decode": inModel - 0.1,
      "gen_ai.latency.time_in_model_inference": inModel,
      "gen_ai.request.id": `chatcmpl-${i}`,
      "gen_ai.request.max_tokens": 256,
      "gen_ai.response.finish_reasons": '["stop"]',
    },
  });
  span.end(startMs + seconds * 1000);
  return span.spanContext();
}
