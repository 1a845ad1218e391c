/**
 * An OTLP trace export (ExportTraceServiceRequest) as the receiver reads it, whatever its wire form
 * (protobuf or JSON): spans grouped by the resource that sent them, attributes flattened to values,
 * ids as lower-case hex and times as bigint nanoseconds since the epoch.
 */

export type AttributeValue =
  | string
  | number
  | boolean
  | readonly AttributeValue[]
  | { readonly [key: string]: AttributeValue };

export type Attributes = Readonly<Record<string, AttributeValue>>;

/** OTLP's Span.SpanKind. */
export const SPAN_KIND = {
  unspecified: 0,
  internal: 1,
  server: 2,
  client: 3,
  producer: 4,
  consumer: 5,
} as const;

export interface OtlpSpan {
  /** 32 lower-case hex digits. */
  traceId: string;
  /** 16 lower-case hex digits. */
  spanId: string;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Attributes;
}

export interface OtlpResourceSpans {
  /** The resource's attributes (service.name, OTEL_RESOURCE_ATTRIBUTES' keys, ...). */
  resource: Attributes;
  spans: OtlpSpan[];
}

export interface TraceExport {
  resourceSpans: OtlpResourceSpans[];
}

/** Thrown by a decoder for a body that is not an ExportTraceServiceRequest: the answer is 400. */
export class TraceDecodeError extends Error {
  override readonly name = "TraceDecodeError";
}

/** The attribute as a string (numbers and booleans written out; the first of an array), or undefined. */
export function stringAttribute(attributes: Attributes, key: string): string | undefined {
  const value = attributes[key];
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) {
    const first = value[0];
    return typeof first === "string" ? first : undefined;
  }
  return undefined;
}

/** The attribute as a finite number (a numeric string too), or undefined. */
export function numberAttribute(attributes: Attributes, key: string): number | undefined {
  const value = attributes[key];
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** The attribute as a non-negative safe integer (token counts), or undefined. */
export function countAttribute(attributes: Attributes, key: string): number | undefined {
  const n = numberAttribute(attributes, key);
  return n !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** The first of `keys` that the attributes carry as a count. */
export function firstCount(attributes: Attributes, keys: readonly string[]): number | undefined {
  for (const key of keys) {
    const n = countAttribute(attributes, key);
    if (n !== undefined) return n;
  }
  return undefined;
}
