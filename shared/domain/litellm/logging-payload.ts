import { z } from "zod";

/**
 * The fields of LiteLLM's StandardLoggingPayload (litellm/types/utils.py) that say what a request
 * cost and whose it was. zod drops every other key as it parses, so `messages` and `response` (the
 * prompt and the answer, present unless message logging is off) never go further than this parse.
 * LiteLLM writes null for much of what it does not know, so nullable and optional are the same here.
 */

const text = (max: number) => z.string().max(max).nullish();
const count = z.number().int().nonnegative().max(100_000_000).nullish();
const epochSeconds = z.number().positive().max(1e11);

const metadataSchema = z.object({
  user_api_key_team_id: text(256),
  user_api_key_team_alias: text(256),
  user_api_key_org_id: text(256),
  user_api_key_end_user_id: text(256),
  spend_logs_metadata: z.record(z.string(), z.unknown()).nullish(),
});

export const loggingPayloadSchema = z.object({
  /** The upstream response id (vLLM's chatcmpl-...); on a cache hit "<id>_cache_hit<time>". */
  id: z.string().trim().min(1).max(256),
  litellm_call_id: text(256),
  call_type: text(128),
  status: text(32),
  /** The provider's model as LiteLLM called it; model_group is the name clients asked for. */
  model: text(256),
  model_group: text(256),
  custom_llm_provider: text(64),
  api_base: text(2048),
  prompt_tokens: count,
  completion_tokens: count,
  startTime: epochSeconds,
  endTime: epochSeconds,
  cache_hit: z.boolean().nullish(),
  response_cost: z.number().nullish(),
  request_tags: z.array(z.string().max(256)).max(100).nullish(),
  end_user: text(256),
  metadata: metadataSchema.nullish(),
});

export type LoggingPayload = z.infer<typeof loggingPayloadSchema>;

type Fields = Record<string, unknown>;

const isFields = (value: unknown): value is Fields =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** What may be kept of a value the schema reads as text, a number, a flag or a list of texts. */
function plain(value: unknown): unknown {
  if (value === null || ["string", "number", "boolean"].includes(typeof value)) return value;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  return undefined;
}

/** The `keys` that `raw` has with plain values, in the order of `keys`. */
function pick(raw: Fields, keys: readonly string[]): Fields {
  const out: Fields = {};
  for (const key of keys) {
    const value = plain(raw[key]);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

const TOP_KEYS = Object.keys(loggingPayloadSchema.shape).filter((k) => k !== "metadata");
// spend_logs_metadata is free-form: whatever a client put there stays out.
const METADATA_KEYS = Object.keys(metadataSchema.shape).filter((k) => k !== "spend_logs_metadata");

/**
 * A payload as it may be kept when it is refused: only the plain fields this schema reads (the
 * four key ids of its metadata among them), so its prompt, its answer and anything else a client
 * logged are never stored or dead-lettered, however malformed the rest is.
 */
export function keptOfPayload(raw: unknown): Fields {
  if (!isFields(raw)) return {};
  const kept = pick(raw, TOP_KEYS);
  if (isFields(raw.metadata)) {
    const metadata = pick(raw.metadata, METADATA_KEYS);
    if (Object.keys(metadata).length > 0) kept.metadata = metadata;
  }
  return kept;
}

/** A body that is not LiteLLM's callback output at all; `field` names what is wrong. */
export class LoggingBodyError extends Error {
  override readonly name = "LoggingBodyError";
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/**
 * The payloads of a generic_api delivery: a JSON array (`log_format: json_array`, the default), one
 * object (`single`), or one object per line (`ndjson`). Each element is checked on its own later.
 */
export function decodeLoggingBody(body: string): unknown[] {
  const trimmed = body.trim();
  if (trimmed === "") throw new LoggingBodyError("body", "empty: expected LiteLLM's logging payloads");
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (Array.isArray(parsed)) return parsed;
    if (parsed !== null && typeof parsed === "object") return [parsed];
    throw new LoggingBodyError("body", "must be a JSON array or object of LiteLLM logging payloads");
  } catch (error) {
    if (error instanceof LoggingBodyError) throw error;
  }
  const lines = trimmed.split(/\r?\n/);
  return lines.flatMap((line, i) => {
    if (line.trim() === "") return [];
    try {
      return [JSON.parse(line) as unknown];
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new LoggingBodyError(`body line ${i + 1}`, `not JSON (${why})`);
    }
  });
}
