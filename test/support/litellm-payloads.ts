import { readFileSync } from "node:fs";

/** A StandardLoggingPayload as LiteLLM's generic_api callback sends it (test/fixtures/litellm). */
export type LoggingPayloadJson = Record<string, unknown> & { id: string; metadata: Record<string, unknown> };

const BASE = JSON.parse(
  readFileSync(
    new URL("../fixtures/litellm/standard-logging-payload.CONSTRUCTED.json", import.meta.url),
    "utf8",
  ),
) as LoggingPayloadJson;

/** The strings in the fixture's prompt and answer: no stored row may contain them. */
export const SECRET_MARKERS = ["SECRET-PROMPT", "SECRET-ANSWER"] as const;

/** The fixture with `overrides` (metadata merged key by key), a fresh copy each time. */
export function loggingPayload(
  overrides: Partial<Omit<LoggingPayloadJson, "metadata">> & { metadata?: Record<string, unknown> } = {},
): LoggingPayloadJson {
  const base = structuredClone(BASE);
  const { metadata, ...rest } = overrides;
  return { ...base, ...rest, metadata: { ...base.metadata, ...metadata } } as LoggingPayloadJson;
}

/** A call through LiteLLM to a self-hosted vLLM at `apiBase`, for `team`: what vLLM's span names `id`. */
export function selfHostedPayload(
  id: string,
  team: string,
  apiBase: string,
  window: { startMs: number; endMs: number },
): LoggingPayloadJson {
  return loggingPayload({
    id,
    custom_llm_provider: "hosted_vllm",
    model: "meta-llama/Llama-3.1-8B-Instruct",
    model_group: "llama-chat",
    api_base: apiBase,
    startTime: window.startMs / 1000,
    endTime: window.endMs / 1000,
    response_cost: 0,
    metadata: { user_api_key_team_alias: team, user_api_key_team_id: `team-${team}` },
  });
}

/** Where LiteLLM reaches the self-hosted vLLM of LLAMA_BEHIND_GATEWAY. */
export const LLAMA_API_BASE = "http://vllm-llama.inference:8000/v1";

/** A `deployments` entry (config file JSON): vLLM serving Llama, reached by LiteLLM at LLAMA_API_BASE. */
export const LLAMA_BEHIND_GATEWAY = {
  name: "llama-chat",
  match: { "service.name": "vllm-llama-chat" },
  model: "llama-3.1-8b-instruct",
  owner: { team: "platform", businessUnit: "infrastructure", costCenter: "cc-0001" },
  placement: { cloud: "gcp", region: "us-central1", accelerator: "nvidia-l4", gpusPerReplica: 1 },
  apiBases: [LLAMA_API_BASE],
};
