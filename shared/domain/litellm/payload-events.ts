import { UNALLOCATED } from "#domain/cost-row.ts";
import { ATTRIBUTION_V1 } from "#domain/events/attribution.ts";
import { INFERENCE_V1 } from "#domain/events/inference.ts";
import { type Deployment, deploymentAtApiBase } from "#domain/otlp/deployments.ts";
import type { CloudEventJson } from "#domain/otlp/span-events.ts";
import { type LoggingPayload, loggingPayloadSchema } from "./logging-payload.ts";

/**
 * What one LiteLLM StandardLoggingPayload becomes (pinned in test/unit/litellm-payload-events.test.ts):
 * - a call LiteLLM answered from its cache: an ai.cost.inference.v1 event costing nothing
 *   (`cache_hit`), whatever the backend: no provider and no GPU did any work;
 * - a call to a configured deployment (its `api_base` is one of the deployment's `apiBases`): an
 *   ai.cost.attribution.v1 event, the owner of the request the deployment's span describes (the same
 *   id), never a second cost;
 * - any other call: an ai.cost.inference.v1 event priced by the token catalog from its tokens
 *   (`custom_llm_provider`, the model group, else the provider's model). A failed call is priced the
 *   same way: LiteLLM logs the usage the provider reported, none when it did no work.
 * Every event's source is //litellm and its id LiteLLM's `id`, so a resent payload is one cost.
 */

export const LITELLM_EVENT_SOURCE = "//litellm";

export type PayloadUse =
  | { use: "event"; kind: "provider" | "self-hosted" | "cache-hit"; event: CloudEventJson }
  | { use: "refused"; id?: string; field: string; reason: string };

/** custom_llm_provider values the token catalog knows by another name. */
const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  gemini: "google",
  vertex_ai: "google",
  vertex_ai_beta: "google",
};

const MAX_LABEL = 256;

/** Tag prefixes a request may name its owner by (LiteLLM's request tags are free strings). */
const TAG_FIELDS = ["business_unit", "cost_center", "environment"] as const;
type TagField = (typeof TAG_FIELDS)[number];

function present(value: string | null | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}

function label(value: string): string {
  return value.length <= MAX_LABEL ? value : `${value.slice(0, MAX_LABEL - 1)}…`;
}

function clip(value: string | undefined, max: number): string | undefined {
  return value === undefined ? undefined : value.slice(0, max);
}

/** `business_unit:payments` in request_tags, else the key's spend_logs_metadata.business_unit. */
function tagged(p: LoggingPayload, field: TagField): string | undefined {
  for (const tag of p.request_tags ?? []) {
    const [key, ...rest] = tag.split(":");
    if (key?.trim() === field) {
      const value = present(rest.join(":"));
      if (value !== undefined) return value;
    }
  }
  const fromMetadata = p.metadata?.spend_logs_metadata?.[field];
  return typeof fromMetadata === "string" ? present(fromMetadata) : undefined;
}

/**
 * The owner from the key LiteLLM authenticated: its team (alias, else id), the business unit a tag
 * or the key's spend-logs metadata names, else the key's organization; the end user (the tenant a
 * request was made for) and the ids are kept as labels.
 */
function owner(p: LoggingPayload) {
  const m = p.metadata;
  const team = present(m?.user_api_key_team_alias) ?? present(m?.user_api_key_team_id) ?? UNALLOCATED;
  const unit = tagged(p, "business_unit") ?? present(m?.user_api_key_org_id) ?? UNALLOCATED;
  const costCenter = clip(tagged(p, "cost_center"), 128);
  const environment = clip(tagged(p, "environment"), 64);
  const labels: Record<string, string> = {};
  const put = (key: string, value: string | null | undefined) => {
    const v = present(value);
    if (v !== undefined) labels[key] = label(v);
  };
  put("litellm.team_id", m?.user_api_key_team_id);
  put("litellm.org_id", m?.user_api_key_org_id);
  put("litellm.end_user", p.end_user ?? m?.user_api_key_end_user_id);
  put("litellm.model_group", p.model_group);
  put("litellm.call_id", p.litellm_call_id);
  put("litellm.call_type", p.call_type);
  put("litellm.status", p.status);
  if (p.request_tags && p.request_tags.length > 0) put("litellm.request_tags", p.request_tags.join(","));
  return {
    team: team.slice(0, 128),
    business_unit: unit.slice(0, 128),
    ...(costCenter === undefined ? {} : { cost_center: costCenter }),
    ...(environment === undefined ? {} : { environment }),
    labels,
  };
}

function iso(epochSeconds: number): string {
  return new Date(Math.round(epochSeconds * 1000)).toISOString();
}

/** The provider's model without LiteLLM's "<provider>/" prefix ("openai/gpt-4o" → "gpt-4o"). */
function providerModel(p: LoggingPayload): string | undefined {
  const model = present(p.model);
  const provider = present(p.custom_llm_provider);
  if (model === undefined || provider === undefined) return model;
  return model.startsWith(`${provider}/`) ? model.slice(provider.length + 1) : model;
}

function envelope(p: LoggingPayload, type: string, data: Record<string, unknown>): CloudEventJson {
  return {
    specversion: "1.0",
    id: p.id,
    source: LITELLM_EVENT_SOURCE,
    type,
    time: iso(p.endTime),
    datacontenttype: "application/json",
    data,
  };
}

function tokens(p: LoggingPayload): Record<string, number> {
  return {
    input_tokens: p.prompt_tokens ?? 0,
    output_tokens: p.completion_tokens ?? 0,
  };
}

/** The first schema issue of a payload, as a refusal naming its field (and its id, when it has one). */
function refusal(
  raw: unknown,
  error: { issues: readonly { path: PropertyKey[]; message: string }[] },
): PayloadUse {
  const issue = error.issues[0];
  const field = issue?.path.map(String).join(".") || "payload";
  const id = raw !== null && typeof raw === "object" ? (raw as { id?: unknown }).id : undefined;
  return {
    use: "refused",
    ...(typeof id === "string" ? { id: id.slice(0, 256) } : {}),
    field,
    reason: `${field}: ${issue?.message ?? "invalid"}`,
  };
}

/** What one element of a generic_api delivery becomes (see the module comment). Never throws. */
export function payloadUse(raw: unknown, deployments: readonly Deployment[]): PayloadUse {
  const parsed = loggingPayloadSchema.safeParse(raw);
  if (!parsed.success) return refusal(raw, parsed.error);
  const p = parsed.data;
  if (p.endTime < p.startTime) {
    return { use: "refused", id: p.id, field: "endTime", reason: "endTime: before startTime" };
  }
  const who = owner(p);
  const apiBase = present(p.api_base);
  const deployment = apiBase === undefined ? undefined : deploymentAtApiBase(deployments, apiBase);
  const model = present(p.model_group) ?? providerModel(p) ?? deployment?.model;
  if (p.cache_hit === true) {
    return {
      use: "event",
      kind: "cache-hit",
      event: envelope(p, INFERENCE_V1, {
        ...who,
        model: model ?? UNALLOCATED,
        model_version: providerModel(p) ?? model ?? UNALLOCATED,
        ...tokens(p),
        cache_hit: true,
        cost_nanos: "0",
      }),
    };
  }
  if (deployment !== undefined) {
    return {
      use: "event",
      kind: "self-hosted",
      event: envelope(p, ATTRIBUTION_V1, {
        deployment: deployment.name,
        request_id: p.id,
        request_start: iso(p.startTime),
        ...who,
      }),
    };
  }
  const provider = present(p.custom_llm_provider);
  if (provider === undefined) {
    return {
      use: "refused",
      id: p.id,
      field: "custom_llm_provider",
      reason: `custom_llm_provider: required to price the call, unless its api_base (${apiBase ?? "none"}) is one of a deployment's apiBases`,
    };
  }
  if (model === undefined) {
    return {
      use: "refused",
      id: p.id,
      field: "model_group",
      reason: "model_group: required to price the call",
    };
  }
  return {
    use: "event",
    kind: "provider",
    event: envelope(p, INFERENCE_V1, {
      ...who,
      model,
      model_version: providerModel(p) ?? model,
      provider: PROVIDER_NAMES[provider.toLowerCase()] ?? provider.toLowerCase(),
      ...tokens(p),
    }),
  };
}
