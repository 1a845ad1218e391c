import {
  type GpuIdentity,
  type GpuUsage,
  type GpuWindow,
  gpuKey,
  podKey,
} from "#domain/gpu-split/gpu-usage.ts";
import { splitNodeGpuCost } from "#domain/gpu-split/node-gpu-cost.ts";
import { splitFleet } from "#domain/gpu-split/split-fleet.ts";
import type { GpuSplitStrategy } from "#domain/gpu-split/split-gpu-cost.ts";
import { type Nanos, nanosToDecimal, splitByWeights } from "#domain/money.ts";
import { type K8sAllocation, ZERO_COMPONENTS } from "./k8s-allocation.ts";

/**
 * Replaces the GPU component of Kubecost/OpenCost allocations (list price split by GPU request)
 * with a split by what DCGM measured, node by node.
 *
 * Per node that DCGM measured (it reported at least one GPU whose node label is the allocation's
 * `node`):
 * - the pool is the GPU component of every allocation on the node plus the node's idle GPU cost;
 * - `splitNodeGpuCost` hands the pool to the node's GPUs (equal parts, MIG instances by slices),
 *   `splitFleet` splits each GPU's part over the pods that held it with the strategy;
 * - each pod allocation's GPU component becomes its DCGM share, matched on namespace/pod/container
 *   (on namespace/pod when the allocations are aggregated above the container);
 * - an allocation on the node that DCGM never saw holding a GPU gets 0 GPU cost: its requested
 *   GPU sat unused as far as the node's GPUs can tell, so that cost is idle now;
 * - a pod DCGM saw that has no allocation on the node cannot be charged: its share joins the idle;
 * - the node's idle allocation(s) get the DCGM idle (a node idle allocation is created when the
 *   source named none for the node and there is idle to carry).
 * The node's GPU total is unchanged to the nano; a mismatch throws GpuAdjustmentError.
 *
 * Nodes DCGM never saw keep the source's figures. When the source's idle GPU cost cannot be placed
 * on a node (one cluster-wide `__idle__` carrying GPU cost: the source did not split idle by node),
 * the measured nodes' idle is unknown, so nothing is adjusted and the notes say why. Pure.
 */

export interface GpuAdjustmentInput {
  allocations: readonly K8sAllocation[];
  usage: readonly GpuUsage[];
  strategy: GpuSplitStrategy;
  window: GpuWindow;
  stepSeconds: number;
}

export interface NodeGpuAdjustment {
  node: string;
  gpus: number;
  /** The node's GPU cost, as fetched and as published. */
  pooledNanos: Nanos;
  attributedNanos: Nanos;
  idleNanos: Nanos;
}

export interface GpuAdjustmentResult {
  /** The allocations in input order, GPU components replaced on measured nodes; created node idle allocations last. */
  allocations: K8sAllocation[];
  strategy: GpuSplitStrategy;
  /** GPU cost of the measured nodes: attributedNanos + idleNanos, to the nano. */
  pooledNanos: Nanos;
  /** Of the pool, what went to pod allocations. */
  attributedNanos: Nanos;
  /** Of the pool, what went to the nodes' idle allocations. */
  idleNanos: Nanos;
  /** Per measured node, ordered by name. */
  nodes: NodeGpuAdjustment[];
  /** Nodes with GPU cost that DCGM did not measure: they keep the source's figures. */
  keptNodes: string[];
  notes: string[];
}

export class GpuAdjustmentError extends Error {
  override readonly name = "GpuAdjustmentError";
  readonly code = "conservation" as const;
}

const IDLE_MARKERS = new Set(["__idle__", "_idle_"]);

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function text(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/**
 * The node an idle allocation belongs to: its `node` property, else the key part before `__idle__`
 * (`<node>/__idle__` or `<cluster>/<node>/__idle__`, what Kubecost answers to idleByNode=true with
 * splitIdle=true). A bare `__idle__` belongs to no node.
 */
function idleNodeOf(allocation: K8sAllocation): string | undefined {
  const own = text(allocation.node);
  if (own !== undefined) return own;
  const parts = allocation.name.split("/");
  const at = parts.findIndex((part) => IDLE_MARKERS.has(part));
  return at > 0 ? text(parts[at - 1]) : undefined;
}

/** Splits `amount` over `targets` by their weights; evenly when all weights are 0. */
function spread(amount: Nanos, weights: readonly bigint[]): Nanos[] {
  if (weights.length === 0) return [];
  const usable = weights.some((w) => w > 0n) ? weights : weights.map(() => 1n);
  return splitByWeights(amount, usable);
}

/** One GpuUsage per GPU key: the exporter may list a GPU twice; its series are joined, never charged twice. */
function mergeByGpu(usage: readonly GpuUsage[]): GpuUsage[] {
  const merged = new Map<string, GpuUsage>();
  for (const entry of usage) {
    const key = gpuKey(entry.gpu);
    const existing = merged.get(key);
    if (existing) merged.set(key, { gpu: existing.gpu, series: [...existing.series, ...entry.series] });
    else merged.set(key, { gpu: entry.gpu, series: [...entry.series] });
  }
  return [...merged.values()];
}

interface NodeMembers {
  pods: number[];
  idle: number[];
}

/** An amount for a note, in the allocation's currency units. */
function gpuFormat(nanos: Nanos): string {
  return nanosToDecimal(nanos);
}

export function adjustGpuCost(input: GpuAdjustmentInput): GpuAdjustmentResult {
  const { allocations, strategy, window, stepSeconds } = input;
  const notes: string[] = [];
  const usageByNode = new Map<string, GpuUsage[]>();
  for (const entry of mergeByGpu(input.usage)) {
    const node = text(entry.gpu.node);
    if (node === undefined) {
      notes.push(`GPU ${entry.gpu.uuid}: DCGM names no node; its usage is not used`);
      continue;
    }
    const list = usageByNode.get(node) ?? [];
    list.push(entry);
    usageByNode.set(node, list);
  }

  const members = new Map<string, NodeMembers>();
  const member = (node: string): NodeMembers => {
    const entry = members.get(node) ?? { pods: [], idle: [] };
    members.set(node, entry);
    return entry;
  };
  let unplacedIdleGpu = 0n;
  allocations.forEach((a, i) => {
    if (a.special === "idle") {
      const node = idleNodeOf(a);
      if (node === undefined) unplacedIdleGpu += a.components.gpu;
      else member(node).idle.push(i);
      return;
    }
    const node = text(a.node);
    if (node !== undefined) member(node).pods.push(i);
  });

  const gpuOf = (indexes: readonly number[]) =>
    indexes.reduce((sum, i) => sum + (allocations[i]?.components.gpu ?? 0n), 0n);
  const keptNodes = [...members.entries()]
    .filter(([node, m]) => !usageByNode.has(node) && gpuOf([...m.pods, ...m.idle]) > 0n)
    .map(([node]) => node)
    .sort(byText);
  for (const node of [...usageByNode.keys()].sort(byText)) {
    if (!members.has(node))
      notes.push(`${node}: DCGM measured GPUs on it but no allocation names the node; ignored`);
  }

  const unchanged = (extra: string[]): GpuAdjustmentResult => ({
    allocations: [...allocations],
    strategy,
    pooledNanos: 0n,
    attributedNanos: 0n,
    idleNanos: 0n,
    nodes: [],
    keptNodes: [...members.entries()]
      .filter(([, m]) => gpuOf([...m.pods, ...m.idle]) > 0n)
      .map(([node]) => node)
      .sort(byText),
    notes: [...extra, ...notes],
  });
  if (unplacedIdleGpu > 0n) {
    return unchanged([
      `idle GPU cost of ${gpuFormat(unplacedIdleGpu)} is not split by node (the source answered one idle ` +
        "allocation without a node; OpenCost's /allocation does not split idle by node): the idle of the " +
        "measured nodes is unknown, so every GPU cost keeps the source's figure",
    ]);
  }

  const gpuByAllocation = new Map<number, Nanos>();
  const created: K8sAllocation[] = [];
  const nodes: NodeGpuAdjustment[] = [];
  const existingNames = new Set(allocations.map((a) => a.name));
  for (const node of [...members.keys()].sort(byText)) {
    const usage = usageByNode.get(node);
    const m = members.get(node);
    if (!usage || !m) continue;
    const pooled = gpuOf([...m.pods, ...m.idle]);
    const perGpu = splitNodeGpuCost(
      pooled,
      usage.map((u) => u.gpu),
    );
    const fleet = splitFleet(usage, (gpu: GpuIdentity) => perGpu.get(gpuKey(gpu)) ?? 0n, strategy, {
      window,
      stepSeconds,
    });
    for (const note of fleet.notes) notes.push(note);

    // Pod allocations by the identity DCGM can name: container level first, then pod level.
    const byContainer = new Map<string, number[]>();
    const byPod = new Map<string, number[]>();
    for (const i of m.pods) {
      const a = allocations[i];
      const pod = text(a?.pod);
      if (!a || pod === undefined) continue;
      const container = text(a.container);
      const key = container === undefined ? `${a.namespace}/${pod}` : `${a.namespace}/${pod}/${container}`;
      const index = container === undefined ? byPod : byContainer;
      index.set(key, [...(index.get(key) ?? []), i]);
    }
    const share = new Map<number, Nanos>(m.pods.map((i) => [i, 0n]));
    let attributed = 0n;
    let unmatched = 0n;
    for (const owner of fleet.owners) {
      const targets =
        byContainer.get(podKey(owner.owner)) ?? byPod.get(`${owner.owner.namespace}/${owner.owner.pod}`);
      if (!targets || targets.length === 0) {
        unmatched += owner.nanos;
        if (owner.nanos !== 0n) {
          notes.push(
            `${node}: ${podKey(owner.owner)} held a GPU but has no allocation on the node; ` +
              `its ${gpuFormat(owner.nanos)} counted as idle`,
          );
        }
        continue;
      }
      const parts = spread(
        owner.nanos,
        targets.map((i) => allocations[i]?.components.gpu ?? 0n),
      );
      targets.forEach((i, j) => {
        share.set(i, (share.get(i) ?? 0n) + (parts[j] ?? 0n));
      });
      attributed += owner.nanos;
    }
    const unseen = m.pods.filter(
      (i) => (share.get(i) ?? 0n) === 0n && (allocations[i]?.components.gpu ?? 0n) > 0n,
    );
    if (unseen.length > 0) {
      const names = unseen.map((i) => allocations[i]?.name ?? "").sort(byText);
      notes.push(
        `${node}: ${names.length} allocation(s) with GPU cost DCGM never saw holding a GPU now carry none ` +
          `(${names.slice(0, 5).join(", ")}${names.length > 5 ? ", ..." : ""})`,
      );
    }
    for (const [i, nanos] of share) gpuByAllocation.set(i, nanos);

    const idle = fleet.idleNanos + unmatched;
    if (m.idle.length > 0) {
      const parts = spread(
        idle,
        m.idle.map((i) => allocations[i]?.components.gpu ?? 0n),
      );
      m.idle.forEach((i, j) => {
        gpuByAllocation.set(i, parts[j] ?? 0n);
      });
    } else if (idle !== 0n) {
      const first = m.pods.map((i) => allocations[i]).find((a) => a !== undefined);
      let name = `${node}/__idle__`;
      for (let n = 2; existingNames.has(name); n += 1) name = `${node}/__idle__/${n}`;
      existingNames.add(name);
      created.push({
        name,
        cluster: first?.cluster ?? "",
        namespace: "",
        node,
        labels: {},
        namespaceLabels: {},
        window: { start: new Date(window.from), end: new Date(window.to) },
        components: { ...ZERO_COMPONENTS, gpu: idle },
        gpuHours: 0,
        special: "idle",
        notes: [],
      });
      notes.push(`${node}: the source named no idle for the node; an idle allocation carries its GPU idle`);
    }

    let published = 0n;
    for (const i of [...m.pods, ...m.idle]) published += gpuByAllocation.get(i) ?? 0n;
    if (m.idle.length === 0) published += idle;
    if (published !== pooled || fleet.totalNanos !== pooled || attributed + idle !== pooled) {
      throw new GpuAdjustmentError(
        `${node}: GPU cost ${pooled} nanos came in but ${published} would go out ` +
          `(split ${fleet.totalNanos}, pods ${attributed}, idle ${idle})`,
      );
    }
    nodes.push({
      node,
      gpus: usage.length,
      pooledNanos: pooled,
      attributedNanos: attributed,
      idleNanos: idle,
    });
  }

  const adjusted = allocations.map((a, i) => {
    const gpu = gpuByAllocation.get(i);
    return gpu === undefined || gpu === a.components.gpu ? a : { ...a, components: { ...a.components, gpu } };
  });
  const sum = (pick: (n: NodeGpuAdjustment) => Nanos) => nodes.reduce((total, n) => total + pick(n), 0n);
  return {
    allocations: [...adjusted, ...created],
    strategy,
    pooledNanos: sum((n) => n.pooledNanos),
    attributedNanos: sum((n) => n.attributedNanos),
    idleNanos: sum((n) => n.idleNanos),
    nodes,
    keptNodes,
    notes: [
      ...(keptNodes.length > 0
        ? [
            `${keptNodes.length} node(s) with GPU cost DCGM did not measure keep the source's figures: ${keptNodes.join(", ")}`,
          ]
        : []),
      ...notes,
    ],
  };
}
