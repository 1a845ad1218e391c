import type { BusMessage } from "#ports/bus.ts";
import { PortError, type PortErrorCode } from "./port-error.ts";

/**
 * `unavailable`: transient (network, quota, server); the caller may retry later.
 * `invalid`: the request cannot succeed as made (bad name or message, unknown topic or
 * subscription, no permission, bus already closed); retrying the same call will not help. A
 * handler that gets one from a publish it cannot do without (a dead-letter publish) should log it
 * and return rather than throw: a redelivery would fail the same way.
 * (The Pub/Sub adapter maps gRPC codes to these in one place: classifyPubSubError.)
 */
export type BusErrorCode = PortErrorCode;

export class BusError extends PortError {
  override readonly name = "BusError";
}

/**
 * Attributes a dead-lettered message carries besides its own. The `CloudPubSub*` names are the
 * ones Pub/Sub itself sets when it forwards to a dead-letter topic; the memory bus sets them too,
 * and adds the source topic and the last handler error (Pub/Sub does not record those).
 */
export const DEAD_LETTER_ATTRIBUTES = {
  deliveryCount: "CloudPubSubDeadLetterSourceDeliveryCount",
  subscription: "CloudPubSubDeadLetterSourceSubscription",
  sourceTopic: "finopsDeadLetterSourceTopic",
  error: "finopsDeadLetterError",
} as const;

/** Pub/Sub's own limits; every Bus adapter enforces them so none accepts what another refuses. */
export const BUS_LIMITS = {
  maxDataBytes: 10_000_000,
  maxAttributes: 100,
  maxAttributeKeyBytes: 256,
  maxAttributeValueBytes: 1024,
} as const;

const NAME = /^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;

/** Topic and subscription ids follow Pub/Sub's rules, whichever adapter is in use. */
export function assertBusName(kind: "topic" | "subscription", name: string): void {
  if (!NAME.test(name) || name.toLowerCase().startsWith("goog")) {
    throw new BusError(
      "invalid",
      `${kind} name ${JSON.stringify(name)} is not valid: 3-255 characters, starting with a letter, ` +
        "of letters, digits and - _ . ~ + %, not starting with goog",
    );
  }
}

export function assertPublishable(messages: readonly BusMessage[]): void {
  messages.forEach((message, index) => {
    const where = `messages[${index}]`;
    if (!(message.data instanceof Uint8Array))
      throw new BusError("invalid", `${where}.data must be a Buffer`);
    if (message.data.byteLength > BUS_LIMITS.maxDataBytes) {
      throw new BusError("invalid", `${where}.data is larger than ${BUS_LIMITS.maxDataBytes} bytes`);
    }
    const entries = Object.entries(message.attributes ?? {});
    if (message.data.byteLength === 0 && entries.length === 0) {
      throw new BusError("invalid", `${where} has neither data nor attributes`);
    }
    if (entries.length > BUS_LIMITS.maxAttributes) {
      throw new BusError("invalid", `${where}.attributes has more than ${BUS_LIMITS.maxAttributes} entries`);
    }
    for (const [key, value] of entries) {
      const field = `${where}.attributes[${JSON.stringify(key)}]`;
      if (key.length === 0 || Buffer.byteLength(key) > BUS_LIMITS.maxAttributeKeyBytes) {
        throw new BusError("invalid", `${field}: key must be 1-${BUS_LIMITS.maxAttributeKeyBytes} bytes`);
      }
      if (key.toLowerCase().startsWith("goog")) throw new BusError("invalid", `${field}: key is reserved`);
      if (typeof value !== "string") throw new BusError("invalid", `${field} must be a string`);
      if (Buffer.byteLength(value) > BUS_LIMITS.maxAttributeValueBytes) {
        throw new BusError("invalid", `${field} is longer than ${BUS_LIMITS.maxAttributeValueBytes} bytes`);
      }
    }
  });
}

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = "";
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) break;
    out += char;
    bytes += size;
  }
  return out;
}
