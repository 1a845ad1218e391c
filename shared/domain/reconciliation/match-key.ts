/**
 * The dimensions an estimate and a bill can be matched on. Any subset, in any order, can be the
 * key of a reconciliation; the order chosen is the order keys are shown and compared in.
 */
export const MATCH_KEYS = ["cloud", "account", "service", "namespace", "team"] as const;
export type MatchKey = (typeof MATCH_KEYS)[number];

/** The values a cost carries for the match keys; a missing or empty value matches only other missing values. */
export type MatchValues = Partial<Record<MatchKey, string | null>>;

/** A key projected onto the chosen match keys: each chosen key present, null when the cost had no value. */
export type KeyValues = Partial<Record<MatchKey, string | null>>;

export function validateKeys(keys: readonly MatchKey[]): void {
  if (keys.length === 0) throw new RangeError("reconciliation needs at least one match key");
  if (new Set(keys).size !== keys.length) throw new RangeError("duplicate match key");
  for (const k of keys) if (!MATCH_KEYS.includes(k)) throw new RangeError(`unknown match key: ${k}`);
}

export function projectKey(values: MatchValues, keys: readonly MatchKey[]): KeyValues {
  const out: KeyValues = {};
  for (const k of keys) {
    const v = values[k];
    out[k] = v === undefined || v === null || v === "" ? null : v;
  }
  return out;
}

/**
 * A readable, unambiguous label: "cloud=gcp,service=Compute%20Engine"; a missing value shows as
 * "-" (a real "-" is escaped), so two different keys never share a label. Empty keys give "all".
 */
export function keyLabel(key: KeyValues, keys: readonly MatchKey[]): string {
  if (keys.length === 0) return "all";
  return keys
    .map((k) => {
      const v = key[k];
      return `${k}=${v === null || v === undefined ? "-" : encodeURIComponent(v).replaceAll("-", "%2D")}`;
    })
    .join(",");
}
