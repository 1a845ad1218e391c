import { regexes } from "zod/v4/core";
import type { CostEvent, InferenceEvent, TrainingEvent } from "./cloud-event.ts";
import { MAX_GPU_SECONDS } from "./common.ts";
import { INFERENCE_V1, type InferenceData } from "./inference.ts";
import { MAX_JOB_SECONDS, TRAINING_V1, type TrainingData } from "./training.ts";

/**
 * The hot path of validation: inference and training events checked by hand, building exactly the
 * value the zod schemas in cloud-event.ts, inference.ts and training.ts build (the same keys in the
 * same order, strings trimmed, defaults filled in). It never rejects: whenever an event is not
 * plainly valid it answers undefined, and parseCostEvent asks zod, whose first issue names the
 * field. test/unit/fast-parse.test.ts holds the two to the same answer on valid and mutated events.
 */

/** What a field check answers when the event must go to zod. */
const NO: unique symbol = Symbol("not on the fast path");
type No = typeof NO;
type Fields = Record<string, unknown>;

/** z.iso.datetime({ offset: true }), the envelope's `time`. */
const DATETIME = regexes.datetime({ offset: true, local: false });
const NANOS_TEXT = /^-?\d{1,30}$/;
const CURRENCY = /^[A-Z]{3}$/;
const PHASES: ReadonlySet<unknown> = new Set(["started", "progress", "finished", "failed"]);
const CLOUDS: ReadonlySet<unknown> = new Set(["gcp", "aws", "azure", "other"]);

function isFields(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** z.string().max(max), optional. */
function text(value: unknown, max: number): string | undefined | No {
  if (value === undefined) return undefined;
  return typeof value === "string" && value.length <= max ? value : NO;
}

/** z.string().trim().min(1).max(max): the trimmed text. */
function name(value: unknown, max: number): string | No {
  if (typeof value !== "string") return NO;
  const trimmed = value.trim();
  return trimmed.length >= 1 && trimmed.length <= max ? trimmed : NO;
}

function optionalName(value: unknown, max: number): string | undefined | No {
  return value === undefined ? undefined : name(value, max);
}

/** z.number() between min and max (inclusive; above min when `aboveMin`), optional. */
function number(value: unknown, min: number, max: number, aboveMin = false): number | undefined | No {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value > max) return NO;
  return value > min || (!aboveMin && value === min) ? value : NO;
}

/** z.number().int().nonnegative().max(max), optional. */
function count(value: unknown, max: number): number | undefined | No {
  if (value === undefined) return undefined;
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= max
    ? (value as number)
    : NO;
}

/** nonNegativeNanosSchema, optional: a decimal string or a safe integer, as bigint. */
function nanos(value: unknown): bigint | undefined | No {
  if (value === undefined) return undefined;
  let amount: bigint;
  if (typeof value === "string" && NANOS_TEXT.test(value)) amount = BigInt(value);
  else if (Number.isSafeInteger(value)) amount = BigInt(value as number);
  else return NO;
  return amount >= 0n ? amount : NO;
}

function currency(value: unknown): string | No {
  if (value === undefined) return "USD";
  return typeof value === "string" && CURRENCY.test(value) ? value : NO;
}

/** z.record(z.string().max(128), z.string().max(256)), optional: a copy in the input's key order. */
function labels(value: unknown): Record<string, string> | undefined | No {
  if (value === undefined) return undefined;
  if (!isFields(value)) return NO;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return NO;
  const out: Record<string, string> = {};
  for (const key of Object.keys(value)) {
    const label = value[key];
    // `__proto__` would set the copy's prototype rather than a label: zod's own copy decides.
    if (key.length > 128 || key === "__proto__" || typeof label !== "string" || label.length > 256) return NO;
    out[key] = label;
  }
  return out;
}

/**
 * Writes `value` under `key` when it is there; false when the field must go to zod. Keys are
 * written in the schema's order, so an absent optional field leaves no key, as zod leaves none.
 */
function put(out: Fields, key: string, value: unknown): boolean {
  if (value === NO) return false;
  if (value !== undefined) out[key] = value;
  return true;
}

/** ownerFields after team and model: whether every one of them is plainly valid. */
function owners(d: Fields, out: Fields, required: boolean): boolean {
  const modelVersion = optionalName(d.model_version, 128);
  const businessUnit = optionalName(d.business_unit, 128);
  if (required && (modelVersion === undefined || businessUnit === undefined)) return false;
  return (
    put(out, "model_version", modelVersion) &&
    put(out, "business_unit", businessUnit) &&
    put(out, "cost_center", optionalName(d.cost_center, 128)) &&
    put(out, "environment", optionalName(d.environment, 64)) &&
    put(out, "namespace", optionalName(d.namespace, 253)) &&
    put(out, "labels", labels(d.labels))
  );
}

/** placementFields, pricing_model defaulting to on_demand. */
function placement(d: Fields, out: Fields): boolean {
  const pricingModel = d.pricing_model === undefined ? "on_demand" : d.pricing_model;
  return (
    (d.cloud === undefined || CLOUDS.has(d.cloud)) &&
    put(out, "cloud", d.cloud) &&
    put(out, "region", optionalName(d.region, 64)) &&
    put(out, "instance_type", optionalName(d.instance_type, 64)) &&
    put(out, "accelerator", optionalName(d.accelerator, 64)) &&
    (pricingModel === "on_demand" || pricingModel === "spot") &&
    put(out, "pricing_model", pricingModel)
  );
}

/** The start of every data object: team and model, required names. */
function ownedBy(d: Fields): Fields | undefined {
  const team = name(d.team, 128);
  const model = name(d.model, 128);
  return team === NO || model === NO ? undefined : { team, model };
}

function inferenceData(d: Fields): InferenceData | undefined {
  const out = ownedBy(d);
  if (out === undefined || !owners(d, out, true) || !placement(d, out)) return undefined;
  const ok =
    put(out, "gpu_count", number(d.gpu_count, 0, 64, true)) &&
    put(out, "gpu_seconds", number(d.gpu_seconds, 0, MAX_GPU_SECONDS)) &&
    put(out, "provider", optionalName(d.provider, 64)) &&
    put(out, "input_tokens", count(d.input_tokens, 10_000_000)) &&
    put(out, "cached_input_tokens", count(d.cached_input_tokens, 10_000_000)) &&
    put(out, "output_tokens", count(d.output_tokens, 10_000_000)) &&
    (d.cache_hit === undefined || typeof d.cache_hit === "boolean") &&
    put(out, "cache_hit", d.cache_hit) &&
    put(out, "request_fingerprint", text(d.request_fingerprint, 256)) &&
    put(out, "cost_nanos", nanos(d.cost_nanos)) &&
    put(out, "currency", currency(d.currency));
  if (!ok) return undefined;
  // The schema's superRefine: something to price the event by.
  if (out.cost_nanos === undefined) {
    if (out.provider !== undefined) {
      if (out.input_tokens === undefined && out.output_tokens === undefined) return undefined;
    } else if (
      (out.instance_type === undefined && out.accelerator === undefined) ||
      out.gpu_seconds === undefined
    ) {
      return undefined;
    }
  }
  return out as InferenceData;
}

function trainingData(d: Fields): TrainingData | undefined {
  const out = ownedBy(d);
  if (out === undefined || !owners(d, out, false)) return undefined;
  const gpuCount = number(d.gpu_count, 0, 64, true);
  const elapsed = number(d.elapsed_seconds, 0, MAX_JOB_SECONDS);
  const ok =
    put(out, "job_id", name(d.job_id, 256)) &&
    PHASES.has(d.phase) &&
    put(out, "phase", d.phase) &&
    placement(d, out) &&
    gpuCount !== undefined &&
    put(out, "gpu_count", gpuCount) &&
    put(out, "epoch", count(d.epoch, Number.MAX_SAFE_INTEGER)) &&
    elapsed !== undefined &&
    put(out, "elapsed_seconds", elapsed) &&
    put(out, "cost_nanos", nanos(d.cost_nanos)) &&
    put(out, "currency", currency(d.currency));
  if (!ok) return undefined;
  if (out.cost_nanos === undefined && out.instance_type === undefined && out.accelerator === undefined)
    return undefined;
  return out as TrainingData;
}

/**
 * The event zod's schemas would make of `raw` when it is a plainly valid inference or training
 * event, its `time` still as written; undefined for anything else (another type, a field in doubt).
 */
export function fastCostEvent(raw: unknown): { event: CostEvent; time: string } | undefined {
  if (!isFields(raw) || raw.specversion !== "1.0") return undefined;
  const { id, source, type, time, subject } = raw;
  if (typeof id !== "string" || id.length < 1 || id.length > 256) return undefined;
  if (typeof source !== "string" || source.length < 1 || source.length > 512) return undefined;
  if (typeof time !== "string" || !DATETIME.test(time)) return undefined;
  if (subject !== undefined && (typeof subject !== "string" || subject.length > 512)) return undefined;
  if (raw.datacontenttype !== undefined && typeof raw.datacontenttype !== "string") return undefined;
  if (raw.dataschema !== undefined && typeof raw.dataschema !== "string") return undefined;
  if (!isFields(raw.data)) return undefined;
  const base = { id, source, time: new Date(time), ...(subject === undefined ? {} : { subject }) };
  if (type === INFERENCE_V1) {
    const data = inferenceData(raw.data);
    return data && { event: { ...base, type, data } satisfies InferenceEvent, time };
  }
  if (type === TRAINING_V1) {
    const data = trainingData(raw.data);
    return data && { event: { ...base, type, data } satisfies TrainingEvent, time };
  }
  return undefined;
}
