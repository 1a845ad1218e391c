import { gunzipSync } from "node:zlib";
/**
 * Turns the bytes of a delivery (an HTTP body, a Pub/Sub message) into raw CloudEvent candidates.
 * Only framing is decided here: one structured event, a CloudEvents batch (JSON array), or NDJSON.
 * What each event must contain is parseCostEvent's job; a bad event or line is rejected alone.
 */

/** A whole body above this is rejected unread (Pub/Sub's own message limit is 10 MB). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** One event above this is rejected, naming the field that makes it big (the CloudEvents 64 KB guidance). */
export const MAX_EVENT_BYTES = 64 * 1024;
/** How much of a rejected payload is kept for the dead-letter path and the rejected table. */
export const MAX_PAYLOAD_BYTES = 8 * 1024;

export interface DecodedItem {
  /** Position in the body: the array index, or the 0-based line number of an NDJSON body. */
  index: number;
  raw: unknown;
  /** The item's own JSON text, for the dead-letter path. */
  text: string;
}

export interface DecodeRejection {
  index: number;
  field: string;
  reason: string;
  /**
   * The offending input, truncated to MAX_PAYLOAD_BYTES: its text, or, for a body that could not
   * be decoded to text (a bad or unsupported content-encoding), the received bytes in base64.
   */
  payload: string;
  /**
   * On a rejection of the body as a whole (it could not be inflated, is too large, is not JSON,
   * is an empty batch): the body's bytes exactly as they were received, still compressed if they
   * came compressed. This, not `payload`, is what a dead-letter path publishes (with the body's
   * content-type and content-encoding), so that the input can be replayed as it came. Absent on
   * rejections of one event or line.
   */
  received?: Buffer;
}

export interface DecodeResult {
  items: DecodedItem[];
  rejections: DecodeRejection[];
}

/** A body and its media type, as a transport delivered it. */
export interface EventBody {
  body: string | Buffer;
  contentType?: string;
  /** `gzip` when the emitter compressed the batch (the SDK's publisher does by default). */
  contentEncoding?: string;
}

const NDJSON_TYPES = new Set([
  "application/x-ndjson",
  "application/ndjson",
  "application/jsonl",
  "application/x-jsonlines",
  "application/jsonlines",
]);
const BATCH_TYPE = "application/cloudevents-batch+json";
const TRUNCATION_MARK = "…";

/** Whether a body of this media type can hold events: JSON (application/json, any +json), NDJSON, or plain text of either. */
export function isEventMediaType(type: string): boolean {
  return (
    type === "application/json" || type.endsWith("+json") || NDJSON_TYPES.has(type) || type === "text/plain"
  );
}

/** The media type without parameters, lower-cased: "Application/JSON; charset=utf-8" → "application/json". */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** Cuts `text` to at most `maxBytes` UTF-8 bytes, never inside a character, marking the cut with "…". */
export function truncatePayload(text: string, maxBytes = MAX_PAYLOAD_BYTES): string {
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return text;
  const room = maxBytes - Buffer.byteLength(TRUNCATION_MARK, "utf8");
  const cut = Buffer.from(text, "utf8")
    .subarray(0, room)
    .toString("utf8")
    .replace(/\uFFFD+$/, "");
  return `${cut}${TRUNCATION_MARK}`;
}

function jsonSize(value: unknown): number {
  const text = JSON.stringify(value);
  return text === undefined ? 0 : Buffer.byteLength(text, "utf8");
}

/**
 * The dotted path of what makes an oversized value big: descends into the child holding more than
 * half of the value's size while there is one ("data.labels.note"); "" when no single part dominates.
 */
export function dominantPath(value: unknown): string {
  const path: string[] = [];
  let node = value;
  let size = jsonSize(node);
  for (;;) {
    if (node === null || typeof node !== "object") break;
    const entries: Array<[string, unknown]> = Array.isArray(node)
      ? node.map((v, i) => [String(i), v])
      : Object.entries(node);
    let best: [string, unknown, number] | undefined;
    for (const [key, child] of entries) {
      const childSize = jsonSize(child) + Buffer.byteLength(key, "utf8");
      if (!best || childSize > best[2]) best = [key, child, childSize];
    }
    if (!best || best[2] * 2 <= size) break;
    path.push(best[0]);
    node = best[1];
    size = best[2];
  }
  return path.join(".");
}

function describeSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

function jsonError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The 1-based line a JSON.parse error points at (V8 says "at position N"); 1 when it does not say. */
function errorLine(error: unknown, text: string): number {
  const position = /at position (\d+)/.exec(jsonError(error))?.[1];
  if (position === undefined) return 1;
  return text.slice(0, Number(position)).split("\n").length;
}

/** Several non-blank lines of which the first is a JSON value on its own: newline-delimited JSON. */
function looksLikeNdjson(text: string): boolean {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length < 2) return false;
  // One good line is enough: a broken first line must not take the good ones down with it.
  return lines.some((line) => {
    try {
      JSON.parse(line);
      return true;
    } catch {
      return false;
    }
  });
}

/** A UTF-16 code unit is at most three UTF-8 bytes: text this short cannot be over the event limit. */
const SURELY_SMALL_CHARS = Math.floor(MAX_EVENT_BYTES / 3);

function itemOrRejection(index: number, raw: unknown, text: string, out: DecodeResult): void {
  if (text.length <= SURELY_SMALL_CHARS) {
    out.items.push({ index, raw, text });
    return;
  }
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_EVENT_BYTES) {
    const field = dominantPath(raw);
    const what = field || "event";
    out.rejections.push({
      index,
      field,
      reason: `${what}: too large (the event is ${describeSize(bytes)}, at most ${describeSize(MAX_EVENT_BYTES)} allowed)`,
      payload: truncatePayload(text),
    });
    return;
  }
  out.items.push({ index, raw, text });
}

function decodeLines(text: string, out: DecodeResult): void {
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    let line = lines[index] as string;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (error) {
      if (line.trim() === "") continue;
      out.rejections.push({
        index,
        field: "body",
        reason: `body: line ${index + 1} is not valid JSON (${jsonError(error)})`,
        payload: truncatePayload(line),
      });
      continue;
    }
    itemOrRejection(index, raw, line, out);
  }
}

/**
 * Splits a body into raw events. Framing follows the content type when it names one
 * (NDJSON types, `application/cloudevents-batch+json`) and the body's shape otherwise: a JSON array
 * is a batch, a JSON object one event, and text that is not one JSON value but has several lines
 * is read as NDJSON. Never throws.
 */
/** Inflates a gzip body, bounded so a small bomb cannot become a huge body; a string is why it failed. */
function gunzipBounded(body: string | Buffer): Buffer | string {
  try {
    return gunzipSync(typeof body === "string" ? Buffer.from(body, "latin1") : body, {
      maxOutputLength: MAX_BODY_BYTES + 1,
    });
  } catch (error) {
    return (error as Error).message;
  }
}

export function decodeEventBody(
  body: string | Buffer,
  contentType?: string,
  contentEncoding?: string,
): DecodeResult {
  const out: DecodeResult = { items: [], rejections: [] };
  const encoding = contentEncoding?.trim().toLowerCase();
  const encoded = encoding !== undefined && encoding !== "" && encoding !== "identity";
  const delivered = body;
  // The bytes as delivered (a string given with an encoding carries its bytes as latin1).
  const received = (): Buffer =>
    typeof delivered === "string" ? Buffer.from(delivered, encoded ? "latin1" : "utf8") : delivered;
  if (encoded) {
    const inflated = encoding === "gzip" ? gunzipBounded(body) : `unsupported content-encoding ${encoding}`;
    if (typeof inflated === "string") {
      const bytes = received();
      out.rejections.push({
        index: 0,
        field: "body",
        reason: `body: ${inflated}`,
        payload: truncatePayload(bytes.subarray(0, MAX_PAYLOAD_BYTES).toString("base64")),
        received: bytes,
      });
      return out;
    }
    body = inflated;
  }
  const bytes = typeof body === "string" ? Buffer.byteLength(body, "utf8") : body.length;
  if (bytes > MAX_BODY_BYTES) {
    const head =
      typeof body === "string" ? body.slice(0, MAX_PAYLOAD_BYTES) : body.subarray(0, MAX_PAYLOAD_BYTES);
    out.rejections.push({
      index: 0,
      field: "body",
      reason: `body: too large (${describeSize(bytes)}, at most ${describeSize(MAX_BODY_BYTES)} allowed)`,
      payload: truncatePayload(head.toString()),
      received: received(),
    });
    return out;
  }
  const text = (typeof body === "string" ? body : body.toString("utf8")).replace(/^\uFEFF/, "");
  // An empty body is zero events, the same through HTTP, the bus and a file.
  if (text.trim() === "") return out;
  const type = mediaType(contentType);
  if (NDJSON_TYPES.has(type)) {
    decodeLines(text, out);
    return out;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    if (type !== BATCH_TYPE && looksLikeNdjson(text)) {
      decodeLines(text, out);
      return out;
    }
    out.rejections.push({
      index: 0,
      field: "body",
      reason: `body: line ${errorLine(error, text)} is not valid JSON (${jsonError(error)})`,
      payload: truncatePayload(text),
      received: received(),
    });
    return out;
  }
  if (Array.isArray(parsed)) {
    if (bytes <= MAX_EVENT_BYTES) {
      // No item of a body this small can be too large: its text is written only if it is rejected.
      parsed.forEach((raw, index) => {
        out.items.push({
          index,
          raw,
          get text() {
            return JSON.stringify(raw) ?? "null";
          },
        });
      });
    } else {
      parsed.forEach((raw, index) => {
        itemOrRejection(index, raw, JSON.stringify(raw) ?? "null", out);
      });
    }
    if (parsed.length === 0) {
      out.rejections.push({
        index: 0,
        field: "body",
        reason: "body: empty batch",
        payload: "[]",
        received: received(),
      });
    }
    return out;
  }
  itemOrRejection(0, parsed, text, out);
  return out;
}

/** CloudEvents attributes in binary mode, by their names without the `ce-` prefix. */
const CE_PREFIX = /^ce[-_]/i;

type AttributeBag = Readonly<Record<string, string | readonly string[] | undefined>>;

function firstValue(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === "string" ? value : value?.[0];
}

/**
 * Binary-mode CloudEvents (the context attributes in `ce-*` HTTP headers or Pub/Sub attributes, the
 * data as the body) rebuilt as one structured-mode event. Returns undefined when the attributes do
 * not describe a binary-mode event (ce-specversion, ce-type, ce-id and ce-source all present).
 */
export function binaryToStructured(
  attributes: AttributeBag,
  body: string | Buffer,
  contentType?: string,
): EventBody | undefined {
  const context: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) {
    const first = firstValue(value);
    if (CE_PREFIX.test(name) && first !== undefined) context[name.slice(3).toLowerCase()] = first;
  }
  if (!context.specversion || !context.type || !context.id || !context.source) return undefined;
  const bytes = typeof body === "string" ? Buffer.byteLength(body, "utf8") : body.length;
  if (bytes > MAX_BODY_BYTES) return { body, ...(contentType === undefined ? {} : { contentType }) };
  const text = typeof body === "string" ? body : body.toString("utf8");
  const type = mediaType(contentType);
  let data: unknown = text;
  if (text.trim() !== "" && (type === "" || type === "application/json" || type.endsWith("+json"))) {
    try {
      data = JSON.parse(text);
    } catch {
      // Not JSON after all: the event keeps its data as text and validation names `data`.
      data = text;
    }
  }
  const event = {
    ...context,
    ...(contentType === undefined ? {} : { datacontenttype: contentType }),
    ...(text.trim() === "" ? {} : { data }),
  };
  return { body: JSON.stringify(event), contentType: "application/cloudevents+json" };
}

/** A Pub/Sub message as it arrives in a push envelope or a messagePublished CloudEvent. */
export interface PubSubMessage {
  data?: string | null;
  attributes?: Record<string, string> | null;
  messageId?: string;
  message_id?: string;
  publishTime?: string;
  publish_time?: string;
}

/** Reads `data.message` of a `google.cloud.pubsub.topic.v1.messagePublished` CloudEvent, or undefined. */
export function pubSubMessageOf(data: unknown): PubSubMessage | undefined {
  if (data === null || typeof data !== "object" || !("message" in data)) return undefined;
  const message = data.message;
  return message !== null && typeof message === "object" ? (message as PubSubMessage) : undefined;
}

/**
 * The body a Pub/Sub message carries: its base64 `data` decoded, with the content type from the
 * message's `content-type` attribute. A binary-mode CloudEvent (`ce-*` attributes) comes back as
 * one structured-mode event.
 */
export function decodePubSubMessage(message: PubSubMessage | undefined): EventBody {
  const data = Buffer.from(typeof message?.data === "string" ? message.data : "", "base64");
  const attributes = message?.attributes ?? {};
  const contentType = attributes["content-type"] ?? attributes.content_type ?? attributes.contentType;
  const contentEncoding =
    attributes["content-encoding"] ?? attributes.content_encoding ?? attributes.contentEncoding;
  if (contentEncoding !== undefined)
    return { body: data, contentEncoding, ...(contentType ? { contentType } : {}) };
  const binary = binaryToStructured(attributes, data, contentType);
  if (binary) return binary;
  return { body: data, ...(contentType === undefined ? {} : { contentType }) };
}
