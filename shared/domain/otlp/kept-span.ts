import type { Deployment } from "./deployments.ts";
import { classifySpan } from "./span-events.ts";
import type { Attributes, AttributeValue, OtlpSpan } from "./spans.ts";

/** A refused span as it may be kept: JSON, with OTLP/JSON's names for its ids and times. */
export interface KeptSpan {
  traceId: string;
  spanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, AttributeValue>;
  resource: Record<string, AttributeValue>;
}

/** The attributes, behind a view that notes each key read through it. */
function noting(attributes: Attributes, read: Set<string>): Attributes {
  return new Proxy(attributes, {
    get(target, key, receiver) {
      if (typeof key === "string") read.add(key);
      return Reflect.get(target, key, receiver);
    },
  });
}

function pick(attributes: Attributes, keys: Set<string>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const key of [...keys].sort()) {
    const value = attributes[key];
    if (Object.hasOwn(attributes, key) && value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * A span as it may be kept when it is refused: its ids, name, kind and times, its service.name,
 * and of its own and its resource's attributes only those the classification read to refuse it.
 * Instrumentations put prompts and answers on spans (gen_ai.input.messages, llm.prompts, ...):
 * whatever they are named, they are never stored or dead-lettered, since nothing here reads them.
 */
export function keptOfSpan(
  span: OtlpSpan,
  resource: Attributes,
  deployments: readonly Deployment[],
): KeptSpan {
  const readOfSpan = new Set<string>();
  const readOfResource = new Set<string>(["service.name"]);
  classifySpan(
    { ...span, attributes: noting(span.attributes, readOfSpan) },
    noting(resource, readOfResource),
    deployments,
  );
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    name: span.name,
    kind: span.kind,
    startTimeUnixNano: String(span.startNs),
    endTimeUnixNano: String(span.endNs),
    attributes: pick(span.attributes, readOfSpan),
    resource: pick(resource, readOfResource),
  };
}
