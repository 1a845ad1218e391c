import { describe, expect, it } from "vitest";
import { createOtlpTraceCodec } from "#adapters/otlp/otlp-trace-codec.ts";
import type { TraceExport } from "#domain/otlp/spans.ts";

describe("the OTLP codec's request encoding", () => {
  it("gives protobuf bytes that decode to the same export, nanosecond times and attribute kinds kept", () => {
    // Prepare: what the demo's vLLM sends, with every attribute kind.
    const request: TraceExport = {
      resourceSpans: [
        {
          resource: {
            "service.name": "vllm-demo-llama",
            "k8s.pod.name": "demo-llama-0",
            "vllm.process_id": 42,
          },
          spans: [
            {
              traceId: "0af7651916cd43dd8448eb211c80319c",
              spanId: "b7ad6b7169203331",
              name: "llm_request",
              kind: 2,
              startNs: 1765100000123456789n,
              endNs: 1765100004987654321n,
              attributes: {
                "gen_ai.request.id": "chatcmpl-1",
                "gen_ai.usage.prompt_tokens": 812,
                "gen_ai.latency.time_in_model_inference": 3.25,
                streamed: true,
                tags: ["a", "b"],
                nested: { k: "v" },
              },
            },
          ],
        },
      ],
    };
    const codec = createOtlpTraceCodec();

    // Act
    const bytes = codec.encodeRequest(request);

    // Assess
    expect(codec.decodeRequest(bytes, "protobuf")).toEqual(request);
  });
});
