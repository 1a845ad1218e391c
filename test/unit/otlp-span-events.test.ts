import { describe, expect, it } from "vitest";
import { type Deployment, deploymentsSchema } from "#domain/otlp/deployments.ts";
import { classifySpan, inModelInterval, OTLP_EVENT_SOURCE } from "#domain/otlp/span-events.ts";
import { type Attributes, type OtlpSpan, SPAN_KIND } from "#domain/otlp/spans.ts";
import { parseConfig } from "#runtime/config.ts";

/**
 * The span shapes the receiver reads, pinned as the projects emit them (facts and sources in
 * ../shared/research/inference-sources.md):
 * - vLLM V1 (vllm/v1/engine/output_processor.py do_tracing, vllm/tracing/utils.py SpanAttributes):
 *   name `llm_request`, kind SERVER, start = arrival, end = finish; the legacy usage names; no model.
 * - SGLang (observability/trace.py trace_req_start/finish, request_tracing.py make_span_attrs): the
 *   root span `"{role} Req {rid[:8]}"` (role "" when unified, so the name starts with a space), kind
 *   INTERNAL, attributes rid and module at start, usage, cached tokens, request id, response model,
 *   finish reasons and latencies at finish; service.name is always "sglang".
 * - GenAI client spans (semantic-conventions-genai): kind CLIENT, `{operation} {model}`, current
 *   names and the deprecated prompt_tokens / completion_tokens.
 * - HTTP server spans of FastAPI under opentelemetry-instrument, with the captured request header
 *   (OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST), which Python names with underscores.
 */

const ARRIVAL_NS = BigInt(Date.UTC(2026, 10, 15, 11, 5, 0)) * 1_000_000n;
const s = (seconds: number) => BigInt(Math.round(seconds * 1e9));

const DEPLOYMENTS: Deployment[] = deploymentsSchema.parse([
  {
    name: "llama-chat",
    match: { "service.name": "vllm-llama-chat" },
    model: "llama-3.1-8b-instruct",
    modelVersion: "2024-07-23",
    owner: { team: "assistants", businessUnit: "consumer", costCenter: "cc-1200" },
    namespace: "inference",
    placement: { cloud: "gcp", region: "us-central1", accelerator: "nvidia-l4", gpusPerReplica: 1 },
  },
  {
    name: "qwen-sglang",
    match: { "service.name": "sglang", "deployment.name": "qwen-sglang" },
    owner: { team: "search" },
    placement: { cloud: "aws", region: "us-east-1", instanceType: "g5.12xlarge", gpusPerReplica: 4 },
  },
  {
    name: "fraud-scorer",
    match: { "service.name": "fraud-scorer-api" },
    model: "fraud-scorer",
    modelVersion: "v7",
    owner: { team: "risk", businessUnit: "payments" },
    placement: { cloud: "aws", region: "us-east-1", instanceType: "p3.2xlarge", gpusPerReplica: 1 },
    gpuTimeFrom: "http-server-spans",
    ignoreRoutes: ["/healthz"],
  },
  {
    name: "support-bot",
    match: { "service.name": "support-bot" },
    owner: { team: "support", businessUnit: "care" },
  },
]);

function span(overrides: Partial<OtlpSpan> & { attributes: Attributes }): OtlpSpan {
  return {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    name: "span",
    kind: SPAN_KIND.internal,
    startNs: ARRIVAL_NS,
    endNs: ARRIVAL_NS + s(2.5),
    ...overrides,
  };
}

/** vLLM V1's llm_request span, attribute for attribute (sampling parameters set). */
const VLLM_SPAN = span({
  name: "llm_request",
  kind: SPAN_KIND.server,
  endNs: ARRIVAL_NS + s(2.5),
  attributes: {
    "gen_ai.latency.time_to_first_token": 0.182,
    "gen_ai.latency.e2e": 2.5,
    "gen_ai.latency.time_in_queue": 0.04,
    "gen_ai.usage.prompt_tokens": 812,
    "gen_ai.usage.completion_tokens": 64,
    "gen_ai.latency.time_in_model_prefill": 0.12,
    "gen_ai.latency.time_in_model_decode": 2.3,
    "gen_ai.latency.time_in_model_inference": 2.42,
    "gen_ai.request.id": "chatcmpl-9b1f2c3d-7e8f-4a5b-9c0d-1e2f3a4b5c6d",
    "gen_ai.request.top_p": 0.95,
    "gen_ai.request.max_tokens": 256,
    "gen_ai.request.temperature": 0.7,
    "gen_ai.request.n": 1,
    "gen_ai.response.finish_reasons": '["stop"]',
  },
});
const VLLM_RESOURCE: Attributes = {
  "vllm.instrumenting_module_name": "vllm.llm_engine",
  "vllm.process_id": "1",
  "service.name": "vllm-llama-chat",
  "k8s.pod.name": "llama-chat-7d9f-0",
};

/** SGLang's root request span (unified role), attribute for attribute. */
const SGLANG_SPAN = span({
  name: " Req 5f0c1a2b",
  kind: SPAN_KIND.internal,
  endNs: ARRIVAL_NS + s(1.9),
  attributes: {
    rid: "5f0c1a2b3c4d4e5f8a9b0c1d2e3f4a5b",
    module: "sglang::tokenizer_manager",
    "gen_ai.usage.completion_tokens": 128,
    "gen_ai.usage.prompt_tokens": 2048,
    "gen_ai.usage.cached_tokens": 1536,
    "gen_ai.request.id": "5f0c1a2b3c4d4e5f8a9b0c1d2e3f4a5b",
    "gen_ai.request.max_tokens": 512,
    "gen_ai.response.model": "Qwen/Qwen2.5-7B-Instruct",
    "gen_ai.response.finish_reasons": '["stop"]',
    "gen_ai.latency.time_to_first_token": 0.21,
    "gen_ai.latency.e2e": 1.9,
    "gen_ai.latency.time_in_model_decode": 1.69,
    "gen_ai.latency.time_in_model_inference": 1.8,
    "gen_ai.latency.time_in_model_prefill": 0.11,
  },
});
const SGLANG_RESOURCE: Attributes = {
  "service.name": "sglang",
  "deployment.name": "qwen-sglang",
  "service.instance.id": "sglang-0",
};

describe("vLLM llm_request spans", () => {
  it("become a GPU request of the mapped deployment, with tokens, request id and timings", () => {
    // Act
    const use = classifySpan(VLLM_SPAN, VLLM_RESOURCE, DEPLOYMENTS);

    // Assess
    if (use.use !== "gpu") throw new Error(`expected a GPU span, got ${use.use}`);
    expect(use.replica).toBe("llama-chat-7d9f-0");
    expect(use.busy.toUs - use.busy.fromUs).toBe(2_420_000n);
    expect(use.event(1_210_000n)).toEqual({
      specversion: "1.0",
      id: "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
      source: OTLP_EVENT_SOURCE,
      type: "ai.cost.inference.v1",
      time: "2026-11-15T11:05:02.500Z",
      subject: "vllm-llama-chat",
      datacontenttype: "application/json",
      data: {
        team: "assistants",
        business_unit: "consumer",
        cost_center: "cc-1200",
        namespace: "inference",
        model: "llama-3.1-8b-instruct",
        model_version: "2024-07-23",
        cloud: "gcp",
        region: "us-central1",
        accelerator: "nvidia-l4",
        pricing_model: "on_demand",
        gpu_count: 1,
        gpu_seconds: 1.21,
        input_tokens: 812,
        output_tokens: 64,
        labels: {
          "otel.service.name": "vllm-llama-chat",
          "otel.span.name": "llm_request",
          "otel.start": "2026-11-15T11:05:00.000Z",
          "otel.end": "2026-11-15T11:05:02.500Z",
          "otel.deployment": "llama-chat",
          "otel.replica": "llama-chat-7d9f-0",
          "otel.time_in_model_s": "2.42",
          "gen_ai.latency.e2e": "2.5",
          "gen_ai.latency.time_in_model_decode": "2.3",
          "gen_ai.latency.time_in_model_inference": "2.42",
          "gen_ai.latency.time_in_model_prefill": "0.12",
          "gen_ai.latency.time_in_queue": "0.04",
          "gen_ai.latency.time_to_first_token": "0.182",
          "gen_ai.request.id": "chatcmpl-9b1f2c3d-7e8f-4a5b-9c0d-1e2f3a4b5c6d",
          "gen_ai.response.finish_reasons": '["stop"]',
        },
      },
    });
  });

  it("measure the time in the model from the end, else after the queue, else the whole span", () => {
    // Prepare
    const { "gen_ai.latency.time_in_model_inference": _, ...noInference } = VLLM_SPAN.attributes;
    const { "gen_ai.latency.time_in_queue": __, ...bare } = noInference;

    // Act
    const byInference = inModelInterval(VLLM_SPAN);
    const byQueue = inModelInterval({ ...VLLM_SPAN, attributes: noInference });
    const whole = inModelInterval({ ...VLLM_SPAN, attributes: bare });

    // Assess
    expect(byInference.toUs - byInference.fromUs).toBe(2_420_000n);
    expect(byQueue.toUs - byQueue.fromUs).toBe(2_460_000n);
    expect(whole.toUs - whole.fromUs).toBe(2_500_000n);
  });

  it("are refused naming the configuration when no deployment maps their resource", () => {
    // Act
    const use = classifySpan(
      VLLM_SPAN,
      { "service.name": "vllm-server", "vllm.process_id": "7" },
      DEPLOYMENTS,
    );

    // Assess
    expect(use).toEqual({
      use: "refused",
      field: "resource",
      reason:
        "resource: no deployment in the configuration matches service.name=vllm-server; an inference server's span names no placement to price it",
    });
  });
});

describe("SGLang request spans", () => {
  it("take the served model from the span and count the cached prompt tokens apart", () => {
    // Act
    const use = classifySpan(SGLANG_SPAN, SGLANG_RESOURCE, DEPLOYMENTS);

    // Assess
    if (use.use !== "gpu") throw new Error(`expected a GPU span, got ${use.use}`);
    const { data } = use.event(900_000n);
    expect(data).toMatchObject({
      team: "search",
      business_unit: "unallocated",
      model: "Qwen/Qwen2.5-7B-Instruct",
      model_version: "Qwen/Qwen2.5-7B-Instruct",
      cloud: "aws",
      instance_type: "g5.12xlarge",
      gpu_count: 4,
      gpu_seconds: 0.9,
      input_tokens: 512,
      cached_input_tokens: 1536,
      output_tokens: 128,
    });
    expect(use.replica).toBe("sglang-0");
  });

  it("ignore SGLang's thread and slice spans, which carry no usage", () => {
    // Prepare
    const thread = span({
      name: "Tokenizer (host:1a2b3c4d | pid:42)",
      attributes: { host_id: "1a2b3c4d", pid: 42, thread_label: "Tokenizer" },
    });

    // Act, Assess
    expect(classifySpan(thread, SGLANG_RESOURCE, DEPLOYMENTS)).toEqual({ use: "ignored" });
  });
});

describe("GenAI client spans", () => {
  it("price a provider call by its tokens, current names, cached input apart", () => {
    // Prepare
    const client = span({
      name: "chat gpt-4o",
      kind: SPAN_KIND.client,
      attributes: {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.response.id": "chatcmpl-AbC123",
        "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.cache_read.input_tokens": 1024,
        "gen_ai.usage.output_tokens": 300,
        "server.address": "api.openai.com",
      },
    });

    // Act
    const use = classifySpan(client, { "service.name": "support-bot" }, DEPLOYMENTS);

    // Assess
    if (use.use !== "tokens") throw new Error(`expected a token span, got ${use.use}`);
    expect(use.event.data).toEqual({
      team: "support",
      business_unit: "care",
      model: "gpt-4o",
      model_version: "gpt-4o-2024-08-06",
      provider: "openai",
      input_tokens: 176,
      cached_input_tokens: 1024,
      output_tokens: 300,
      labels: {
        "otel.service.name": "support-bot",
        "otel.span.name": "chat gpt-4o",
        "otel.start": "2026-11-15T11:05:00.000Z",
        "otel.end": "2026-11-15T11:05:02.500Z",
        "otel.deployment": "support-bot",
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.response.id": "chatcmpl-AbC123",
      },
    });
  });

  it("read the deprecated gen_ai.system and prompt/completion token names; an unmapped service is unallocated", () => {
    // Prepare
    const client = span({
      name: "chat claude-sonnet-4-5",
      kind: SPAN_KIND.client,
      attributes: {
        "gen_ai.system": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4-5",
        "gen_ai.usage.prompt_tokens": 900,
        "gen_ai.usage.completion_tokens": 120,
      },
    });

    // Act
    const use = classifySpan(client, { "service.name": "notebook" }, DEPLOYMENTS);

    // Assess
    if (use.use !== "tokens") throw new Error(`expected a token span, got ${use.use}`);
    expect(use.event.data).toMatchObject({
      team: "unallocated",
      business_unit: "unallocated",
      provider: "anthropic",
      model: "claude-sonnet-4-5",
      input_tokens: 900,
      output_tokens: 120,
    });
  });

  it("are refused naming the time when theirs is no time a date can hold; a span of no cost is ignored", () => {
    const far = 10n ** 23n;
    const client = span({
      name: "chat gpt-4o",
      kind: SPAN_KIND.client,
      endNs: far,
      attributes: { "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o" },
    });
    const database = span({ name: "SELECT", endNs: far, attributes: { "db.system": "postgresql" } });

    expect(classifySpan(client, {}, DEPLOYMENTS)).toEqual({
      use: "refused",
      field: "endTimeUnixNano",
      reason: `endTimeUnixNano: ${far} ns is no time a date can hold`,
    });
    expect(classifySpan(database, {}, DEPLOYMENTS)).toEqual({ use: "ignored" });
  });

  it.each([
    ["gen_ai.usage.input_tokens", -1000, "-1000"],
    ["gen_ai.usage.output_tokens", "abc", '"abc"'],
    ["gen_ai.usage.input_tokens", 1.5, "1.5"],
    ["gen_ai.usage.input_tokens", Number.NaN, "NaN"],
    ["gen_ai.usage.input_tokens", "99999999999999999999", '"99999999999999999999"'],
  ])(
    "are refused naming a token count that is no count (%s: %s), never priced without it",
    (key, value, shown) => {
      const client = span({
        name: "chat gpt-4o",
        kind: SPAN_KIND.client,
        attributes: {
          "gen_ai.provider.name": "openai",
          "gen_ai.request.model": "gpt-4o",
          "gen_ai.usage.input_tokens": 100,
          "gen_ai.usage.output_tokens": 20,
          [key]: value,
        },
      });

      expect(classifySpan(client, {}, DEPLOYMENTS)).toEqual({
        use: "refused",
        field: key,
        reason: `${key}: ${shown} is not a token count (a whole number, 0 or more)`,
      });
    },
  );

  it("are refused when they report no usage to price", () => {
    // Prepare
    const client = span({
      name: "chat gemini-2.5-flash",
      kind: SPAN_KIND.client,
      attributes: { "gen_ai.provider.name": "gcp.gemini", "gen_ai.request.model": "gemini-2.5-flash" },
    });

    // Act, Assess
    expect(classifySpan(client, {}, DEPLOYMENTS)).toEqual({
      use: "refused",
      field: "gen_ai.usage.input_tokens",
      reason: "gen_ai.usage.input_tokens: the call reports no token usage to price",
    });
  });
});

describe("HTTP server spans of a mapped service", () => {
  const fastApi = (attributes: Attributes) =>
    span({
      name: "POST /v1/score",
      kind: SPAN_KIND.server,
      endNs: ARRIVAL_NS + s(0.35),
      attributes: {
        "http.request.method": "POST",
        "http.route": "/v1/score",
        "url.path": "/v1/score",
        "http.response.status_code": 200,
        ...attributes,
      },
    });

  it("measure the span's duration and read the business unit from the captured header", () => {
    // Act
    const python = classifySpan(
      fastApi({ "http.request.header.x_business_unit": ["lending"] }),
      { "service.name": "fraud-scorer-api", "host.name": "scorer-1" },
      DEPLOYMENTS,
    );
    const dashed = classifySpan(
      fastApi({ "http.request.header.x-business-unit": ["cards"] }),
      { "service.name": "fraud-scorer-api" },
      DEPLOYMENTS,
    );

    // Assess
    if (python.use !== "gpu" || dashed.use !== "gpu") throw new Error("expected GPU spans");
    expect(python.busy.toUs - python.busy.fromUs).toBe(350_000n);
    expect(python.replica).toBe("scorer-1");
    expect(python.event(350_000n).data).toMatchObject({
      team: "risk",
      business_unit: "lending",
      model: "fraud-scorer",
      model_version: "v7",
      instance_type: "p3.2xlarge",
      gpu_seconds: 0.35,
    });
    expect(dashed.event(0n).data).toMatchObject({ business_unit: "cards" });
  });

  it("fall back to the deployment's business unit, and ignore the routes it names", () => {
    // Act
    const plain = classifySpan(fastApi({}), { "service.name": "fraud-scorer-api" }, DEPLOYMENTS);
    const health = classifySpan(
      fastApi({ "http.route": "/healthz", "url.path": "/healthz" }),
      { "service.name": "fraud-scorer-api" },
      DEPLOYMENTS,
    );

    // Assess
    if (plain.use !== "gpu") throw new Error("expected a GPU span");
    expect(plain.event(0n).data).toMatchObject({ business_unit: "payments" });
    expect(health).toEqual({ use: "ignored" });
  });

  it("are ignored for a service not mapped to measure them, and so is any other span", () => {
    // Act, Assess
    expect(classifySpan(fastApi({}), { "service.name": "vllm-llama-chat" }, DEPLOYMENTS)).toEqual({
      use: "ignored",
    });
    expect(classifySpan(fastApi({}), { "service.name": "web" }, DEPLOYMENTS)).toEqual({ use: "ignored" });
    expect(
      classifySpan(
        span({ name: "SELECT users", kind: SPAN_KIND.client, attributes: { "db.system": "postgresql" } }),
        {},
        DEPLOYMENTS,
      ),
    ).toEqual({ use: "ignored" });
  });
});

describe("the deployments section", () => {
  it("names the field at fault", () => {
    // Act
    const result = deploymentsSchema.safeParse([
      {
        name: "a",
        match: {},
        owner: { team: "t" },
        placement: { cloud: "gcp", region: "r", gpusPerReplica: 1 },
      },
      { name: "a", match: { "service.name": "x" }, owner: { team: "t" } },
    ]);

    // Assess
    expect(result.success).toBe(false);
    const issues = result.error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(issues).toEqual([
      "0.match: must name at least one resource attribute",
      "0.placement.instanceType: one of instanceType or accelerator is required",
      "1.name: a is used by another deployment",
    ]);
  });

  it("is a section of the config file, whose errors name deployments and the field", () => {
    // Act
    const good = parseConfig(
      { version: 1, deployments: [{ name: "a", match: { "service.name": "a" }, owner: { team: "t" } }] },
      "finops.config.json",
    );

    // Assess
    expect(good.deployments[0]).toMatchObject({
      gpuTimeFrom: "inference-spans",
      businessUnitHeader: "x-business-unit",
    });
    expect(parseConfig({ version: 1 }, "finops.config.json").deployments).toEqual([]);
    expect(() =>
      parseConfig(
        {
          version: 1,
          deployments: [
            {
              name: "a",
              match: { "service.name": "a" },
              owner: { team: "t" },
              placement: { cloud: "gcp", region: "r", accelerator: "l4", gpusPerReplica: 0 },
            },
          ],
        },
        "finops.config.json",
      ),
    ).toThrow(/deployments\.0\.placement\.gpusPerReplica: /);
  });
});
