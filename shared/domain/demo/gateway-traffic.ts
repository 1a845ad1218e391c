import { type Deployment, deploymentSchema } from "#domain/otlp/deployments.ts";
import { SPAN_KIND, type TraceExport } from "#domain/otlp/spans.ts";
import { createSeededRandom, type Seed } from "./seeded-random.ts";

/**
 * The demo's self-hosted model behind a gateway: a vLLM deployment whose spans reach the OTLP
 * receiver and a LiteLLM proxy in front of it for two teams, whose logging payloads reach the
 * LiteLLM receiver. Each hour of the demo: three requests of chat-experience and two of
 * support-automation through LiteLLM, and one sent to vLLM directly, which no gateway attributes
 * (it stays with the deployment's configured owner, ml-platform). Deterministic: the ids and times
 * follow from the seed and the hour, so a rerun within the hour sends the same requests again.
 */

const SERVICE_NAME = "vllm-demo-llama";
const API_BASE = "http://vllm-demo-llama.inference.svc:8000/v1";

export const DEMO_GATEWAY_DEPLOYMENT: Deployment = deploymentSchema.parse({
  name: "demo-llama",
  match: { "service.name": SERVICE_NAME },
  model: "llama-3.1-8b-instruct",
  modelVersion: "2024-07-23",
  owner: { team: "ml-platform", costCenter: "CC-9000" },
  namespace: "inference",
  placement: { cloud: "gcp", region: "us-central1", accelerator: "nvidia-l4", gpusPerReplica: 1 },
  apiBases: [API_BASE],
});

/** Who calls the model through LiteLLM each hour: their LiteLLM team, organization and cost center. */
const CALLERS = [
  { team: "chat-experience", org: "consumer", costCenter: "CC-1020" },
  { team: "chat-experience", org: "consumer", costCenter: "CC-1020" },
  { team: "chat-experience", org: "consumer", costCenter: "CC-1020" },
  { team: "support-automation", org: "enterprise", costCenter: "CC-2030" },
  { team: "support-automation", org: "enterprise", costCenter: "CC-2030" },
  /** Sent to vLLM directly, not through the gateway. */
  undefined,
] as const;

const HOUR_MS = 3_600_000;
/** Minutes between the hour's requests: they never overlap, so each gets its own time in the model. */
const SPACING_MS = 9 * 60_000;

export interface GatewayHour {
  /** One export of vLLM's spans (the hour's requests, in the order they ended). */
  spans: TraceExport;
  /** What LiteLLM's generic_api callback posts for the hour's gateway requests (a JSON array). */
  payloads: Record<string, unknown>[];
}

/** The hours of [from, from + hours) whose requests have all ended by `now`, in time order. */
export function demoGatewayTraffic(options: {
  from: Date;
  hours: number;
  seed: Seed;
  now: Date;
}): GatewayHour[] {
  const out: GatewayHour[] = [];
  for (let h = 0; h < options.hours; h++) {
    const hourMs = options.from.getTime() + h * HOUR_MS;
    const rng = createSeededRandom(`${options.seed}:gateway:${hourMs}`);
    const spans: TraceExport["resourceSpans"][number]["spans"] = [];
    const payloads: Record<string, unknown>[] = [];
    CALLERS.forEach((caller, i) => {
      const startMs = hourMs + 60_000 + i * SPACING_MS + rng.int(0, 30_000);
      const queue = rng.int(10, 120) / 1000;
      const inModel = rng.int(1500, 6000) / 1000;
      const endMs = startMs + Math.round((queue + inModel) * 1000);
      const requestId = `chatcmpl-demo-${rng.hex(24)}`;
      const promptTokens = rng.int(300, 2400);
      const completionTokens = rng.int(40, 600);
      spans.push({
        traceId: rng.hex(32),
        spanId: rng.hex(16),
        name: "llm_request",
        kind: SPAN_KIND.server,
        startNs: BigInt(startMs) * 1_000_000n,
        endNs: BigInt(endMs) * 1_000_000n,
        attributes: {
          "gen_ai.request.id": requestId,
          "gen_ai.usage.prompt_tokens": promptTokens,
          "gen_ai.usage.completion_tokens": completionTokens,
          "gen_ai.latency.time_in_queue": queue,
          "gen_ai.latency.time_in_model_inference": inModel,
          "gen_ai.latency.e2e": queue + inModel,
          "gen_ai.response.finish_reasons": '["stop"]',
        },
      });
      if (caller === undefined) return;
      payloads.push({
        id: requestId,
        litellm_call_id: `demo-${rng.hex(12)}`,
        call_type: "acompletion",
        status: "success",
        custom_llm_provider: "hosted_vllm",
        model: "meta-llama/Llama-3.1-8B-Instruct",
        model_group: "llama-chat",
        api_base: API_BASE,
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
        startTime: (startMs - 40) / 1000,
        endTime: (endMs + 25) / 1000,
        response_cost: 0,
        cache_hit: false,
        request_tags: [],
        metadata: {
          user_api_key_team_id: `team-${caller.team}`,
          user_api_key_team_alias: caller.team,
          user_api_key_org_id: caller.org,
          spend_logs_metadata: { cost_center: caller.costCenter },
        },
      });
    });
    const last = spans.at(-1);
    if (last === undefined || last.endNs > BigInt(options.now.getTime()) * 1_000_000n) continue;
    out.push({
      spans: {
        resourceSpans: [
          { resource: { "service.name": SERVICE_NAME, "k8s.pod.name": "demo-llama-0" }, spans },
        ],
      },
      payloads,
    });
  }
  return out;
}
