import { PortError, type PortErrorCode } from "./port-error.ts";

/**
 * Remembers the highest value seen under a key: "alert only when it rises" (a GCP budget's
 * threshold, an AWS anomaly's impact) and "was this message already processed" (an SNS MessageId).
 * Values are integers (nanos, epoch milliseconds), so "higher" is exact.
 */
export interface SeenStore {
  /**
   * Atomically raises the key's value to `value` (a value already at or above it stays) and returns
   * the value that was there before, or undefined when the key is new. The caller acts only when
   * the answer is undefined or below `value`; of two concurrent claims of one value, one acts.
   */
  claim(key: string, value: bigint): Promise<bigint | undefined>;
  /**
   * Undoes a claim whose effect failed (the alert could not be published), so a redelivery acts
   * again: puts `previous` back (removes the key when undefined) if the stored value is still
   * `value`; a value raised since by another claim stays.
   */
  release(key: string, value: bigint, previous: bigint | undefined): Promise<void>;
  close(): Promise<void>;
}

export type SeenStoreErrorCode = PortErrorCode;

/** `unavailable`: the store could not be reached (retry later). `invalid`: a bad key or value. */
export class SeenStoreError extends PortError {
  override readonly name = "SeenStoreError";

  constructor(message: string, code: SeenStoreErrorCode, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** What a store keeps: values fit a signed 64-bit integer (BIGINT, INT64). */
export const MAX_SEEN_VALUE = 2n ** 63n - 1n;
export const MIN_SEEN_VALUE = -(2n ** 63n);
export const MAX_SEEN_KEY_LENGTH = 1024;

/** Throws a SeenStoreError `invalid` unless the key and value can be stored. */
export function assertSeenEntry(key: string, value: bigint): void {
  if (typeof key !== "string" || key === "" || key.length > MAX_SEEN_KEY_LENGTH) {
    throw new SeenStoreError(`seen-store key must be 1 to ${MAX_SEEN_KEY_LENGTH} characters`, "invalid");
  }
  if (typeof value !== "bigint" || value > MAX_SEEN_VALUE || value < MIN_SEEN_VALUE) {
    throw new SeenStoreError(`seen-store value for ${key} must be a 64-bit integer`, "invalid");
  }
}
