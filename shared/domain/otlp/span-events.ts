import { UNALLOCATED } from "#domain/cost-row.ts";
import { DEPLOYMENT_LABEL, REQUEST_ID_LABEL } from "#domain/events/attribution.ts";
import { INFERENCE_V1 } from "#domain/events/inference.ts";
import { timeOutOfRange } from "#domain/events/parse.ts";
import { type Deployment, deploymentOf, replicaOf } from "./deployments.ts";
import type { BusySpan } from "./gpu-share.ts";
import {
  type Attributes,
  countAttribute,
  firstCount,
  numberAttribute,
  type OtlpSpan,
  SPAN_KIND,
  stringAttribute,
} from "./spans.ts";

/**
 * What each span of an OTLP export means for cost, and the ai.cost.inference.v1 event it becomes:
 * 1. vLLM's `llm_request` and SGLang's request spans (GPU time of a mapped deployment, shared among
 *    the replica's requests: see gpu-share.ts);
 * 2. GenAI client spans (a provider API call, priced by its tokens);
 * 3. HTTP server spans of a deployment mapped with `gpuTimeFrom: "http-server-spans"` (GPU time).
 * Anything else is ignored. The shapes are pinned in test/unit/otlp-span-events.test.ts.
 */

/** Every event made from a span has this source; its id is the span's trace id and span id. */
export const OTLP_EVENT_SOURCE = "//otlp/v1/traces";

/** The dedupe id of a span's event: an exporter's retry of the same span is the same event. */
export function spanEventId(span: Pick<OtlpSpan, "traceId" | "spanId">): string {
  return `${span.traceId}-${span.spanId}`;
}

export type CloudEventJson = Record<string, unknown> & { id: string; data: Record<string, unknown> };

export type SpanUse =
  /** GPU time of a replica: the event once its share of the replica's busy time is known. */
  | {
      use: "gpu";
      group: string;
      deployment: Deployment;
      replica: string;
      busy: BusySpan;
      event: (shareUs: bigint) => CloudEventJson;
    }
  /** A provider API call, priced by its tokens. */
  | { use: "tokens"; event: CloudEventJson }
  /** No cost meaning: counted, never an error. */
  | { use: "ignored" }
  | SpanRefusal;

/** A span with cost meaning that cannot be used, and why (the answer's partial success names it). */
export interface SpanRefusal {
  use: "refused";
  field: string;
  reason: string;
}

/** A refusal naming its field, the reason starting with it as every rejection's does. */
function refused(field: string, detail: string): SpanRefusal {
  return { use: "refused", field, reason: `${field}: ${detail}` };
}

const LATENCY_PREFIX = "gen_ai.latency.";
const PROMPT = ["gen_ai.usage.prompt_tokens", "gen_ai.usage.input_tokens"];
const COMPLETION = ["gen_ai.usage.completion_tokens", "gen_ai.usage.output_tokens"];
const CACHED = ["gen_ai.usage.cached_tokens", "gen_ai.usage.cache_read.input_tokens"];
const CLIENT_INPUT = ["gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"];
const CLIENT_OUTPUT = ["gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"];
const CLIENT_CACHED = ["gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cached_tokens"];

/** gen_ai.provider.name (and the deprecated gen_ai.system) values the token catalog knows by another name. */
const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  "gcp.gemini": "google",
  "gcp.gen_ai": "google",
  gemini: "google",
};

const MAX_LABEL = 256;

function label(value: string): string {
  return value.length <= MAX_LABEL ? value : `${value.slice(0, MAX_LABEL - 1)}…`;
}

function iso(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

function toUs(ns: bigint): bigint {
  return ns / 1000n;
}

function secondsToUs(seconds: number): bigint {
  return BigInt(Math.round(seconds * 1e6));
}

/** Is this a vLLM or SGLang request span: vLLM's name, or the gen_ai.latency timings with token usage. */
export function isInferenceServerSpan(span: OtlpSpan): boolean {
  if (span.name === "llm_request") return true;
  const keys = Object.keys(span.attributes);
  return (
    keys.some((k) => k.startsWith(LATENCY_PREFIX)) &&
    firstCount(span.attributes, [...PROMPT, ...COMPLETION]) !== undefined
  );
}

function isGenAiClientSpan(span: OtlpSpan): boolean {
  if (span.kind === SPAN_KIND.server) return false;
  const a = span.attributes;
  return (
    a["gen_ai.operation.name"] !== undefined ||
    a["gen_ai.provider.name"] !== undefined ||
    a["gen_ai.system"] !== undefined
  );
}

function isHttpServerSpan(span: OtlpSpan): boolean {
  return (
    span.kind === SPAN_KIND.server &&
    (span.attributes["http.request.method"] !== undefined || span.attributes["http.method"] !== undefined)
  );
}

/** The time a request spent in the model: [end − time_in_model_inference, end), else after its queue time. */
export function inModelInterval(span: OtlpSpan): { fromUs: bigint; toUs: bigint } {
  const start = toUs(span.startNs);
  const end = toUs(span.endNs);
  const inference = numberAttribute(span.attributes, "gen_ai.latency.time_in_model_inference");
  const queue = numberAttribute(span.attributes, "gen_ai.latency.time_in_queue");
  let from = start;
  if (inference !== undefined && inference >= 0) from = end - secondsToUs(inference);
  else if (queue !== undefined && queue >= 0) from = start + secondsToUs(queue);
  if (from < start) from = start;
  if (from > end) from = end;
  return { fromUs: from, toUs: end };
}

/** The span's own labels: what it says that reports do not group by. */
function spanLabels(span: OtlpSpan, resource: Attributes, extra: Record<string, string | undefined>) {
  const labels: Record<string, string> = {};
  const put = (key: string, value: string | undefined) => {
    if (value !== undefined && value !== "") labels[key] = label(value);
  };
  put("otel.service.name", stringAttribute(resource, "service.name"));
  put("otel.span.name", span.name);
  put("otel.start", iso(span.startNs));
  put("otel.end", iso(span.endNs));
  for (const [key, value] of Object.entries(extra)) put(key, value);
  return labels;
}

function latencyLabels(attributes: Attributes): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const key of Object.keys(attributes).sort()) {
    if (key.startsWith(LATENCY_PREFIX)) out[key] = stringAttribute(attributes, key);
  }
  out[REQUEST_ID_LABEL] = stringAttribute(attributes, "gen_ai.request.id");
  out["gen_ai.response.finish_reasons"] = stringAttribute(attributes, "gen_ai.response.finish_reasons");
  return out;
}

function owner(deployment: Deployment | undefined, businessUnit?: string) {
  return {
    team: deployment?.owner.team ?? UNALLOCATED,
    business_unit: businessUnit ?? deployment?.owner.businessUnit ?? UNALLOCATED,
    ...(deployment?.owner.costCenter === undefined ? {} : { cost_center: deployment.owner.costCenter }),
    ...(deployment?.namespace === undefined ? {} : { namespace: deployment.namespace }),
    ...(deployment?.environment === undefined ? {} : { environment: deployment.environment }),
  };
}

function envelope(span: OtlpSpan, resource: Attributes, data: Record<string, unknown>): CloudEventJson {
  const service = stringAttribute(resource, "service.name");
  return {
    specversion: "1.0",
    id: spanEventId(span),
    source: OTLP_EVENT_SOURCE,
    type: INFERENCE_V1,
    time: iso(span.endNs),
    ...(service === undefined ? {} : { subject: label(service) }),
    datacontenttype: "application/json",
    data,
  };
}

/** Uncached input and cached input from a total that includes the cached tokens (semconv's input_tokens). */
/** Every token count attribute a span is read for. */
const TOKEN_KEYS = [...new Set([...PROMPT, ...COMPLETION, ...CACHED])];

/**
 * The first token count attribute the span carries that is not a count (negative, fractional, text,
 * NaN), as a refusal naming it: read as absent, it would price the span without those tokens.
 */
function unreadableCount(a: Attributes): SpanRefusal | undefined {
  for (const key of TOKEN_KEYS) {
    const value = a[key];
    if (value === undefined || countAttribute(a, key) !== undefined) continue;
    const shown = typeof value === "number" ? String(value) : JSON.stringify(value);
    return refused(key, `${shown} is not a token count (a whole number, 0 or more)`);
  }
  return undefined;
}

function splitInput(total: number | undefined, cached: number | undefined): Record<string, number> {
  if (total === undefined) return {};
  if (cached === undefined || cached <= 0 || cached > total) return { input_tokens: total };
  return { input_tokens: total - cached, cached_input_tokens: cached };
}

function businessUnitFromHeader(span: OtlpSpan, header: string): string | undefined {
  const name = header.toLowerCase();
  for (const key of [`http.request.header.${name}`, `http.request.header.${name.replaceAll("-", "_")}`]) {
    const value = stringAttribute(span.attributes, key)?.trim();
    if (value) return value.length <= 128 ? value : undefined;
  }
  return undefined;
}

function gpuUse(
  span: OtlpSpan,
  resource: Attributes,
  deployment: Deployment,
  busy: { fromUs: bigint; toUs: bigint },
  fields: {
    model: string;
    businessUnit?: string;
    tokens: Record<string, number>;
    labels: Record<string, string | undefined>;
  },
): SpanUse {
  const placement = deployment.placement;
  if (placement === undefined) {
    return refused(`deployments.${deployment.name}.placement`, "required to price this span's GPU time");
  }
  const replica = replicaOf(deployment, resource);
  const key = spanEventId(span);
  return {
    use: "gpu",
    group: `${deployment.name}\n${replica}`,
    deployment,
    replica,
    busy: { key, ...busy },
    event: (shareUs) =>
      envelope(span, resource, {
        ...owner(deployment, fields.businessUnit),
        model: fields.model,
        model_version: deployment.modelVersion ?? fields.model,
        cloud: placement.cloud,
        region: placement.region,
        ...(placement.instanceType === undefined ? {} : { instance_type: placement.instanceType }),
        ...(placement.accelerator === undefined ? {} : { accelerator: placement.accelerator }),
        pricing_model: placement.pricingModel,
        gpu_count: placement.gpusPerReplica,
        gpu_seconds: Number(shareUs) / 1e6,
        ...fields.tokens,
        labels: spanLabels(span, resource, {
          [DEPLOYMENT_LABEL]: deployment.name,
          "otel.replica": replica,
          "otel.time_in_model_s": String(Number(busy.toUs - busy.fromUs) / 1e6),
          ...fields.labels,
        }),
      }),
  };
}

/** Nanoseconds since 1970 that a Date holds (±8.64e15 ms). */
const MAX_INSTANT_NS = 8_640_000_000_000_000_000_000n;

function isInstant(ns: bigint): boolean {
  return ns >= -MAX_INSTANT_NS && ns <= MAX_INSTANT_NS;
}

/**
 * Why a span with cost meaning cannot be an event at `now`: its end (the event's time) further
 * ahead than clock skew allows, or older than the ingest path takes, as every event is judged.
 * Checked before its share of a replica's time is claimed: a span from a wrong clock would move the
 * replica's mark days ahead and leave every later request of it nothing.
 */
export function spanTimeRefusal(span: OtlpSpan, now: Date): SpanRefusal | undefined {
  const why = timeOutOfRange(new Date(Number(span.endNs / 1_000_000n)), now);
  return why === undefined ? undefined : refused("endTimeUnixNano", `${iso(span.endNs)} ${why}`);
}

/** What a span means for cost (see the module comment). Never throws. */
export function classifySpan(
  span: OtlpSpan,
  resource: Attributes,
  deployments: readonly Deployment[],
): SpanUse {
  const timeFault = !isInstant(span.startNs)
    ? refused("startTimeUnixNano", `${span.startNs} ns is no time a date can hold`)
    : !isInstant(span.endNs)
      ? refused("endTimeUnixNano", `${span.endNs} ns is no time a date can hold`)
      : span.endNs < span.startNs
        ? refused("endTimeUnixNano", "before startTimeUnixNano")
        : undefined;
  if (timeFault !== undefined) {
    return isInferenceServerSpan(span) || isGenAiClientSpan(span) ? timeFault : { use: "ignored" };
  }
  const deployment = deploymentOf(deployments, resource);
  const a = span.attributes;
  const inferenceServer = isInferenceServerSpan(span);
  const unreadable = inferenceServer || isGenAiClientSpan(span) ? unreadableCount(a) : undefined;
  if (unreadable !== undefined) return unreadable;
  if (inferenceServer) {
    if (deployment === undefined) {
      const service = stringAttribute(resource, "service.name") ?? "(no service.name)";
      return refused(
        "resource",
        `no deployment in the configuration matches service.name=${service}; an inference server's span names no placement to price it`,
      );
    }
    if (deployment.gpuTimeFrom !== "inference-spans") return { use: "ignored" };
    const model = deployment.model ?? stringAttribute(a, "gen_ai.response.model");
    if (model === undefined || model.trim() === "") {
      return refused(
        `deployments.${deployment.name}.model`,
        "required, the span names no model (gen_ai.response.model)",
      );
    }
    return gpuUse(span, resource, deployment, inModelInterval(span), {
      model: model.trim(),
      tokens: {
        ...splitInput(firstCount(a, PROMPT), firstCount(a, CACHED)),
        ...optional("output_tokens", firstCount(a, COMPLETION)),
      },
      labels: latencyLabels(a),
    });
  }
  if (isGenAiClientSpan(span)) {
    const providerRaw = stringAttribute(a, "gen_ai.provider.name") ?? stringAttribute(a, "gen_ai.system");
    const requested = stringAttribute(a, "gen_ai.request.model");
    const responded = stringAttribute(a, "gen_ai.response.model");
    const model = requested ?? responded;
    const input = firstCount(a, CLIENT_INPUT);
    const output = firstCount(a, CLIENT_OUTPUT);
    if (providerRaw === undefined) return refused("gen_ai.provider.name", "required to price the call");
    if (model === undefined) return refused("gen_ai.request.model", "required to price the call");
    if (input === undefined && output === undefined) {
      return refused("gen_ai.usage.input_tokens", "the call reports no token usage to price");
    }
    const provider = PROVIDER_NAMES[providerRaw.toLowerCase()] ?? providerRaw.toLowerCase();
    return {
      use: "tokens",
      event: envelope(span, resource, {
        ...owner(deployment),
        model,
        model_version: responded ?? model,
        provider,
        ...splitInput(input, firstCount(a, CLIENT_CACHED)),
        ...optional("output_tokens", output),
        labels: spanLabels(span, resource, {
          ...(deployment === undefined ? {} : { "otel.deployment": deployment.name }),
          "gen_ai.operation.name": stringAttribute(a, "gen_ai.operation.name"),
          "gen_ai.provider.name": providerRaw,
          "gen_ai.response.id": stringAttribute(a, "gen_ai.response.id"),
        }),
      }),
    };
  }
  if (deployment?.gpuTimeFrom === "http-server-spans" && isHttpServerSpan(span)) {
    const route =
      stringAttribute(a, "http.route") ?? stringAttribute(a, "url.path") ?? stringAttribute(a, "http.target");
    if (route !== undefined && deployment.ignoreRoutes.includes(route)) return { use: "ignored" };
    if (deployment.model === undefined) {
      return refused(`deployments.${deployment.name}.model`, "required for HTTP server spans");
    }
    const unit = businessUnitFromHeader(span, deployment.businessUnitHeader);
    return gpuUse(
      span,
      resource,
      deployment,
      { fromUs: toUs(span.startNs), toUs: toUs(span.endNs) },
      {
        model: deployment.model,
        ...(unit === undefined ? {} : { businessUnit: unit }),
        tokens: {},
        labels: {
          "http.route": route,
          "http.request.method":
            stringAttribute(a, "http.request.method") ?? stringAttribute(a, "http.method"),
          "http.response.status_code":
            stringAttribute(a, "http.response.status_code") ?? stringAttribute(a, "http.status_code"),
        },
      },
    );
  }
  return { use: "ignored" };
}

function optional(key: string, value: number | undefined): Record<string, number> {
  return value === undefined ? {} : { [key]: value };
}
