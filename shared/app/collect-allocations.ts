import {
  type AllocationCloudEvent,
  type AllocationEventsOptions,
  allocationEvents,
} from "#domain/allocation/allocation-events.ts";
import type { AllocationSettings } from "#domain/allocation/allocation-settings.ts";
import { adjustGpuCost, GpuAdjustmentError } from "#domain/allocation/gpu-adjustment.ts";
import { applyIdlePolicy, DEFAULT_IDLE_POLICY, type IdlePolicy } from "#domain/allocation/idle-policy.ts";
import {
  addComponents,
  type ComponentName,
  componentsTotal,
  type K8sAllocation,
  sumComponents,
} from "#domain/allocation/k8s-allocation.ts";
import { DEFAULT_LABEL_KEYS, IDLE_OWNER, type LabelKeys } from "#domain/allocation/owner.ts";
import { UNALLOCATED } from "#domain/cost-row.ts";
import { MAX_PAST_MS } from "#domain/events/parse.ts";
import type { GpuSplitStrategy } from "#domain/gpu-split/split-gpu-cost.ts";
import type { Nanos } from "#domain/money.ts";
import { parseUtcInstant, TimeRangeError } from "#domain/time-range.ts";
import {
  type AllocationAggregate,
  type AllocationSource,
  AllocationSourceError,
  type CollectWindow,
} from "#ports/allocation-source.ts";
import { type Bus, type BusMessage, TOPICS } from "#ports/bus.ts";
import { BusError } from "#ports/bus-error.ts";
import type { Clock } from "#ports/clock.ts";
import { type Logger, silentLogger } from "#ports/logger.ts";
import { type MetricsSource, MetricsSourceError } from "#ports/metrics-source.ts";

/** Events per bus message, as every emitter batches them (one CloudEvents batch per message). */
export const MAX_EVENTS_PER_MESSAGE = 500;
export const DEFAULT_ALLOCATION_EVENT_SOURCE = "//finops/collect-allocations";

const HOUR_MS = 3600 * 1000;
/** Most GPU notes a summary carries; the rest are counted. */
const MAX_GPU_NOTES = 50;
/** Most hours one collection asks for (a request each); a longer backfill is several calls. */
export const MAX_COLLECT_HOURS = 31 * 24;

/** Splitting GPU cost by what DCGM measured instead of by request (see adjustGpuCost). */
export interface GpuUtilizationDeps {
  metrics: MetricsSource;
  /** Default "utilization". */
  strategy?: GpuSplitStrategy;
  /** Default 30 (dcgm-exporter's collection interval). */
  stepSeconds?: number;
}

export interface CollectAllocationsDeps {
  source: AllocationSource;
  bus: Bus;
  /** Where the events go: the events topic, whose ingest validates, dedupes and stores them. */
  topic?: string;
  clock: Clock;
  policy?: IdlePolicy;
  labelKeys?: LabelKeys;
  /** Names the events of allocations whose source named no cluster; part of every event id. */
  cluster: string;
  aggregate?: AllocationAggregate;
  /** CloudEvents `source` of the events. */
  eventSource?: string;
  currency?: string;
  /** Where the cluster runs, set on the events (what reconciliation matches them with the bill on). */
  placement?: Pick<AllocationEventsOptions, "cloud" | "region">;
  logger?: Logger;
  /**
   * When set, the window's GPU usage is read from `metrics` and every node it measured has its GPU
   * cost split by that usage before the owner mapping and the idle policy. The source should then
   * return idle per node (Kubecost `idleByNode=true&splitIdle=true`).
   */
  gpuUtilization?: GpuUtilizationDeps;
}

/**
 * What the GPU adjustment did: pooled === attributed + idle, and the GPU total is unchanged. Over a
 * window of several hours the figures are summed hour by hour (a node measured in two hours counts twice).
 */
export interface GpuCollectSummary {
  strategy: GpuSplitStrategy;
  /** GPU cost of the nodes DCGM measured, as fetched. */
  pooledNanos: Nanos;
  /** Of it, what went to pods by their measured use. */
  attributedNanos: Nanos;
  /** Of it, what the nodes' idle allocations carry (capacity unused, or used by no known pod). */
  idleNanos: Nanos;
  measuredNodes: number;
  /** Nodes with GPU cost DCGM did not measure: the source's figures stand. */
  keptNodes: number;
  notes: string[];
}

/**
 * What one collection did, summed over the window's hours. The nanos prove conservation:
 * fetched === total === attributed + idle + unallocated.
 */
export interface CollectSummary {
  window: CollectWindow;
  /** UTC hours collected, each on its own (allocations and events count per hour). */
  hours: number;
  allocations: number;
  events: number;
  messages: number;
  /** Sum of the components of everything fetched. */
  fetchedNanos: Nanos;
  /** Sum of the components of everything published (equal to fetchedNanos, or the collection fails). */
  totalNanos: Nanos;
  /** Published under an owning team. */
  attributedNanos: Nanos;
  /** Published in the explicit idle bucket (0 when idle is shared). */
  idleNanos: Nanos;
  /** Published with team "unallocated" (no owner label, unallocated and unmounted cost). */
  unallocatedNanos: Nanos;
  /** Fetched as idle, whether kept or shared. */
  idleFetchedNanos: Nanos;
  /** Per component, what was published. */
  components: Record<ComponentName, Nanos>;
  /** Present when GPU cost is split by DCGM utilization. */
  gpu?: GpuCollectSummary;
}

/** Told after each hour of a window is published: that hour's summary, and how far along the window is. */
export type CollectProgress = (hour: CollectSummary, done: number, of: number) => void | Promise<void>;

export interface CollectAllocations {
  /**
   * Collects a window of whole UTC hours that have ended, by default the previous hour, hour by
   * hour, and publishes each hour's events.
   */
  collect(window?: CollectWindow, progress?: CollectProgress): Promise<CollectSummary>;
}

export type CollectAllocationsErrorCode = "invalid" | "conservation";

/** `invalid`: a bad window. `conservation`: the events would not add up to what was fetched (a bug; nothing is published). */
export class CollectAllocationsError extends Error {
  override readonly name = "CollectAllocationsError";
  readonly code: CollectAllocationsErrorCode;

  constructor(code: CollectAllocationsErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** The whole UTC hour before the one `now` is in. */
export function previousHour(now: Date): CollectWindow {
  const to = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  return { from: new Date(to - HOUR_MS), to: new Date(to) };
}

/** Whether a collection failure may pass on a later try (the source or the bus was unavailable). */
export function isTransientCollectError(error: unknown): boolean {
  return (
    (error instanceof AllocationSourceError ||
      error instanceof BusError ||
      error instanceof MetricsSourceError) &&
    error.code === "unavailable"
  );
}

/** How an HTTP edge answers a failed collection: 400 for a bad window, 503 to retry later; undefined to rethrow. */
export function collectErrorAnswer(
  error: unknown,
): { status: 400 | 503; headers: Record<string, string>; body: { error: string } } | undefined {
  if (error instanceof CollectAllocationsError && error.code === "invalid") {
    return { status: 400, headers: {}, body: { error: error.message } };
  }
  if (isTransientCollectError(error)) {
    return { status: 503, headers: { "Retry-After": "60" }, body: { error: (error as Error).message } };
  }
  return undefined;
}

/**
 * A window from a request's query (`?from=...&to=...`, RFC 3339, read as every other surface reads a
 * time: nothing rolls over); undefined when neither is given (the default window applies). Throws
 * CollectAllocationsError("invalid") naming the field.
 */
export function windowFromQuery(query: Record<string, unknown>): CollectWindow | undefined {
  const { from, to } = query;
  if (from === undefined && to === undefined) return undefined;
  const read = (field: string, value: unknown): Date => {
    if (typeof value !== "string") {
      const why = Array.isArray(value) ? "given more than once" : "missing";
      throw new CollectAllocationsError(
        "invalid",
        `${field}: ${why}; an RFC 3339 time such as 2026-11-15T10:00:00Z`,
      );
    }
    try {
      return parseUtcInstant(value, field);
    } catch (error) {
      if (error instanceof TimeRangeError) throw new CollectAllocationsError("invalid", error.message);
      throw error;
    }
  };
  return { from: read("from", from), to: read("to", to) };
}

/** Summary with nanos as decimal strings, for a JSON response or a log line. */
export function summaryToJson(summary: CollectSummary): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(summary, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)),
  ) as Record<string, unknown>;
}

/**
 * A window is collected hour by hour, each hour's events named by that hour, so a window that
 * overlaps one collected before (a rerun, a wider backfill) publishes the same events for the hours
 * they share, and ingest dedupes them. So only whole UTC hours that have ended, and that ingest
 * still takes, can be collected: an hour collected before its end would name its partial figures
 * as the hour's.
 */
function checkWindow(window: CollectWindow, now: Date): void {
  const from = window.from.getTime();
  const to = window.to.getTime();
  if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) {
    throw new CollectAllocationsError("invalid", "window: to must be after from");
  }
  for (const [field, at] of [
    ["from", window.from],
    ["to", window.to],
  ] as const) {
    if (at.getTime() % HOUR_MS !== 0) {
      throw new CollectAllocationsError(
        "invalid",
        `${field}: ${at.toISOString()} is not a whole UTC hour; allocations are collected hour by hour`,
      );
    }
  }
  if (to > now.getTime()) {
    throw new CollectAllocationsError(
      "invalid",
      `to: ${window.to.toISOString()} has not passed yet; only hours that have ended are collected`,
    );
  }
  if (from < now.getTime() - MAX_PAST_MS) {
    throw new CollectAllocationsError(
      "invalid",
      `from: ${window.from.toISOString()} is more than 400 days ago; ingest takes no older costs`,
    );
  }
  const hours = (to - from) / HOUR_MS;
  if (hours > MAX_COLLECT_HOURS) {
    throw new CollectAllocationsError(
      "invalid",
      `window: ${hours} hours; at most ${MAX_COLLECT_HOURS} (31 days) in one collection, split a longer backfill`,
    );
  }
}

function totalOf(events: readonly AllocationCloudEvent[], team?: string): Nanos {
  let total = 0n;
  for (const event of events) {
    if (team !== undefined && event.data.team !== team) continue;
    for (const value of Object.values(event.data.components)) total += BigInt(value);
  }
  return total;
}

function componentsOfEvents(events: readonly AllocationCloudEvent[]): Record<ComponentName, Nanos> {
  const sum: Record<ComponentName, Nanos> = { gpu: 0n, cpu: 0n, ram: 0n, pv: 0n, network: 0n, other: 0n };
  for (const event of events) {
    for (const name of Object.keys(sum) as ComponentName[]) sum[name] += BigInt(event.data.components[name]);
  }
  return sum;
}

function addGpuSummaries(a: GpuCollectSummary, b: GpuCollectSummary): GpuCollectSummary {
  const notes = [...a.notes, ...b.notes];
  return {
    strategy: a.strategy,
    pooledNanos: a.pooledNanos + b.pooledNanos,
    attributedNanos: a.attributedNanos + b.attributedNanos,
    idleNanos: a.idleNanos + b.idleNanos,
    measuredNodes: a.measuredNodes + b.measuredNodes,
    keptNodes: a.keptNodes + b.keptNodes,
    notes: notes.length > MAX_GPU_NOTES ? [...notes.slice(0, MAX_GPU_NOTES), "more notes not shown"] : notes,
  };
}

/** Two collections' summaries as one (the window is the caller's to set). */
function addSummaries(a: CollectSummary, b: CollectSummary): CollectSummary {
  const gpu = a.gpu && b.gpu ? addGpuSummaries(a.gpu, b.gpu) : (a.gpu ?? b.gpu);
  return {
    window: a.window,
    hours: a.hours + b.hours,
    allocations: a.allocations + b.allocations,
    events: a.events + b.events,
    messages: a.messages + b.messages,
    fetchedNanos: a.fetchedNanos + b.fetchedNanos,
    totalNanos: a.totalNanos + b.totalNanos,
    attributedNanos: a.attributedNanos + b.attributedNanos,
    idleNanos: a.idleNanos + b.idleNanos,
    unallocatedNanos: a.unallocatedNanos + b.unallocatedNanos,
    idleFetchedNanos: a.idleFetchedNanos + b.idleFetchedNanos,
    components: addComponents(a.components, b.components),
    ...(gpu === undefined ? {} : { gpu }),
  };
}

function batches(events: readonly AllocationCloudEvent[], size: number): BusMessage[] {
  const messages: BusMessage[] = [];
  for (let i = 0; i < events.length; i += size) {
    messages.push({
      data: Buffer.from(JSON.stringify(events.slice(i, i + size))),
      attributes: { "content-type": "application/cloudevents-batch+json" },
    });
  }
  return messages;
}

/**
 * The collect-allocations use case: hour by hour over the window, fetch the hour's allocations,
 * apply the idle and shared policies, turn them into ai.cost.allocation.v1 events and publish them
 * on the events topic in CloudEvents batches. Event ids are a function of the cluster, the hour and
 * the allocation, so collecting an hour again, alone or in any window, publishes the same events and
 * ingest dedupes them. Before publishing an hour it checks that its events add up, per component, to
 * what was fetched; if not, nothing more is sent.
 */
export function createCollectAllocations(deps: CollectAllocationsDeps): CollectAllocations {
  const {
    source,
    bus,
    topic = TOPICS.events,
    clock,
    policy = DEFAULT_IDLE_POLICY,
    labelKeys = DEFAULT_LABEL_KEYS,
    cluster,
    aggregate = ["namespace", "pod"],
    eventSource = DEFAULT_ALLOCATION_EVENT_SOURCE,
    currency = "USD",
    placement = {},
    logger = silentLogger,
    gpuUtilization,
  } = deps;

  /** One UTC hour: fetched, split, shaped, checked to add up, and published. */
  async function collectHour(window: CollectWindow): Promise<CollectSummary> {
    const stepSeconds = gpuUtilization?.stepSeconds ?? 30;
    const [fetched, usage] = await Promise.all([
      source.allocations(window, aggregate),
      gpuUtilization?.metrics.gpuUsage(window, stepSeconds),
    ]);
    const repaired = fetched.filter((a) => a.notes.length > 0);
    if (repaired.length > 0) {
      logger.warn("allocations repaired while reading", {
        allocations: repaired.length,
        examples: repaired.slice(0, 5).map((a) => ({ name: a.name, notes: a.notes.slice(0, 3) })),
      });
    }
    let measured: readonly K8sAllocation[] = fetched;
    let gpu: GpuCollectSummary | undefined;
    if (gpuUtilization && usage) {
      const strategy = gpuUtilization.strategy ?? "utilization";
      let adjusted: ReturnType<typeof adjustGpuCost>;
      try {
        adjusted = adjustGpuCost({ allocations: fetched, usage, strategy, window, stepSeconds });
      } catch (cause) {
        if (!(cause instanceof GpuAdjustmentError)) throw cause;
        throw new CollectAllocationsError(
          "conservation",
          `GPU cost split by utilization does not add up: ${cause.message}; nothing published`,
          { cause },
        );
      }
      measured = adjusted.allocations;
      if (adjusted.keptNodes.length > 0) {
        logger.warn("GPU cost kept as the source split it by request on nodes DCGM did not measure", {
          nodes: adjusted.keptNodes.slice(0, 20),
          why: adjusted.notes.slice(0, 3),
        });
      }
      const notes = adjusted.notes.slice(0, MAX_GPU_NOTES);
      if (adjusted.notes.length > MAX_GPU_NOTES) {
        notes.push(`${adjusted.notes.length - MAX_GPU_NOTES} more notes not shown`);
      }
      gpu = {
        strategy,
        pooledNanos: adjusted.pooledNanos,
        attributedNanos: adjusted.attributedNanos,
        idleNanos: adjusted.idleNanos,
        measuredNodes: adjusted.nodes.length,
        keptNodes: adjusted.keptNodes.length,
        notes,
      };
    }
    const shaped = applyIdlePolicy(measured, policy);
    const events = allocationEvents(shaped, {
      cluster,
      window,
      source: eventSource,
      labelKeys,
      currency,
      ...placement,
    });

    const fetchedComponents = sumComponents(fetched);
    const components = componentsOfEvents(events);
    const mismatch = (Object.keys(components) as ComponentName[]).filter(
      (name) => components[name] !== fetchedComponents[name],
    );
    if (mismatch.length > 0) {
      throw new CollectAllocationsError(
        "conservation",
        `events do not add up to the allocations fetched in ${mismatch.join(", ")}; nothing published`,
      );
    }

    const messages = batches(events, MAX_EVENTS_PER_MESSAGE);
    if (messages.length > 0) await bus.publish(topic, messages);

    const totalNanos = totalOf(events);
    const idleNanos = totalOf(events, IDLE_OWNER);
    const unallocatedNanos = totalOf(events, UNALLOCATED);
    const summary: CollectSummary = {
      window,
      hours: 1,
      allocations: fetched.length,
      events: events.length,
      messages: messages.length,
      fetchedNanos: componentsTotal(fetchedComponents),
      totalNanos,
      attributedNanos: totalNanos - idleNanos - unallocatedNanos,
      idleNanos,
      unallocatedNanos,
      idleFetchedNanos: componentsTotal(sumComponents(fetched.filter((a) => a.special === "idle"))),
      components,
      ...(gpu === undefined ? {} : { gpu }),
    };
    if (policy.idle !== "keep" && idleNanos > 0n) {
      logger.warn("idle cost kept as its own bucket: no allocation to share it with", {
        idleNanos: idleNanos.toString(),
      });
    }
    return summary;
  }

  return {
    async collect(requested, progress) {
      const now = clock.now();
      const window = requested ?? previousHour(now);
      checkWindow(window, now);
      const hours = (window.to.getTime() - window.from.getTime()) / HOUR_MS;
      let summary: CollectSummary | undefined;
      for (let hour = 0; hour < hours; hour++) {
        const from = window.from.getTime() + hour * HOUR_MS;
        const collected = await collectHour({ from: new Date(from), to: new Date(from + HOUR_MS) });
        if (hours > 1) {
          logger.info("allocations hour collected", {
            hour: new Date(from).toISOString(),
            done: hour + 1,
            of: hours,
            events: collected.events,
            totalNanos: collected.totalNanos.toString(),
          });
        }
        summary = summary === undefined ? collected : addSummaries(summary, collected);
        await progress?.(collected, hour + 1, hours);
      }
      const total = { ...(summary as CollectSummary), window };
      logger.info("allocations collected", summaryToJson(total));
      return total;
    },
  };
}

/** What the runtime already has that the use case needs. */
export interface CollectAllocationsRuntime {
  bus: Bus;
  clock: Clock;
  logger: Logger;
}

/**
 * The use case from the runtime's parts, the configuration's `allocations` section and the sources
 * built from it. `metrics` is required when the section names a GPU utilization source.
 */
export function collectAllocationsFromRuntime(
  runtime: CollectAllocationsRuntime,
  settings: AllocationSettings,
  source: AllocationSource,
  metrics?: MetricsSource,
): CollectAllocations {
  const gpu = settings.gpuUtilization;
  if (gpu && !metrics) {
    throw new Error("allocations.gpuUtilization is set but no metrics source was built for it");
  }
  return createCollectAllocations({
    ...(gpu && metrics
      ? { gpuUtilization: { metrics, strategy: gpu.strategy, stepSeconds: gpu.stepSeconds } }
      : {}),
    source,
    bus: runtime.bus,
    clock: runtime.clock,
    logger: runtime.logger,
    cluster: settings.cluster,
    aggregate: settings.aggregate,
    policy: {
      idle: settings.idle,
      sharedNamespaces: settings.sharedNamespaces,
      sharedPolicy: settings.sharedPolicy,
    },
    labelKeys: settings.labelKeys,
    currency: settings.currency,
    placement: {
      ...(settings.cloud === undefined ? {} : { cloud: settings.cloud }),
      ...(settings.region === undefined ? {} : { region: settings.region }),
    },
  });
}
