import { type AlertClaims, assertClaimKey } from "#ports/alert-claims.ts";

export interface MemoryAlertClaims extends AlertClaims {
  /** Keys claimed so far, in claim order. */
  claimed(): string[];
}

/** Claims held in this process only: for tests and a local stack without a warehouse file. */
export function createMemoryAlertClaims(): MemoryAlertClaims {
  const keys = new Set<string>();
  return {
    async claim(key) {
      assertClaimKey(key);
      if (keys.has(key)) return false;
      keys.add(key);
      return true;
    },
    claimed: () => [...keys],
  };
}
