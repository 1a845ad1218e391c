import { z } from "zod";
import { SHARE_POLICIES } from "./idle-policy.ts";
import { AGGREGATE_PROPERTIES } from "./k8s-allocation.ts";
import { DEFAULT_LABEL_KEYS, OWNER_DIMENSIONS, type OwnerDimension } from "./owner.ts";

const labelKeyList = z.array(z.string().trim().min(1).max(317)).min(1);

function defaultLabelKeys(): Partial<Record<OwnerDimension, string[]>> {
  const keys: Partial<Record<OwnerDimension, string[]>> = {};
  for (const dimension of OWNER_DIMENSIONS) {
    const list = DEFAULT_LABEL_KEYS[dimension];
    if (list) keys[dimension] = [...list];
  }
  return keys;
}

/**
 * The `allocations` section of the configuration file: where the OpenCost or Kubecost API is, how
 * its allocations are read, and what happens to idle and shared cost.
 */
export const allocationSettingsSchema = z
  .object({
    flavor: z.enum(["opencost", "kubecost"]),
    /** e.g. http://opencost.opencost:9003 or http://kubecost-cost-analyzer.kubecost:9090 */
    baseUrl: z.url({ protocol: /^https?$/ }),
    timeoutMs: z.number().int().min(1000).max(540_000).default(60_000),
    /** The cluster's name in events; also replaces the name the source reports unless `clusterFromSource`. */
    cluster: z.string().trim().min(1).max(128),
    /** Keep each allocation's own cluster name (a federated Kubecost that reports several clusters). */
    clusterFromSource: z.boolean().default(false),
    aggregate: z.array(z.enum(AGGREGATE_PROPERTIES)).min(1).default(["namespace", "pod"]),
    idle: z.enum(SHARE_POLICIES).default("keep"),
    sharedNamespaces: z.array(z.string().trim().min(1).max(253)).default(["kube-system", "monitoring"]),
    sharedPolicy: z.enum(SHARE_POLICIES).default("keep"),
    labelKeys: z.partialRecord(z.enum(OWNER_DIMENSIONS), labelKeyList).default(() => defaultLabelKeys()),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as USD")
      .default("USD"),
  })
  .strict();

export type AllocationSettings = z.infer<typeof allocationSettingsSchema>;
