import { UNALLOCATED } from "#domain/cost-row.ts";
import type { K8sAllocation } from "./k8s-allocation.ts";

/** The owner of idle capacity when it is kept as its own bucket rather than shared. */
export const IDLE_OWNER = "idle";

export const OWNER_DIMENSIONS = [
  "team",
  "model",
  "model_version",
  "business_unit",
  "cost_center",
  "environment",
] as const;
export type OwnerDimension = (typeof OWNER_DIMENSIONS)[number];

/** Which Kubernetes label keys name each owner dimension, first match wins. */
export type LabelKeys = Readonly<Partial<Record<OwnerDimension, readonly string[]>>>;

export const DEFAULT_LABEL_KEYS: LabelKeys = Object.freeze({
  team: ["team"],
  model: ["model"],
  model_version: ["model-version", "model_version"],
  cost_center: ["cost-center", "cost_center"],
  business_unit: ["business-unit", "business_unit"],
});

/** Who an allocation's cost belongs to. `team` is always set: a name, UNALLOCATED or IDLE_OWNER. */
export interface Owner {
  team: string;
  model?: string;
  model_version?: string;
  business_unit?: string;
  cost_center?: string;
  environment?: string;
  /** Kept even when no team is known, so unallocated cost stays named by its namespace. */
  namespace?: string;
}

/** Longest owner value the event schema takes. */
const MAX_OWNER_LENGTH = 128;

/**
 * A label key as Prometheus exports it: every character outside [A-Za-z0-9_] becomes "_"
 * (`cost-center` → `cost_center`, `example.com/team` → `example_com_team`).
 */
export function sanitizeLabelKey(key: string): string {
  return key.replace(/[^A-Za-z0-9_]/g, "_");
}

/** The forms a configured key may arrive in: as written, sanitized, and with kube-state-metrics' `label_` prefix. */
function keyVariants(key: string): string[] {
  const sanitized = sanitizeLabelKey(key);
  return [...new Set([key, sanitized, `label_${sanitized}`])];
}

function lookup(labels: Readonly<Record<string, string>>, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    for (const variant of keyVariants(key)) {
      const value = labels[variant]?.trim();
      if (value) return value.slice(0, MAX_OWNER_LENGTH);
    }
  }
  return undefined;
}

/** A namespace worth naming: not empty and not one of the sources' `__marker__` names. */
export function realNamespace(namespace: string): string | undefined {
  const trimmed = namespace.trim();
  if (trimmed === "" || /^__.*__$/.test(trimmed)) return undefined;
  return trimmed.slice(0, 253);
}

/**
 * The owner of an allocation, from its pod labels and then its namespace's labels. Idle capacity
 * belongs to IDLE_OWNER; anything else without a team label belongs to UNALLOCATED, with its
 * namespace (and any other owner label found) kept, so unallocated cost is still named.
 */
export function ownerOf(allocation: K8sAllocation, labelKeys: LabelKeys = DEFAULT_LABEL_KEYS): Owner {
  const namespace = realNamespace(allocation.namespace);
  if (allocation.special === "idle") {
    return { team: IDLE_OWNER, ...(namespace === undefined ? {} : { namespace }) };
  }
  const owner: Owner = { team: UNALLOCATED };
  for (const dimension of OWNER_DIMENSIONS) {
    const keys = labelKeys[dimension];
    if (!keys || keys.length === 0) continue;
    const value = lookup(allocation.labels, keys) ?? lookup(allocation.namespaceLabels, keys);
    if (value !== undefined) owner[dimension] = value;
  }
  if (namespace !== undefined) owner.namespace = namespace;
  return owner;
}

/** True for cost that has an owning team (not idle, not unallocated). */
export function isAttributed(owner: Owner): boolean {
  return owner.team !== UNALLOCATED && owner.team !== IDLE_OWNER;
}
