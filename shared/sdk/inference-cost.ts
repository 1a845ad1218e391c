import { createHash, randomUUID } from "node:crypto";
import type { z } from "zod";
import { MAX_GPU_SECONDS } from "#domain/events/common.ts";
import { INFERENCE_V1, inferenceDataSchema } from "#domain/events/inference.ts";
import type { EventPublisher } from "#sdk/batching-publisher.ts";
import { type SdkClock, systemSdkClock } from "#sdk/sdk-clock.ts";
import { PublisherError, SdkConfigError } from "#sdk/sdk-errors.ts";
import { optionalEventFields } from "./event-fields.ts";

/** The `data` of an ai.cost.inference.v1 event as it goes on the wire. */
export type InferenceEventData = z.input<typeof inferenceDataSchema>;

export type HeaderValue = string | number | readonly string[] | undefined;

/** What the recorder needs of a request; node's IncomingMessage headers fit `headers` as they are. */
export interface InferenceRequestInfo {
  method: string;
  /** The request target as received: path and query ("/v1/generate?stream=false"). */
  path: string;
  /** Header names in lower case (as node delivers them). */
  headers: Readonly<Record<string, HeaderValue>>;
  /** The request body, when it is known at the start (raw bytes, text or parsed JSON). */
  body?: unknown;
}

export interface InferenceOutcome {
  status?: number;
  /** The request body as the framework parsed it, when it was not known at the start. */
  body?: unknown;
}

export interface TokenCounts {
  input?: number;
  output?: number;
  cachedInput?: number;
}

/** One request in flight. Every method is safe to call from a handler: none of them throws. */
export interface InferenceCostHandle {
  /**
   * The GPU-seconds the handler measured itself (a CUDA timer, a batch scheduler's share); used
   * instead of the request's wall time. Seconds of use of the placement's `gpu_count` GPUs.
   */
  setGpuSeconds(seconds: number): void;
  setTokens(tokens: TokenCounts): void;
  /** The handler answered from a cache (the request cost no or little GPU time). */
  setCacheHit(hit: boolean): void;
  /** Overrides the business unit the header named (a handler that knows its tenant better). */
  setBusinessUnit(unit: string): void;
  /** Measures the request and publishes its event. Later calls do nothing. */
  end(outcome?: InferenceOutcome): void;
}

export interface InferencePlacement {
  cloud: "gcp" | "aws" | "azure" | "other";
  region: string;
  instance_type?: string;
  accelerator?: string;
  pricing_model?: "on_demand" | "spot";
  /** GPUs the serving process holds; a fraction for a shared GPU (MIG slice, time-sliced). */
  gpu_count: number;
}

export interface InferenceCostRecorderOptions {
  publisher: EventPublisher;
  /** CloudEvents `source` of this server, e.g. "//inference/llm-chat/pod-7". */
  source: string;
  model: string;
  model_version: string;
  team: string;
  /** The business unit when the request names none (or one not allowed). Default "unallocated". */
  business_unit?: string;
  cost_center?: string;
  environment?: string;
  namespace?: string;
  labels?: Record<string, string>;
  placement: InferencePlacement;
  /** The header that names the calling business unit. Default "x-business-unit". */
  businessUnitHeader?: string;
  /**
   * Business units a header may name; any other value falls back to `business_unit`. Leave unset
   * to take any value (clients are trusted, or a gateway sets the header).
   */
  allowedBusinessUnits?: readonly string[];
  /**
   * The request's fingerprint for cache-savings analysis (identical requests share it). Default:
   * sha256 of the method, the request target and the sha256 of the body (parsed JSON bodies are
   * hashed with their keys sorted). Return undefined to leave it out.
   */
  fingerprint?: (request: InferenceRequestInfo) => string | undefined;
  /** Which requests to record (health checks and metrics scrapes usually not). Default: all. */
  include?: (request: InferenceRequestInfo) => boolean;
  clock?: SdkClock;
  /** Event ids, unique per source. Default crypto.randomUUID. */
  idFactory?: () => string;
  /** Told when a request could not be recorded (a bug or a throwing user function). */
  onError?: (error: PublisherError) => void;
}

export interface InferenceCostRecorder {
  /** Starts measuring a request. Never throws; returns a handle that does nothing if it cannot record. */
  start(request: InferenceRequestInfo): InferenceCostHandle;
}

const DEFAULT_BUSINESS_UNIT = "unallocated";
const MAX_NAME = 128;
const MAX_TOKENS = 10_000_000;
const MAX_FINGERPRINT = 256;

const NOOP_HANDLE: InferenceCostHandle = {
  setGpuSeconds() {},
  setTokens() {},
  setCacheHit() {},
  setBusinessUnit() {},
  end() {},
};

/** JSON with object keys sorted at every level, so equal bodies hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(",")}]`;
  const entries = Object.entries(value)
    .filter(([, v]) => v !== undefined && typeof v !== "function")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** The body as the bytes or text the hash reads: raw bytes as they are, parsed JSON canonically. */
function bodyText(body: unknown): string | Uint8Array {
  if (body === undefined || body === null) return "";
  if (body instanceof Uint8Array || typeof body === "string") return body;
  return canonicalJson(body);
}

/** sha256(METHOD \n target \n sha256(body)), hex: the default request fingerprint. */
export function requestFingerprint(request: InferenceRequestInfo): string {
  const bodyHash = createHash("sha256").update(bodyText(request.body)).digest("hex");
  return createHash("sha256")
    .update(`${request.method.toUpperCase()}\n${request.path}\n${bodyHash}`)
    .digest("hex");
}

function firstHeader(value: HeaderValue): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number") return String(value);
  return typeof value === "string" ? value : value[0];
}

function validCount(value: number | undefined): number | undefined {
  return value !== undefined && Number.isInteger(value) && value >= 0 && value <= MAX_TOKENS
    ? value
    : undefined;
}

/** Seconds rounded to the microsecond: finer than any price, short on the wire. */
function roundSeconds(seconds: number): number {
  return Math.min(MAX_GPU_SECONDS, Math.round(seconds * 1e6) / 1e6);
}

function templateOf(options: InferenceCostRecorderOptions) {
  const { placement } = options;
  const template: InferenceEventData = {
    team: options.team,
    model: options.model,
    model_version: options.model_version,
    business_unit: options.business_unit ?? DEFAULT_BUSINESS_UNIT,
    cloud: placement.cloud,
    region: placement.region,
    gpu_count: placement.gpu_count,
    ...optionalEventFields(options, placement),
  };
  return template;
}

/** Checks at start-up that the options make valid events, naming the option that does not. */
function validateTemplate(template: InferenceEventData): void {
  const result = inferenceDataSchema.safeParse({ ...template, gpu_seconds: 0 });
  if (result.success) return;
  const issue = result.error.issues[0];
  const key = issue?.path.map(String).join(".") ?? "";
  const placementKeys = new Set([
    "cloud",
    "region",
    "instance_type",
    "accelerator",
    "pricing_model",
    "gpu_count",
  ]);
  const field = placementKeys.has(key) ? `placement.${key}` : key;
  throw new SdkConfigError(field || "options", issue?.message ?? "invalid");
}

/**
 * Records the cost of each request an inference server answers: one ai.cost.inference.v1 event per
 * request with its GPU time (the handler's wall time, or GPU-seconds the handler reports) on the
 * configured placement, the business unit the request names in a header, its token counts and a
 * fingerprint for cache-savings analysis. Framework-agnostic: the Express middleware and the
 * Fastify plugin call `start` and `end`.
 *
 * Wall time overstates GPU use when requests share the GPU at once (continuous batching): the
 * pipeline divides the pod's infrastructure cost by these GPU-seconds where it has that cost, so
 * shares stay right; where it does not, report measured GPU-seconds with `setGpuSeconds`.
 */
export function createInferenceCostRecorder(options: InferenceCostRecorderOptions): InferenceCostRecorder {
  if (!options.publisher || typeof options.publisher.publish !== "function") {
    throw new SdkConfigError("publisher", "must have a publish(event) method");
  }
  if (typeof options.source !== "string" || options.source.trim() === "" || options.source.length > 512) {
    throw new SdkConfigError("source", "must be a non-empty string of at most 512 characters");
  }
  if (!options.placement || typeof options.placement !== "object") {
    throw new SdkConfigError(
      "placement",
      "is required: cloud, region, instance_type or accelerator, gpu_count",
    );
  }
  const template = templateOf(options);
  validateTemplate(template);
  const header = (options.businessUnitHeader ?? "x-business-unit").toLowerCase();
  const defaultUnit = template.business_unit;
  const allowed = options.allowedBusinessUnits ? new Set(options.allowedBusinessUnits) : undefined;
  const clock = options.clock ?? systemSdkClock;
  const idFactory = options.idFactory ?? randomUUID;
  const { publisher, source } = options;

  const fail = (message: string, cause: unknown) => {
    try {
      options.onError?.(new PublisherError("internal", message, { cause }));
    } catch {
      // The error callback failing is no reason to fail the request.
    }
  };

  const businessUnit = (value: string | undefined): string => {
    const unit = value?.trim();
    if (!unit || unit.length > MAX_NAME) return defaultUnit;
    if (allowed && !allowed.has(unit)) return defaultUnit;
    return unit;
  };

  const fingerprintOf = (request: InferenceRequestInfo): string | undefined => {
    try {
      const value = options.fingerprint ? options.fingerprint(request) : requestFingerprint(request);
      return typeof value === "string" && value.length > 0 && value.length <= MAX_FINGERPRINT
        ? value
        : undefined;
    } catch (error) {
      fail("the fingerprint function threw; the event goes without a fingerprint", error);
      return undefined;
    }
  };

  function start(request: InferenceRequestInfo): InferenceCostHandle {
    if (options.include && !options.include(request)) return NOOP_HANDLE;
    const startedNs = clock.monotonicNs();
    let unit = businessUnit(firstHeader(request.headers[header]));
    let gpuSeconds: number | undefined;
    let tokens: TokenCounts = {};
    let cacheHit: boolean | undefined;
    let ended = false;

    return {
      setGpuSeconds(seconds) {
        if (typeof seconds === "number" && Number.isFinite(seconds) && seconds >= 0) gpuSeconds = seconds;
      },
      setTokens(counts) {
        if (counts && typeof counts === "object") tokens = { ...tokens, ...counts };
      },
      setCacheHit(hit) {
        if (typeof hit === "boolean") cacheHit = hit;
      },
      setBusinessUnit(value) {
        if (typeof value === "string") unit = businessUnit(value);
      },
      end(outcome) {
        if (ended) return;
        ended = true;
        try {
          const wallSeconds = Number(clock.monotonicNs() - startedNs) / 1e9;
          const data: InferenceEventData = {
            ...template,
            business_unit: unit,
            gpu_seconds: roundSeconds(gpuSeconds ?? wallSeconds),
          };
          const input = validCount(tokens.input);
          const output = validCount(tokens.output);
          const cachedInput = validCount(tokens.cachedInput);
          if (input !== undefined) data.input_tokens = input;
          if (output !== undefined) data.output_tokens = output;
          if (cachedInput !== undefined) data.cached_input_tokens = cachedInput;
          if (cacheHit !== undefined) data.cache_hit = cacheHit;
          const body = outcome?.body !== undefined ? outcome.body : request.body;
          const fingerprint = fingerprintOf(body === undefined ? request : { ...request, body });
          if (fingerprint !== undefined) data.request_fingerprint = fingerprint;
          publisher.publish({
            specversion: "1.0",
            id: idFactory(),
            source,
            type: INFERENCE_V1,
            time: new Date(clock.now()).toISOString(),
            datacontenttype: "application/json",
            data,
          });
        } catch (error) {
          fail("a request's cost event could not be built", error);
        }
      },
    };
  }

  return {
    start(request) {
      try {
        return start(request);
      } catch (error) {
        fail("a request could not be measured", error);
        return NOOP_HANDLE;
      }
    },
  };
}

const handles = new WeakMap<object, InferenceCostHandle>();

/** Ties a request object to its handle (the framework adapters do this). */
export function bindInferenceCost(request: object, handle: InferenceCostHandle): void {
  handles.set(request, handle);
}

/**
 * The cost handle of a request (Express `req`, Fastify `request` or its `raw`), for a handler that
 * reports GPU-seconds, tokens or a cache hit. A no-op handle when the request is not recorded.
 */
export function inferenceCostOf(request: object): InferenceCostHandle {
  return handles.get(request) ?? NOOP_HANDLE;
}
