import type { Nanos } from "#domain/money.ts";

/** The cost components of an allocation, as ai.cost.allocation.v1 carries them. */
export const COMPONENT_NAMES = ["gpu", "cpu", "ram", "pv", "network", "other"] as const;
export type ComponentName = (typeof COMPONENT_NAMES)[number];
export type CostComponents = Readonly<Record<ComponentName, Nanos>>;

/**
 * The allocations OpenCost and Kubecost name themselves: `__idle__` (capacity no workload used),
 * `__unallocated__` (cost missing the aggregate field) and `__unmounted__` (volumes no pod mounts).
 */
export type SpecialAllocation = "idle" | "unallocated" | "unmounted";

/** Half-open time range [start, end). */
export interface AllocationWindow {
  start: Date;
  end: Date;
}

/**
 * One Kubernetes cost allocation for a window, whichever system computed it. Components are exact
 * nanos, never negative, and add up to the allocation's total cost.
 */
export interface K8sAllocation {
  /** The source's key for it ("kubecost/cost-analyzer-5b84f94b7f-9lxx5", "__idle__"): unique in a window. */
  name: string;
  cluster: string;
  /** "" where the allocation has no namespace (idle, unmounted volumes). */
  namespace: string;
  pod?: string;
  container?: string;
  node?: string;
  controller?: string;
  controllerKind?: string;
  /** Pod labels, keys Prometheus-sanitized (`app.kubernetes.io/name` → `app_kubernetes_io_name`). */
  labels: Readonly<Record<string, string>>;
  /** Labels of the allocation's namespace, same key form. */
  namespaceLabels: Readonly<Record<string, string>>;
  /** When the cost was incurred: the allocation's own start and end within the queried window. */
  window: AllocationWindow;
  components: CostComponents;
  gpuHours: number;
  special: SpecialAllocation | null;
  /** What was repaired while reading it (NaN read as 0, a negative cost clamped, a rounding remainder). */
  notes: readonly string[];
}

export const ZERO_COMPONENTS: CostComponents = Object.freeze({
  gpu: 0n,
  cpu: 0n,
  ram: 0n,
  pv: 0n,
  network: 0n,
  other: 0n,
});

export function componentsTotal(components: CostComponents): Nanos {
  let total = 0n;
  for (const name of COMPONENT_NAMES) total += components[name];
  return total;
}

export function addComponents(a: CostComponents, b: CostComponents): CostComponents {
  return {
    gpu: a.gpu + b.gpu,
    cpu: a.cpu + b.cpu,
    ram: a.ram + b.ram,
    pv: a.pv + b.pv,
    network: a.network + b.network,
    other: a.other + b.other,
  };
}

/** Component-wise sum over many allocations. */
export function sumComponents(items: Iterable<{ components: CostComponents }>): CostComponents {
  let total = ZERO_COMPONENTS;
  for (const item of items) total = addComponents(total, item.components);
  return total;
}

/** What OpenCost and Kubecost can aggregate allocations by (several at once give keys joined by "/"). */
export const AGGREGATE_PROPERTIES = [
  "cluster",
  "node",
  "namespace",
  "controllerKind",
  "controller",
  "service",
  "pod",
  "container",
] as const;
export type AggregateProperty = (typeof AGGREGATE_PROPERTIES)[number];
