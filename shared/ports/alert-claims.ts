import { PortError, type PortErrorCode } from "./port-error.ts";

/**
 * Remembers which alerts were sent, so each idempotency key is acted on once, ever: a re-run, an
 * overlapping run, a restart or a late event that recomputes the same alert finds its key taken.
 * `claim` is atomic: of any number of concurrent callers with one key, exactly one gets true.
 */
export interface AlertClaims {
  /** True the first time `key` is claimed (the caller should send the alert); false every time after. */
  claim(key: string): Promise<boolean>;
}

export type AlertClaimsErrorCode = PortErrorCode;

export class AlertClaimsError extends PortError {
  override readonly name = "AlertClaimsError";
}

/** Longest key any adapter stores (the alert model's idempotency_key limit). */
export const MAX_CLAIM_KEY_LENGTH = 512;

export function assertClaimKey(key: string): void {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_CLAIM_KEY_LENGTH) {
    throw new AlertClaimsError("invalid", `claim key must be 1-${MAX_CLAIM_KEY_LENGTH} characters`);
  }
}
