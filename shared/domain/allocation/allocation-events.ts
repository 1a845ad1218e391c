import { createHash } from "node:crypto";
import type { z } from "zod";
import { ALLOCATION_V1, type allocationDataSchema } from "#domain/events/allocation.ts";
import { COMPONENT_NAMES, type ComponentName, type K8sAllocation } from "./k8s-allocation.ts";
import { DEFAULT_LABEL_KEYS, type LabelKeys, ownerOf } from "./owner.ts";

/** The JSON an emitter sends as an allocation event's data (nanos as decimal strings). */
export type AllocationWireData = z.input<typeof allocationDataSchema>;

/** A structured-mode ai.cost.allocation.v1 CloudEvent as plain JSON, what goes on the events topic. */
export interface AllocationCloudEvent {
  specversion: "1.0";
  id: string;
  source: string;
  type: typeof ALLOCATION_V1;
  /** RFC 3339, UTC: the end of the collected window. */
  time: string;
  datacontenttype: "application/json";
  data: AllocationWireData & { components: Record<ComponentName, string> };
}

export interface AllocationEventsOptions {
  /** Names the events of allocations whose source named no cluster. */
  cluster: string;
  /** The window that was collected: the event time is its end, and it bounds each allocation's window. */
  window: { from: Date; to: Date };
  /** CloudEvents `source`: with the id, the dedupe key. */
  source: string;
  labelKeys?: LabelKeys;
  currency?: string;
  /** Where the cluster runs: reconciliation matches its allocations with that cloud's bill. */
  cloud?: AllocationWireData["cloud"];
  region?: string;
}

/** Longest label value the event schema takes. */
const MAX_LABEL_VALUE = 256;

/** The allocation's Kubernetes identity, as free labels next to the owner dimensions. */
function identityLabels(allocation: K8sAllocation): Record<string, string> {
  const labels: Record<string, string> = {};
  const put = (key: string, value: string | undefined) => {
    const trimmed = value?.trim();
    if (trimmed) labels[key] = trimmed.slice(0, MAX_LABEL_VALUE);
  };
  put("node", allocation.node);
  put("controller_kind", allocation.controllerKind);
  put("controller", allocation.controller);
  put("pod", allocation.pod);
  put("container", allocation.container);
  put("special", allocation.special ?? undefined);
  return labels;
}

/** The allocation's own window, kept inside the collected one; the collected window where that leaves nothing. */
function eventWindow(allocation: K8sAllocation, collected: { from: Date; to: Date }) {
  const start = Math.max(allocation.window.start.getTime(), collected.from.getTime());
  const end = Math.min(allocation.window.end.getTime(), collected.to.getTime());
  return end > start
    ? { start: new Date(start).toISOString(), end: new Date(end).toISOString() }
    : { start: collected.from.toISOString(), end: collected.to.toISOString() };
}

/**
 * The event id: a hash of the cluster, the collected window (one UTC hour) and the allocation's
 * identity (its source key, namespace, pod, container, node, and own window). Owner labels are left
 * out on purpose: re-running a window after a relabel must dedupe against the first run, not add to it.
 */
export function allocationEventId(
  cluster: string,
  window: { from: Date; to: Date },
  allocation: K8sAllocation,
): string {
  const key = JSON.stringify([
    cluster,
    window.from.toISOString(),
    window.to.toISOString(),
    allocation.name,
    allocation.special,
    allocation.namespace,
    allocation.controller ?? null,
    allocation.pod ?? null,
    allocation.container ?? null,
    allocation.node ?? null,
    allocation.window.start.toISOString(),
    allocation.window.end.toISOString(),
  ]);
  return `alloc-${createHash("sha256").update(key).digest("hex").slice(0, 40)}`;
}

/**
 * One ai.cost.allocation.v1 CloudEvent per allocation, as an emitter sends them. Deterministic:
 * the same allocations and options give the same events, ids included, so re-collecting a window
 * dedupes in ingest. Components carry over exactly, so the events add up to the allocations.
 */
export function allocationEvents(
  allocations: readonly K8sAllocation[],
  options: AllocationEventsOptions,
): AllocationCloudEvent[] {
  const { window, source, labelKeys = DEFAULT_LABEL_KEYS, currency = "USD" } = options;
  const time = window.to.toISOString();
  return allocations.map((allocation) => {
    const cluster = allocation.cluster.trim() || options.cluster;
    const owner = ownerOf(allocation, labelKeys);
    const components = Object.fromEntries(
      COMPONENT_NAMES.map((name) => [name, allocation.components[name].toString()]),
    ) as Record<ComponentName, string>;
    return {
      specversion: "1.0",
      id: allocationEventId(cluster, window, allocation),
      source,
      type: ALLOCATION_V1,
      time,
      datacontenttype: "application/json",
      data: {
        ...owner,
        labels: identityLabels(allocation),
        cluster: cluster.slice(0, 128),
        window: eventWindow(allocation, window),
        components,
        gpu_hours: allocation.gpuHours,
        currency,
        ...(options.cloud === undefined ? {} : { cloud: options.cloud }),
        ...(options.region === undefined ? {} : { region: options.region }),
      },
    };
  });
}
