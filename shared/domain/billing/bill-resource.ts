/**
 * Where a cost ran, as far as its source knows: the Kubernetes cluster, the node pool, the node
 * (instance). Estimates carry it from their labels (the rollup's cluster, node_pool and node
 * columns); a bill line from its resource id and the labels or tags the cloud puts on it.
 */
export interface ResourceName {
  cluster: string | null;
  nodePool: string | null;
  node: string | null;
}

/** The labels or tags that name a line's cluster and node pool, per cloud's convention. */
const CLUSTER_KEYS = ["goog-k8s-cluster-name", "aws:eks:cluster-name", "eks:cluster-name"] as const;
const NODE_POOL_KEYS = [
  "goog-k8s-node-pool-name",
  "eks:nodegroup-name",
  "karpenter.sh/nodepool",
  "aks-managed-poolName",
] as const;

/** A GCE instance (a GKE node's name is its instance's): `.../instances/<name>`. */
const GCE_INSTANCE = /\/instances\/([^/]+)$/;
/** An EC2 instance id, alone or at the end of its ARN. */
const EC2_INSTANCE = /(?:^|\/)(i-[0-9a-f]{8,17})$/;
/** An AKS cluster's own resource id. */
const AKS_CLUSTER = /\/providers\/microsoft\.containerservice\/managedclusters\/([^/]+)$/i;
/** An AKS node pool's scale set: `aks-<pool>-<number>-vmss`. */
const AKS_POOL = /\/providers\/microsoft\.compute\/virtualmachinescalesets\/aks-([a-z0-9]+)-\d+-vmss$/i;

function firstTag(tags: Readonly<Record<string, string>>, keys: readonly string[]): string | null {
  for (const key of keys) {
    const value = tags[key];
    if (value !== undefined && value !== "") return value;
  }
  return null;
}

function captured(pattern: RegExp, text: string | null): string | null {
  return text === null ? null : (pattern.exec(text)?.[1] ?? null);
}

/**
 * The resource a bill line names, or null when it names none: GKE's `goog-k8s-cluster-name` and
 * `goog-k8s-node-pool-name` labels and the instance in its resource name; EKS's
 * `aws:eks:cluster-name`, the node group's `eks:nodegroup-name` (or Karpenter's
 * `karpenter.sh/nodepool`) and the instance id in the ResourceId; AKS's cluster resource id, its
 * node pool's scale set or `aks-managed-poolName` tag.
 */
export function billResourceOf(
  resourceId: string | null,
  tags: Readonly<Record<string, string>>,
): ResourceName | null {
  const resource: ResourceName = {
    cluster: firstTag(tags, CLUSTER_KEYS) ?? captured(AKS_CLUSTER, resourceId),
    nodePool: firstTag(tags, NODE_POOL_KEYS) ?? captured(AKS_POOL, resourceId),
    node: captured(GCE_INSTANCE, resourceId) ?? captured(EC2_INSTANCE, resourceId),
  };
  return resource.cluster === null && resource.nodePool === null && resource.node === null ? null : resource;
}

/** Whether a cost that ran on `on` ran on the resource named: every part the name gives agrees. */
export function runsOn(on: Partial<ResourceName>, named: ResourceName): boolean {
  return (
    (named.cluster === null || on.cluster === named.cluster) &&
    (named.nodePool === null || on.nodePool === named.nodePool) &&
    (named.node === null || on.node === named.node)
  );
}
