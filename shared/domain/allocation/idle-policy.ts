import { type Nanos, splitByWeights } from "#domain/money.ts";
import {
  COMPONENT_NAMES,
  type ComponentName,
  type CostComponents,
  componentsTotal,
  type K8sAllocation,
  sumComponents,
} from "./k8s-allocation.ts";

/**
 * What to do with a cost no workload of its own owns:
 * - `keep`: it stays its own bucket (idle under IDLE_OWNER, a shared namespace under its own owner);
 * - `share-evenly`: every receiving allocation gets an equal part;
 * - `share-by-cost`: each component is split in proportion to the receivers' cost of that component
 *   (idle GPU cost to the GPU users), falling back to their total cost, then to equal parts.
 */
export type SharePolicy = "keep" | "share-evenly" | "share-by-cost";
export const SHARE_POLICIES = [
  "keep",
  "share-evenly",
  "share-by-cost",
] as const satisfies readonly SharePolicy[];

export interface IdlePolicy {
  idle: SharePolicy;
  /** Namespaces whose cost serves everyone (system daemons, monitoring). */
  sharedNamespaces: readonly string[];
  sharedPolicy: SharePolicy;
}

export const DEFAULT_IDLE_POLICY: IdlePolicy = Object.freeze({
  idle: "keep",
  sharedNamespaces: Object.freeze(["kube-system", "monitoring"]),
  sharedPolicy: "keep",
});

type Role = "idle" | "shared" | "receiver" | "fixed";

function roleOf(allocation: K8sAllocation, shared: ReadonlySet<string>): Role {
  if (allocation.special === "idle") return "idle";
  if (allocation.special !== null) return "fixed";
  return shared.has(allocation.namespace) ? "shared" : "receiver";
}

/** Weights for splitting one component over the receivers; all-zero weights never reach splitByWeights. */
function weightsFor(
  policy: Exclude<SharePolicy, "keep">,
  component: ComponentName,
  receivers: readonly K8sAllocation[],
): bigint[] {
  const even = receivers.map(() => 1n);
  if (policy === "share-evenly") return even;
  const byComponent = receivers.map((r) => r.components[component]);
  if (byComponent.some((w) => w > 0n)) return byComponent;
  const byTotal = receivers.map((r) => componentsTotal(r.components));
  return byTotal.some((w) => w > 0n) ? byTotal : even;
}

/** Adds `donor`'s components to the receivers according to `policy`; every nano lands somewhere. */
function share(
  donor: CostComponents,
  policy: Exclude<SharePolicy, "keep">,
  weightSource: readonly K8sAllocation[],
  into: Array<Record<ComponentName, Nanos>>,
): void {
  for (const component of COMPONENT_NAMES) {
    const amount = donor[component];
    if (amount === 0n) continue;
    const parts = splitByWeights(amount, weightsFor(policy, component, weightSource));
    parts.forEach((part, i) => {
      const target = into[i];
      if (target) target[component] += part;
    });
  }
}

/**
 * Applies the idle and shared-namespace policies. Shared cost goes to the receivers: every
 * allocation that is neither idle, in a shared namespace, nor a source-named special (unallocated,
 * unmounted), whether or not it has an owning team, since unlabelled workloads used the capacity
 * too. Idle donors are pooled, and so are shared-namespace donors; weights come from the
 * receivers' own cost before any sharing, so the order of donors does not matter. With no receiver, the cost keeps its own bucket. The total, per component, is
 * unchanged to the nano. Pure: the input is not modified.
 */
export function applyIdlePolicy(
  allocations: readonly K8sAllocation[],
  policy: IdlePolicy = DEFAULT_IDLE_POLICY,
): K8sAllocation[] {
  const shared = new Set(policy.sharedNamespaces);
  const roles = allocations.map((a) => roleOf(a, shared));
  const receivers = allocations.filter((_, i) => roles[i] === "receiver");
  const added = receivers.map(
    (): Record<ComponentName, Nanos> => ({
      gpu: 0n,
      cpu: 0n,
      ram: 0n,
      pv: 0n,
      network: 0n,
      other: 0n,
    }),
  );
  const donates = (role: Role | undefined): boolean =>
    receivers.length > 0 &&
    ((role === "idle" && policy.idle !== "keep") || (role === "shared" && policy.sharedPolicy !== "keep"));
  const donated = roles.map(donates);
  // Donors are pooled by role first: one split per component and pool, however many donors.
  for (const [role, rolePolicy] of [
    ["idle", policy.idle],
    ["shared", policy.sharedPolicy],
  ] as const) {
    if (rolePolicy === "keep") continue;
    const pool = sumComponents(allocations.filter((_, i) => donated[i] && roles[i] === role));
    share(pool, rolePolicy, receivers, added);
  }
  let next = 0;
  const out: K8sAllocation[] = [];
  allocations.forEach((allocation, i) => {
    if (donated[i]) return;
    if (roles[i] !== "receiver") {
      out.push(allocation);
      return;
    }
    const extra = added[next++];
    if (!extra || componentsTotal(extra) === 0n) {
      out.push(allocation);
      return;
    }
    const components = { ...allocation.components };
    for (const name of COMPONENT_NAMES) components[name] += extra[name];
    out.push({ ...allocation, components });
  });
  return out;
}
