import type { PubSub } from "@google-cloud/pubsub";
import { describe, expect, it } from "vitest";
import { createPubSubBus } from "#adapters/pubsub/pubsub-bus.ts";
import { classifyPubSubError, GRPC_STATUS, grpcCode, toBusError } from "#adapters/pubsub/pubsub-errors.ts";
import { BusError } from "#ports/bus-error.ts";
import { silentLogger } from "#ports/logger.ts";
import { isRetryableError } from "#ports/port-error.ts";

/** An error as the Pub/Sub client raises it: a message and a numeric gRPC status code. */
function grpcError(code: number, message = `${code} status`): Error & { code: number } {
  return Object.assign(new Error(message), { code });
}

/** The client's PublishError shape: its own message, the gRPC code copied, the original kept. */
function publishError(code: number): Error & { code: number; error: Error } {
  const original = grpcError(code, "Topic not found");
  return Object.assign(new Error(`Unable to publish for key "". Reason: ${original.message}`), {
    code,
    error: original,
  });
}

const S = GRPC_STATUS;

describe("classifyPubSubError: one table for every Pub/Sub failure", () => {
  it.each([
    ["CANCELLED", S.CANCELLED, "unavailable"],
    ["UNKNOWN", S.UNKNOWN, "unavailable"],
    ["DEADLINE_EXCEEDED", S.DEADLINE_EXCEEDED, "unavailable"],
    ["RESOURCE_EXHAUSTED", S.RESOURCE_EXHAUSTED, "unavailable"],
    ["ABORTED", S.ABORTED, "unavailable"],
    ["INTERNAL", S.INTERNAL, "unavailable"],
    ["UNAVAILABLE", S.UNAVAILABLE, "unavailable"],
    ["NOT_FOUND (no such topic or subscription)", S.NOT_FOUND, "invalid"],
    ["PERMISSION_DENIED", S.PERMISSION_DENIED, "invalid"],
    ["INVALID_ARGUMENT", S.INVALID_ARGUMENT, "invalid"],
    ["ALREADY_EXISTS", S.ALREADY_EXISTS, "invalid"],
    ["FAILED_PRECONDITION", S.FAILED_PRECONDITION, "invalid"],
    ["OUT_OF_RANGE", S.OUT_OF_RANGE, "invalid"],
    ["UNIMPLEMENTED", S.UNIMPLEMENTED, "invalid"],
    ["DATA_LOSS", S.DATA_LOSS, "invalid"],
    ["UNAUTHENTICATED", S.UNAUTHENTICATED, "invalid"],
  ] as const)("gRPC %s is %s", (_, code, expected) => {
    for (const error of [grpcError(code), publishError(code)]) {
      expect(classifyPubSubError(error)).toBe(expected);
      const wrapped = toBusError("publishing to finops-cost-events-dead-letter failed", error);
      expect(wrapped).toBeInstanceOf(BusError);
      expect(wrapped.code).toBe(expected);
      // The port's own test of retryability agrees with the classification.
      expect(isRetryableError(wrapped)).toBe(expected === "unavailable");
      expect(wrapped.cause).toBe(error);
    }
  });

  it.each([
    [
      "a socket error (string code)",
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
    ],
    ["a plain error", new Error("Could not refresh access token")],
    ["a thrown string", "boom"],
    ["an HTTP status, not a gRPC code", Object.assign(new Error("Service Unavailable"), { code: 503 })],
  ])("a failure with no gRPC code (%s) is unavailable", (_, error) => {
    expect(grpcCode(error)).toBeUndefined();
    expect(classifyPubSubError(error)).toBe("unavailable");
    expect(isRetryableError(toBusError("publishing failed", error))).toBe(true);
  });

  it("keeps a BusError as it is", () => {
    const invalid = new BusError("invalid", "the bus is closed");
    expect(toBusError("publishing failed", invalid)).toBe(invalid);
    expect(classifyPubSubError(invalid)).toBe("invalid");
  });
});

describe("the Pub/Sub bus classifies a failed publish", () => {
  /** A client whose every publish fails with `error`. */
  function failingClient(error: unknown): PubSub {
    const topic = { publishMessage: () => Promise.reject(error), flush: () => Promise.resolve() };
    return { topic: () => topic, close: () => Promise.resolve() } as unknown as PubSub;
  }

  it.each([
    ["a missing topic (NOT_FOUND)", publishError(S.NOT_FOUND), "invalid"],
    ["PERMISSION_DENIED", publishError(S.PERMISSION_DENIED), "invalid"],
    ["UNAVAILABLE", publishError(S.UNAVAILABLE), "unavailable"],
    ["DEADLINE_EXCEEDED", publishError(S.DEADLINE_EXCEEDED), "unavailable"],
  ] as const)("%s as %s", async (_, failure, expected) => {
    const bus = createPubSubBus({
      client: failingClient(failure),
      projectId: "finops-test",
      logger: silentLogger,
      batching: { maxMessages: 1, maxMilliseconds: 1 },
    });
    const error = await bus
      .publish("finops-cost-events-dead-letter", [{ data: Buffer.from("x"), attributes: {} }])
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BusError);
    expect(error).toMatchObject({ code: expected, retryable: expected === "unavailable" });
    expect((error as BusError).message).toMatch(/^publishing to finops-cost-events-dead-letter failed: /);
    await bus.close();
  });
});
