import { z } from "zod";
import { cloudSchema } from "#domain/events/common.ts";
import { GPU_SPLIT_STRATEGIES } from "#domain/gpu-split/split-gpu-cost.ts";
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
 * Where DCGM's GPU usage is (Prometheus scraping dcgm-exporter) and how the GPU cost is split by it.
 * When set, each collection replaces the GPU cost the source split by request with a split by
 * measured use (see adjustGpuCost), asking the source for idle by node.
 */
export const gpuUtilizationSettingsSchema = z
  .object({
    /** Prometheus (or Thanos, Mimir, VictoriaMetrics) base URL, path prefix included. */
    prometheusUrl: z.url({ protocol: /^https?$/ }),
    strategy: z.enum(GPU_SPLIT_STRATEGIES).default("utilization"),
    /** Sample step; dcgm-exporter collects every 30 s by default. */
    stepSeconds: z.number().int().min(1).max(3600).default(30),
    /** Extra PromQL label matchers for every DCGM query, e.g. `cluster="prod-gke-1"`. */
    matchers: z
      .string()
      .trim()
      .min(1)
      .max(1000)
      .regex(/^[^{}]*$/, 'must be label matchers without braces, e.g. cluster="prod-gke-1"')
      .optional(),
  })
  .strict();

export type GpuUtilizationSettings = z.infer<typeof gpuUtilizationSettingsSchema>;

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
    /** The cloud the cluster runs in, set on its allocations: reconciliation matches them with that cloud's bill. */
    cloud: cloudSchema.optional(),
    region: z.string().trim().min(1).max(64).optional(),
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
    /** Split GPU cost by DCGM utilization instead of by request; absent: the source's figures stand. */
    gpuUtilization: gpuUtilizationSettingsSchema.optional(),
  })
  .strict();

export type AllocationSettings = z.infer<typeof allocationSettingsSchema>;
