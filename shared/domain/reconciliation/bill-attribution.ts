import { isMappedKey, type OwnerMapping } from "#domain/billing/owner-mapping.ts";
import type { Nanos } from "#domain/money.ts";
import type { BilledDayLine } from "./billed-day-line.ts";

/** A tag key the owner mapping does not read, and the unattributed usage cost that carries it. */
export interface UnmappedTagKey {
  key: string;
  nanos: Nanos;
}

/** How much of a bill's usage cost (EffectiveCost) names an owner, in one currency. */
export interface BillAttribution {
  currency: string;
  usage: Nanos;
  /** Usage on lines that name a team or a namespace: what estimates can match. */
  attributed: Nanos;
  /** Most unattributed cost first; ties by key. */
  unmappedKeys: UnmappedTagKey[];
}

const isAttributed = (line: BilledDayLine) => line.team !== null || line.namespace !== null;

/**
 * Per currency, the bill's usage cost and the part of it attributed to a team or namespace, and the
 * tag keys on unattributed usage that no dimension of the mapping reads: why a bill is unattributed.
 */
export function billAttribution(lines: readonly BilledDayLine[], mapping: OwnerMapping): BillAttribution[] {
  const byCurrency = Map.groupBy(
    lines.filter((l) => l.chargeCategory === "Usage"),
    (l) => l.currency,
  );
  return [...byCurrency]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([currency, usageLines]) => {
      let usage = 0n;
      let attributed = 0n;
      const unmapped = new Map<string, Nanos>();
      for (const line of usageLines) {
        usage += line.effectiveCost;
        if (isAttributed(line)) {
          attributed += line.effectiveCost;
          continue;
        }
        for (const key of Object.keys(line.tags)) {
          if (!isMappedKey(key, line.provider, mapping))
            unmapped.set(key, (unmapped.get(key) ?? 0n) + line.effectiveCost);
        }
      }
      const unmappedKeys = [...unmapped]
        .map(([key, nanos]) => ({ key, nanos }))
        .sort((a, b) => (a.nanos !== b.nanos ? (a.nanos > b.nanos ? -1 : 1) : a.key < b.key ? -1 : 1));
      return { currency, usage, attributed, unmappedKeys };
    });
}
