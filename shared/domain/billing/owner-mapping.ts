import { z } from "zod";

/** The owner dimensions a bill line's tags or labels can name. */
export const BILL_OWNER_DIMENSIONS = ["namespace", "team", "cost_center", "environment", "model"] as const;
export type BillOwnerDimension = (typeof BILL_OWNER_DIMENSIONS)[number];

export type BillOwner = Record<BillOwnerDimension, string | null>;

/**
 * The tag and label keys each dimension is read from, in order (the first present wins). They cover
 * the common conventions: plain tags (`team`, `owner`, `Owner`, `cost-center`, `CostCenter`), GKE
 * cost allocation's labels in the Cloud Billing export (`k8s-namespace`, `k8s-label/<label>`), EKS
 * split cost allocation's tags (`aws:eks:namespace`) and the Kubernetes recommended labels
 * (`app.kubernetes.io/part-of`, `app.kubernetes.io/name`) as cost allocation tags.
 */
export const DEFAULT_OWNER_KEYS: Readonly<Record<BillOwnerDimension, readonly string[]>> = {
  namespace: ["k8s-namespace", "aws:eks:namespace", "namespace", "kubernetes-namespace"],
  team: [
    "team",
    "Team",
    "k8s-label/team",
    "owner",
    "Owner",
    "k8s-label/owner",
    "app.kubernetes.io/part-of",
    "k8s-label/app.kubernetes.io/part-of",
  ],
  cost_center: ["cost-center", "CostCenter", "cost_center", "costcenter", "k8s-label/cost-center"],
  environment: ["environment", "Environment", "env", "k8s-label/environment"],
  model: ["model", "k8s-label/model", "app.kubernetes.io/name", "k8s-label/app.kubernetes.io/name"],
};

/**
 * Providers whose tag names are case-insensitive (Azure: `Owner` and `owner` are one tag). AWS tag
 * keys are case-sensitive and GCP labels lower case only, so theirs are compared exactly.
 */
const CASE_INSENSITIVE_PROVIDERS = new Set(["microsoft", "microsoft azure", "azure"]);

const keyList = z.array(z.string().min(1).max(256)).max(50);
const rewrites = z.record(z.string().min(1), z.string().min(1).max(256));

/** `ownerMapping`: how a bill's tags name our owners. Keys given are tried before the defaults. */
export const ownerMappingSchema = z
  .object({
    keys: z.partialRecord(z.enum(BILL_OWNER_DIMENSIONS), keyList).default({}),
    /** `auto`: case-insensitive where the cloud is (Azure), exact elsewhere. */
    keyCase: z.enum(["auto", "exact", "insensitive"]).default("auto"),
    /** Per dimension, a bill's value → ours (`{ "team": { "team-data": "data" } }`). */
    values: z.partialRecord(z.enum(BILL_OWNER_DIMENSIONS), rewrites).default({}),
  })
  .strict();

export type OwnerMappingSettings = z.input<typeof ownerMappingSchema>;

export interface OwnerMapping {
  keys: Readonly<Record<BillOwnerDimension, readonly string[]>>;
  keyCase: "auto" | "exact" | "insensitive";
  values: Readonly<Partial<Record<BillOwnerDimension, Readonly<Record<string, string>>>>>;
}

/** A mapping from its settings: the configured keys of each dimension first, then the defaults. */
export function ownerMapping(settings: OwnerMappingSettings = {}): OwnerMapping {
  const parsed = ownerMappingSchema.parse(settings);
  const keys = Object.fromEntries(
    BILL_OWNER_DIMENSIONS.map((d) => [
      d,
      [...new Set([...(parsed.keys[d] ?? []), ...DEFAULT_OWNER_KEYS[d]])],
    ]),
  ) as Record<BillOwnerDimension, string[]>;
  return { keys, keyCase: parsed.keyCase, values: parsed.values };
}

export const DEFAULT_OWNER_MAPPING: OwnerMapping = ownerMapping();

/** Settings layered: a source's own mapping on top of the section's (keys and rewrites per dimension). */
export function layerOwnerMapping(
  base: OwnerMappingSettings,
  over: OwnerMappingSettings,
): OwnerMappingSettings {
  const keys: Partial<Record<BillOwnerDimension, string[]>> = {};
  const values: Partial<Record<BillOwnerDimension, Record<string, string>>> = {};
  for (const d of BILL_OWNER_DIMENSIONS) {
    const named = [...(over.keys?.[d] ?? []), ...(base.keys?.[d] ?? [])];
    if (named.length > 0) keys[d] = named;
    const rewritten = { ...base.values?.[d], ...over.values?.[d] };
    if (Object.keys(rewritten).length > 0) values[d] = rewritten;
  }
  const merged: OwnerMappingSettings = { keys, values };
  const keyCase = over.keyCase ?? base.keyCase;
  return keyCase === undefined ? merged : { ...merged, keyCase };
}

function insensitive(mapping: OwnerMapping, provider: string): boolean {
  if (mapping.keyCase !== "auto") return mapping.keyCase === "insensitive";
  return CASE_INSENSITIVE_PROVIDERS.has(provider.trim().toLowerCase());
}

/** The owner a line's tags name: per dimension the first mapped key with a value, rewritten. */
export function billOwnerOf(
  tags: Readonly<Record<string, string>>,
  provider: string,
  mapping: OwnerMapping = DEFAULT_OWNER_MAPPING,
): BillOwner {
  const folded = insensitive(mapping, provider);
  const lookup = new Map<string, string>();
  for (const [key, value] of Object.entries(tags)) {
    const name = folded ? key.toLowerCase() : key;
    if (value !== "" && !lookup.has(name)) lookup.set(name, value);
  }
  const owner = {} as BillOwner;
  for (const d of BILL_OWNER_DIMENSIONS) {
    let found: string | null = null;
    for (const key of mapping.keys[d]) {
      const value = lookup.get(folded ? key.toLowerCase() : key);
      if (value !== undefined) {
        found = value;
        break;
      }
    }
    owner[d] = found === null ? null : (mapping.values[d]?.[found] ?? found);
  }
  return owner;
}

/** Whether any dimension of the mapping reads this tag key (for a line of this provider). */
export function isMappedKey(
  key: string,
  provider: string,
  mapping: OwnerMapping = DEFAULT_OWNER_MAPPING,
): boolean {
  const folded = insensitive(mapping, provider);
  const name = folded ? key.toLowerCase() : key;
  return BILL_OWNER_DIMENSIONS.some((d) =>
    mapping.keys[d].some((k) => (folded ? k.toLowerCase() : k) === name),
  );
}
