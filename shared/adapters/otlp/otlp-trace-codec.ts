import otlpRoot from "@opentelemetry/otlp-transformer/build/src/generated/root.js";
import protobuf from "protobufjs";
import {
  type Attributes,
  type AttributeValue,
  type OtlpResourceSpans,
  type OtlpSpan,
  TraceDecodeError,
  type TraceExport,
} from "#domain/otlp/spans.ts";
import type { OtlpEncoding, OtlpTraceCodec, TracePartialSuccess } from "#ports/otlp-codec.ts";

/**
 * OTLP/HTTP trace messages through the OpenTelemetry project's own generated protobuf types: the
 * static protobufjs module of @opentelemetry/otlp-transformer (0.216.0 is the last release that
 * ships it; later ones keep only an encoder), so no field number is written here. The JSON mapping
 * follows the OTLP specification: lowerCamelCase keys, hex ids, 64-bit integers as decimal strings,
 * enums as integers, unknown fields ignored.
 */

/** The parts of a protobufjs message type this adapter uses. */
interface MessageType {
  decode(reader: Uint8Array): unknown;
  encode(message: unknown): { finish(): Uint8Array };
  fromObject(object: Record<string, unknown>): unknown;
}

const traceService = (
  otlpRoot as unknown as {
    opentelemetry: { proto: { collector: { trace: { v1: Record<string, MessageType> } } } };
  }
).opentelemetry.proto.collector.trace.v1;

const ExportTraceServiceRequest = traceService.ExportTraceServiceRequest as MessageType;
const ExportTraceServiceResponse = traceService.ExportTraceServiceResponse as MessageType;

/** google.rpc.Status, what OTLP/HTTP's 4xx and 5xx answers carry (code, message; no details). */
const StatusType = new protobuf.Type("Status")
  .add(new protobuf.Field("code", 1, "int32"))
  .add(new protobuf.Field("message", 2, "string"));
new protobuf.Root().define("google.rpc").add(StatusType);

/** A 64-bit integer as protobufjs decodes it (a Long) or as JSON carries it (a string or a number). */
function toBigInt(value: unknown, field: string): bigint {
  if (value === null || value === undefined || value === "") return 0n;
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isFinite(value)) return BigInt(Math.round(value));
  if (typeof value === "string" && /^-?\d+$/.test(value)) return BigInt(value);
  if (typeof value === "object" && "low" in value && "high" in value) return BigInt(String(value));
  throw new TraceDecodeError(`${field}: not a 64-bit integer`);
}

function hexOfBytes(value: unknown, bytes: number, field: string): string {
  if (value instanceof Uint8Array && value.length === bytes) return Buffer.from(value).toString("hex");
  throw new TraceDecodeError(`${field}: must be ${bytes} bytes`);
}

function hexOfJson(value: unknown, bytes: number, field: string): string {
  if (typeof value === "string" && new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(value))
    return value.toLowerCase();
  throw new TraceDecodeError(`${field}: must be ${bytes * 2} hex digits`);
}

function list(value: unknown, field: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  throw new TraceDecodeError(`${field}: must be an array`);
}

function record(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new TraceDecodeError(`${field}: must be an object`);
}

const SPAN_KINDS: Readonly<Record<string, number>> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};

function kindOf(value: unknown): number {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string") return SPAN_KINDS[value] ?? 0;
  return 0;
}

/** An AnyValue, decoded or in the JSON mapping (both name the set field the same way). */
function anyValue(raw: unknown, field: string): AttributeValue | undefined {
  const v = record(raw, field);
  if (typeof v.stringValue === "string") return v.stringValue;
  if (typeof v.boolValue === "boolean") return v.boolValue;
  if (v.intValue !== undefined && v.intValue !== null) {
    const n = toBigInt(v.intValue, `${field}.intValue`);
    return Number.isSafeInteger(Number(n)) ? Number(n) : n.toString();
  }
  if (v.doubleValue !== undefined && v.doubleValue !== null) {
    const n = typeof v.doubleValue === "number" ? v.doubleValue : Number(v.doubleValue);
    return Number.isFinite(n) ? n : undefined;
  }
  if (v.arrayValue !== undefined && v.arrayValue !== null) {
    const values = list(record(v.arrayValue, `${field}.arrayValue`).values, `${field}.arrayValue.values`);
    return values.flatMap((item, i) => {
      const value = anyValue(item, `${field}.arrayValue.values.${i}`);
      return value === undefined ? [] : [value];
    });
  }
  if (v.kvlistValue !== undefined && v.kvlistValue !== null) {
    return keyValues(record(v.kvlistValue, `${field}.kvlistValue`).values, `${field}.kvlistValue.values`);
  }
  if (v.bytesValue instanceof Uint8Array) return Buffer.from(v.bytesValue).toString("base64");
  if (typeof v.bytesValue === "string") return v.bytesValue;
  return undefined;
}

function keyValues(raw: unknown, field: string): Attributes {
  const out: Record<string, AttributeValue> = {};
  list(raw, field).forEach((item, i) => {
    const kv = record(item, `${field}.${i}`);
    if (typeof kv.key !== "string") throw new TraceDecodeError(`${field}.${i}.key: must be a string`);
    const value = anyValue(kv.value, `${field}.${i}.value`);
    if (value !== undefined) out[kv.key] = value;
  });
  return out;
}

/** Normalizes a decoded or JSON-parsed request; `ids` reads trace and span ids in that form. */
function normalize(
  message: unknown,
  ids: (value: unknown, bytes: number, field: string) => string,
): TraceExport {
  const root = record(message, "body");
  const resourceSpans: OtlpResourceSpans[] = list(root.resourceSpans, "resourceSpans").map((rsRaw, r) => {
    const at = `resourceSpans.${r}`;
    const rs = record(rsRaw, at);
    const resource = keyValues(record(rs.resource, `${at}.resource`).attributes, `${at}.resource.attributes`);
    const spans: OtlpSpan[] = list(rs.scopeSpans, `${at}.scopeSpans`).flatMap((ssRaw, s) =>
      list(record(ssRaw, `${at}.scopeSpans.${s}`).spans, `${at}.scopeSpans.${s}.spans`).map((spanRaw, i) => {
        const field = `${at}.scopeSpans.${s}.spans.${i}`;
        const span = record(spanRaw, field);
        return {
          traceId: ids(span.traceId, 16, `${field}.traceId`),
          spanId: ids(span.spanId, 8, `${field}.spanId`),
          name: typeof span.name === "string" ? span.name : "",
          kind: kindOf(span.kind),
          startNs: toBigInt(span.startTimeUnixNano, `${field}.startTimeUnixNano`),
          endNs: toBigInt(span.endTimeUnixNano, `${field}.endTimeUnixNano`),
          attributes: keyValues(span.attributes, `${field}.attributes`),
        };
      }),
    );
    return { resource, spans };
  });
  return { resourceSpans };
}

function decodeProtobuf(body: Buffer): TraceExport {
  let message: unknown;
  try {
    message = ExportTraceServiceRequest.decode(body);
  } catch (error) {
    throw new TraceDecodeError(`body: not an ExportTraceServiceRequest (${(error as Error).message})`);
  }
  return normalize(message, hexOfBytes);
}

function decodeJson(body: Buffer | string | object): TraceExport {
  let parsed: unknown = body;
  if (typeof body === "string" || Buffer.isBuffer(body)) {
    try {
      parsed = JSON.parse(body.toString());
    } catch (error) {
      throw new TraceDecodeError(`body: not JSON (${(error as Error).message})`);
    }
  }
  return normalize(parsed, hexOfJson);
}

/** An attribute value as an AnyValue: whole numbers as intValue, others as doubleValue. */
function toAnyValue(value: AttributeValue): Record<string, unknown> {
  if (typeof value === "string") return { stringValue: value };
  if (typeof value === "boolean") return { boolValue: value };
  if (typeof value === "number") {
    return Number.isSafeInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  }
  if (Array.isArray(value)) return { arrayValue: { values: value.map(toAnyValue) } };
  return { kvlistValue: { values: toKeyValues(value as Attributes) } };
}

function toKeyValues(attributes: Attributes): Record<string, unknown>[] {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: toAnyValue(value) }));
}

function encodeRequest(request: TraceExport): Buffer {
  const message = ExportTraceServiceRequest.fromObject({
    resourceSpans: request.resourceSpans.map((rs) => ({
      resource: { attributes: toKeyValues(rs.resource) },
      scopeSpans: [
        {
          spans: rs.spans.map((span) => ({
            traceId: Buffer.from(span.traceId, "hex"),
            spanId: Buffer.from(span.spanId, "hex"),
            name: span.name,
            kind: span.kind,
            startTimeUnixNano: span.startNs.toString(),
            endTimeUnixNano: span.endNs.toString(),
            attributes: toKeyValues(span.attributes),
          })),
        },
      ],
    })),
  });
  return Buffer.from(ExportTraceServiceRequest.encode(message).finish());
}

export function createOtlpTraceCodec(): OtlpTraceCodec {
  return {
    decodeRequest(body, encoding) {
      if (encoding === "json") return decodeJson(body);
      if (!Buffer.isBuffer(body)) throw new TraceDecodeError("body: protobuf bytes expected");
      return decodeProtobuf(body);
    },
    encodeRequest,
    encodeResponse(partialSuccess: TracePartialSuccess | undefined, encoding: OtlpEncoding) {
      if (encoding === "json") {
        const body = partialSuccess
          ? {
              partialSuccess: {
                rejectedSpans: String(partialSuccess.rejectedSpans),
                errorMessage: partialSuccess.errorMessage,
              },
            }
          : {};
        return Buffer.from(JSON.stringify(body));
      }
      const message = ExportTraceServiceResponse.fromObject(partialSuccess ? { partialSuccess } : {});
      return Buffer.from(ExportTraceServiceResponse.encode(message).finish());
    },
    encodeStatus(code, message, encoding) {
      if (encoding === "json") return Buffer.from(JSON.stringify({ code, message }));
      return Buffer.from(StatusType.encode(StatusType.create({ code, message })).finish());
    },
  };
}
