import type { AggregateProperty, K8sAllocation } from "#domain/allocation/k8s-allocation.ts";
import { type PortErrorCode, SourceError } from "./port-error.ts";

export type {
  AggregateProperty,
  AllocationWindow,
  CostComponents,
  K8sAllocation,
  SpecialAllocation,
} from "#domain/allocation/k8s-allocation.ts";

/** Half-open UTC range [from, to) to collect; whole seconds (the sources' window syntax has no fractions). */
export interface CollectWindow {
  from: Date;
  to: Date;
}

/** One property, or several (keys then join the values with "/"). */
export type AllocationAggregate = AggregateProperty | readonly AggregateProperty[];

/** Where Kubernetes cost allocations come from (OpenCost, Kubecost). */
export interface AllocationSource {
  /**
   * The allocations of the window accumulated into one set per key, idle capacity included as
   * special "idle" allocations. Each allocation's components add up to its total cost exactly.
   */
  allocations(window: CollectWindow, aggregate: AllocationAggregate): Promise<K8sAllocation[]>;
}

/**
 * `unavailable`: transient (network, timeout, the server busy or failing); a later call may work.
 * `invalid`: the request or the answer is wrong (bad window, 4xx, a body that is not an allocation
 * response); retrying the same call will not help.
 */
export type AllocationSourceErrorCode = PortErrorCode;

export class AllocationSourceError extends SourceError {
  override readonly name = "AllocationSourceError";
}
