import type {
  AllocationWindow,
  ComponentName,
  CostComponents,
  K8sAllocation,
  SpecialAllocation,
} from "#domain/allocation/k8s-allocation.ts";
import { type Nanos, numberToNanos, splitByWeights } from "#domain/money.ts";
import { AllocationSourceError, type CollectWindow } from "#ports/allocation-source.ts";

/**
 * Reading the OpenCost / Kubecost allocation response (`{code, data: [ {<key>: Allocation} ]}`),
 * leniently: the servers have shipped NaN (as a bare token, a string or null) and slightly negative
 * floats, and the Kubecost docs' sample carries `"...etc": {}` placeholders. Every repair is noted.
 */

type Json = Record<string, unknown>;

export interface ParseContext {
  /** The window asked for: the allocation window where an allocation states none. */
  window: CollectWindow;
  /** Replaces every allocation's cluster when set. */
  cluster?: string;
}

export interface ParsedAllocations {
  allocations: K8sAllocation[];
  /** Entries that were not allocations (placeholders, nulls), by where they were. */
  skipped: string[];
  /** Bare NaN / Infinity tokens turned into null before parsing. */
  nonFiniteTokens: number;
}

/** Which vendor fields make up each component: cost plus its adjustment (reconciliation with the bill). */
const COMPONENT_FIELDS: ReadonlyArray<[Exclude<ComponentName, "other">, string, string]> = [
  ["gpu", "gpuCost", "gpuCostAdjustment"],
  ["cpu", "cpuCost", "cpuCostAdjustment"],
  ["ram", "ramCost", "ramCostAdjustment"],
  ["pv", "pvCost", "pvCostAdjustment"],
  ["network", "networkCost", "networkCostAdjustment"],
];

/** What else `totalCost` holds, used to rebuild a total the response left out or sent as NaN. */
const OTHER_FIELDS = [
  "loadBalancerCost",
  "loadBalancerCostAdjustment",
  "sharedCost",
  "externalCost",
] as const;

const NON_FINITE_TOKEN = /"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)/g;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function stringRecord(value: unknown): Record<string, string> {
  if (!isObject(value)) return {};
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) if (typeof v === "string") out[key] = v;
  return out;
}

/** A number field: null when absent; NaN, null, or text that is no number read as absent with a note. */
function readNumber(raw: Json, field: string, notes: string[]): number | null {
  if (!(field in raw) || raw[field] === undefined) return null;
  const value = raw[field];
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
  if (Number.isFinite(n)) return n;
  notes.push(`${field}: ${JSON.stringify(value) ?? String(value)} read as 0`);
  return null;
}

function readNanos(raw: Json, field: string, notes: string[]): Nanos {
  const n = readNumber(raw, field, notes);
  return n === null ? 0n : numberToNanos(n);
}

function clampNegative(name: string, value: Nanos, notes: string[]): Nanos {
  if (value >= 0n) return value;
  notes.push(`${name}: negative (${value} nanos) clamped to 0`);
  return 0n;
}

/**
 * The components of one allocation: each is cost + adjustment, clamped at 0. `totalCost` is the
 * authority (it includes adjustments, load balancers, shared and external cost): what it holds
 * beyond the five named components goes to `other`, so the components add up to it exactly. The
 * sources round every field on its own, so the named components can exceed the total by a rounding
 * step; the excess is then taken back from them in proportion (largest remainder), never lost.
 */
export function componentsOf(raw: Json, notes: string[]): CostComponents {
  const named = COMPONENT_FIELDS.map(([name, cost, adjustment]) =>
    clampNegative(name, readNanos(raw, cost, notes) + readNanos(raw, adjustment, notes), notes),
  );
  const namedSum = named.reduce((a, b) => a + b, 0n);
  const totalNumber = readNumber(raw, "totalCost", notes);
  let total: Nanos;
  if (totalNumber === null) {
    const rest = OTHER_FIELDS.reduce((sum, field) => sum + readNanos(raw, field, notes), 0n);
    total = namedSum + (rest > 0n ? rest : 0n);
    notes.push("totalCost: absent or NaN; rebuilt from the components");
  } else {
    total = clampNegative("totalCost", numberToNanos(totalNumber), notes);
  }
  let other = total - namedSum;
  if (other < 0n) {
    const cuts = splitByWeights(-other, named);
    cuts.forEach((cut, i) => {
      named[i] = (named[i] ?? 0n) - cut;
    });
    notes.push(`components exceed totalCost by ${-other} nanos; taken back in proportion`);
    other = 0n;
  }
  const [gpu = 0n, cpu = 0n, ram = 0n, pv = 0n, network = 0n] = named;
  return { gpu, cpu, ram, pv, network, other };
}

/** `__idle__`, `__unallocated__`, `__unmounted__` as the key or one of its "/"-joined parts (`_idle_` in older Kubecost prose). */
export function specialOf(name: string): SpecialAllocation | null {
  const parts = name.split("/");
  if (parts.includes("__idle__") || parts.includes("_idle_")) return "idle";
  if (parts.includes("__unmounted__")) return "unmounted";
  if (parts.includes("__unallocated__")) return "unallocated";
  return null;
}

function date(value: unknown): Date | undefined {
  if (typeof value !== "string") return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** The allocation's own start and end, else its set's window, else the window asked for. */
function windowOf(raw: Json, asked: CollectWindow): AllocationWindow {
  const candidates: Array<[unknown, unknown]> = [[raw.start, raw.end]];
  if (isObject(raw.window)) candidates.push([raw.window.start, raw.window.end]);
  for (const [s, e] of candidates) {
    const start = date(s);
    const end = date(e);
    if (start && end && end.getTime() > start.getTime()) return { start, end };
  }
  return { start: new Date(asked.from), end: new Date(asked.to) };
}

function readAllocation(key: string, raw: Json, context: ParseContext): K8sAllocation {
  const notes: string[] = [];
  const name = text(raw.name) ?? key;
  const props = isObject(raw.properties) ? raw.properties : {};
  const special = specialOf(name);
  const namespace = text(props.namespace) ?? "";
  const optional = (field: string, value: unknown) => {
    const v = text(value);
    return v === undefined ? {} : { [field]: v };
  };
  const gpuHours = readNumber(raw, "gpuHours", notes) ?? 0;
  if (gpuHours < 0) notes.push(`gpuHours: negative (${gpuHours}) clamped to 0`);
  return {
    name,
    cluster: context.cluster ?? text(props.cluster) ?? "",
    namespace: /^__.*__$/.test(namespace) ? "" : namespace,
    ...optional("pod", props.pod),
    ...optional("container", props.container),
    ...optional("node", props.node),
    ...optional("controller", props.controller),
    ...optional("controllerKind", props.controllerKind),
    labels: stringRecord(props.labels),
    namespaceLabels: stringRecord(props.namespaceLabels),
    window: windowOf(raw, context.window),
    components: componentsOf(raw, notes),
    gpuHours: Math.max(0, gpuHours),
    special,
    notes,
  };
}

/** Looks like an allocation: a name, properties or a total. `{}` placeholders do not. */
function isAllocation(value: unknown): value is Json {
  return isObject(value) && ("name" in value || "properties" in value || "totalCost" in value);
}

function invalid(message: string, cause?: unknown): AllocationSourceError {
  return new AllocationSourceError("invalid", message, cause === undefined ? undefined : { cause });
}

/** Parses a response body; throws AllocationSourceError("invalid") when it is not an allocation response. */
export function parseAllocationResponse(body: string, context: ParseContext): ParsedAllocations {
  let nonFiniteTokens = 0;
  const sanitized = body.replace(NON_FINITE_TOKEN, (match, bare: string | undefined) => {
    if (bare === undefined) return match;
    nonFiniteTokens += 1;
    return "null";
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(sanitized);
  } catch (cause) {
    throw invalid(`allocation response is not JSON: ${(cause as Error).message}`, cause);
  }
  if (!isObject(parsed)) throw invalid("allocation response is not a JSON object");
  const code = parsed.code;
  if (typeof code === "number" && code !== 200) {
    const message = text(parsed.message) ?? text(parsed.status) ?? "no message";
    const kind = code >= 500 || code === 429 ? "unavailable" : "invalid";
    throw new AllocationSourceError(kind, `allocation response code ${code}: ${message}`);
  }
  const data = parsed.data;
  if (data !== null && data !== undefined && !Array.isArray(data) && !isObject(data)) {
    throw invalid("allocation response: data must be an array of allocation sets");
  }
  const sets: unknown[] = Array.isArray(data) ? data : data ? [data] : [];
  const allocations: K8sAllocation[] = [];
  const skipped: string[] = [];
  sets.forEach((set, i) => {
    if (!isObject(set)) {
      skipped.push(`data[${i}]`);
      return;
    }
    for (const [key, value] of Object.entries(set)) {
      if (isAllocation(value)) allocations.push(readAllocation(key, value, context));
      else skipped.push(`data[${i}][${JSON.stringify(key)}]`);
    }
  });
  return { allocations, skipped, nonFiniteTokens };
}
