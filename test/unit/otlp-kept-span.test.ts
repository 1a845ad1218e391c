import { describe, expect, it } from "vitest";
import { deploymentsSchema } from "#domain/otlp/deployments.ts";
import { keptOfSpan } from "#domain/otlp/kept-span.ts";
import { classifySpan } from "#domain/otlp/span-events.ts";
import { type Attributes, type OtlpSpan, SPAN_KIND } from "#domain/otlp/spans.ts";

/**
 * A span refused before it becomes an event is kept as its ids, times and the attributes the
 * classification read to refuse it: the prompt and answer instrumentations record on GenAI spans
 * (semantic-conventions-genai's gen_ai.input.messages, gen_ai.output.messages and
 * gen_ai.system_instructions; OpenLLMetry's gen_ai.prompt.*) are never among them.
 */

const DEPLOYMENTS = deploymentsSchema.parse([
  {
    name: "llama-chat",
    match: { "service.name": "vllm-llama-chat" },
    owner: { team: "assistants" },
    placement: { cloud: "gcp", region: "us-central1", accelerator: "nvidia-l4", gpusPerReplica: 1 },
  },
  {
    name: "fraud-scorer",
    match: { "service.name": "fraud-scorer-api" },
    owner: { team: "risk" },
    placement: { cloud: "aws", region: "us-east-1", instanceType: "p3.2xlarge", gpusPerReplica: 1 },
    gpuTimeFrom: "http-server-spans",
  },
]);

const START_NS = 1_763_204_700_000_000_000n;

const CONTENT: Attributes = {
  "gen_ai.input.messages": '[{"role":"user","parts":[{"type":"text","content":"my card number is 4111"}]}]',
  "gen_ai.output.messages": '[{"role":"assistant","parts":[{"type":"text","content":"noted"}]}]',
  "gen_ai.system_instructions": "You are a helpful assistant",
  "gen_ai.prompt.0.content": "my card number is 4111",
};

function span(
  name: string,
  kind: number,
  attributes: Attributes,
  endNs = START_NS + 2_000_000_000n,
): OtlpSpan {
  return {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    name,
    kind,
    startNs: START_NS,
    endNs,
    attributes: { ...attributes, ...CONTENT },
  };
}

const RESOURCE: Attributes = {
  "service.name": "support-bot",
  "process.command_args": ["python", "serve.py", "--api-key", "sk-live-secret"],
};

const CASES: [string, OtlpSpan, Attributes][] = [
  [
    "a GenAI call with no usage",
    span("chat gpt-4o", SPAN_KIND.client, {
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": "gpt-4o",
    }),
    RESOURCE,
  ],
  [
    "a GenAI call with no provider",
    span("chat", SPAN_KIND.client, { "gen_ai.operation.name": "chat" }),
    RESOURCE,
  ],
  ["a vLLM request from an unmapped service", span("llm_request", SPAN_KIND.server, {}), RESOURCE],
  [
    "a vLLM request of a deployment without a model",
    span("llm_request", SPAN_KIND.server, { "gen_ai.usage.prompt_tokens": 12 }),
    { ...RESOURCE, "service.name": "vllm-llama-chat" },
  ],
  [
    "an HTTP request of a deployment without a model",
    span("POST /score", SPAN_KIND.server, { "http.request.method": "POST", "http.route": "/score" }),
    { ...RESOURCE, "service.name": "fraud-scorer-api" },
  ],
  [
    "a GenAI call that ends before it starts",
    span("chat gpt-4o", SPAN_KIND.client, { "gen_ai.provider.name": "openai" }, START_NS - 1n),
    RESOURCE,
  ],
];

describe("a refused span as kept", () => {
  it.each(CASES)("%s keeps no prompt, answer or attribute the refusal did not read", (_, s, resource) => {
    // Prepare
    expect(classifySpan(s, resource, DEPLOYMENTS).use).toBe("refused");

    // Act
    const kept = keptOfSpan(s, resource, DEPLOYMENTS);

    // Assess
    const text = JSON.stringify(kept);
    expect(text).not.toContain("4111");
    expect(text).not.toContain("helpful assistant");
    expect(text).not.toContain("sk-live-secret");
    expect(kept).toMatchObject({
      traceId: s.traceId,
      spanId: s.spanId,
      name: s.name,
      kind: s.kind,
      startTimeUnixNano: String(s.startNs),
      endTimeUnixNano: String(s.endNs),
    });
    expect(kept.resource["service.name"]).toBe(resource["service.name"]);
  });

  it("keeps what the refusal read, so the row says why", () => {
    // Act
    const kept = keptOfSpan(CASES[0]?.[1] as OtlpSpan, RESOURCE, DEPLOYMENTS);

    // Assess
    expect(kept.attributes).toEqual({ "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o" });
    expect(kept.resource).toEqual({ "service.name": "support-bot" });
  });

  it("is the same for the same span, so a retried export keeps it once", () => {
    const [, s, resource] = CASES[3] as [string, OtlpSpan, Attributes];

    expect(JSON.stringify(keptOfSpan(s, resource, DEPLOYMENTS))).toBe(
      JSON.stringify(keptOfSpan({ ...s, attributes: { ...s.attributes } }, { ...resource }, DEPLOYMENTS)),
    );
  });
});
