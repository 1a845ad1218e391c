import { describe, expect, it } from "vitest";
import { DEFAULT_ALLOCATION_EVENT_SOURCE } from "#app/collect-allocations.ts";
import type { AllocationCloudEvent } from "#domain/allocation/allocation-events.ts";
import { allocationEventId } from "#domain/allocation/allocation-events.ts";
import { COMPONENT_NAMES, type ComponentName } from "#domain/allocation/k8s-allocation.ts";
import {
  clusterHour,
  clusterHourListCost,
  DEMO_ALLOCATION_SOURCE,
  wholeHours,
} from "#domain/demo/cluster-allocations.ts";
import { generateDemoEvents } from "#domain/demo/demo-events.ts";
import { createSeededRandom } from "#domain/demo/seeded-random.ts";
import { GCP_REGION, syntheticOrg } from "#domain/demo/synthetic-org.ts";
import { ALLOCATION_V1, INFERENCE_V1 } from "#domain/events/cloud-event.ts";
import { parseCostEvent } from "#domain/events/parse.ts";
import { podKey } from "#domain/gpu-split/gpu-usage.ts";
import { splitGpuCost } from "#domain/gpu-split/split-gpu-cost.ts";
import { decimalToNanos } from "#domain/money.ts";
import { shippedPricer } from "../support/expected-costs.ts";

const HOUR_MS = 3_600_000;
// A Monday and a Tuesday: two whole weekdays.
const FROM = new Date("2026-11-02T00:00:00.000Z");
const HOURS = 48;
const NOW = new Date(FROM.getTime() + (HOURS + 1) * HOUR_MS);
const events = generateDemoEvents({ from: FROM, hours: HOURS, seed: 42 });
const allocations = events.filter((e): e is AllocationCloudEvent => e.type === ALLOCATION_V1);
const cluster = syntheticOrg().gpuCluster;

function byHour(list: readonly AllocationCloudEvent[]): Map<string, AllocationCloudEvent[]> {
  const hours = new Map<string, AllocationCloudEvent[]>();
  for (const e of list) hours.set(e.data.window.start, [...(hours.get(e.data.window.start) ?? []), e]);
  return hours;
}

const component = (e: AllocationCloudEvent, name: ComponentName) => BigInt(e.data.components[name]);
const total = (e: AllocationCloudEvent) => COMPONENT_NAMES.reduce((n, name) => n + component(e, name), 0n);
const podOf = (e: AllocationCloudEvent) => e.data.labels?.pod;

/** The cluster's list cost for an hour, from its description alone: GPUs, vCPUs and memory at their rates. */
function listCostOfHour(): { gpu: bigint; cpu: bigint; ram: bigint } {
  let gpu = 0n;
  let cpu = 0n;
  let ram = 0n;
  for (const node of cluster.nodes) {
    const family = cluster.machineFamilies[node.family];
    gpu += decimalToNanos(cluster.gpuUsdPerHour[node.accelerator] ?? "NaN") * BigInt(node.gpus);
    cpu += decimalToNanos(family?.vcpuUsdPerHour ?? "NaN") * BigInt(node.vcpus);
    ram += decimalToNanos(family?.memoryGbUsdPerHour ?? "NaN") * BigInt(node.memoryGb);
  }
  return { gpu, cpu, ram };
}

/** The GPU (node, index) two pods of different teams time-slice. */
function sharedGpu() {
  for (const node of cluster.nodes) {
    for (let index = 0; index < node.gpus; index++) {
      const holders = cluster.pods.filter((p) => p.node === node.name && p.gpus.includes(index));
      if (new Set(holders.map((p) => p.namespace)).size === 2) return { node, index, holders };
    }
  }
  throw new Error("the demo cluster has no GPU shared by two namespaces");
}

describe("the demo's GPU serving cluster", () => {
  it("prices GPUs, vCPUs and memory at the shipped catalog's list prices", () => {
    const pricer = shippedPricer();
    const rate = (query: { accelerator?: string; instance_type?: string }) => {
      const found = pricer.gpuHourlyRate({ cloud: "gcp", region: GCP_REGION, ...query });
      if (!found.ok) throw new Error(found.failure.reason);
      return found.rate.rateNanosPerHour;
    };
    for (const node of cluster.nodes) {
      expect(decimalToNanos(cluster.gpuUsdPerHour[node.accelerator] ?? "NaN")).toBe(
        rate({ accelerator: node.accelerator }),
      );
    }
    // The family rates are what is left of the catalog's instance prices once their GPU is out.
    const families = cluster.machineFamilies;
    const instance = (family: string, vcpus: number, gb: number, accelerator: string) =>
      decimalToNanos(families[family]?.vcpuUsdPerHour ?? "NaN") * BigInt(vcpus) +
      decimalToNanos(families[family]?.memoryGbUsdPerHour ?? "NaN") * BigInt(gb) +
      rate({ accelerator });
    expect(instance("a2", 12, 85, "nvidia-tesla-a100")).toBe(rate({ instance_type: "a2-highgpu-1g" }));
    expect(instance("g2", 4, 16, "nvidia-l4")).toBe(rate({ instance_type: "g2-standard-4" }));
  });

  it("runs the deployments the GCP inference events name, in their namespaces", () => {
    const served = new Set(
      events.flatMap((e) =>
        e.type === INFERENCE_V1 && e.data.cloud === "gcp"
          ? [`${e.data.namespace}|${e.source.split("/").at(-1)}`]
          : [],
      ),
    );
    for (const [namespace, controller] of [
      ["chat-experience", "chat-assistant"],
      ["doc-intelligence", "embedder-l4"],
    ]) {
      expect(served).toContain(`${namespace}|${controller}`);
      expect(cluster.pods.some((p) => p.namespace === namespace && p.controller === controller)).toBe(true);
    }
  });

  it("emits allocation events that parseCostEvent accepts, one per pod and an idle one per whole hour", () => {
    const rejected = allocations.flatMap((e) => {
      const parsed = parseCostEvent(e, NOW);
      return parsed.ok ? [] : [parsed.rejection];
    });
    expect(rejected).toEqual([]);
    const hours = byHour(allocations);
    expect(hours.size).toBe(HOURS);
    for (const [start, list] of hours) {
      expect(list).toHaveLength(cluster.pods.length + 1);
      const end = new Date(Date.parse(start) + HOUR_MS).toISOString();
      expect(list.every((e) => e.time === end && e.data.window.end === end)).toBe(true);
    }
  });

  it("is emitted as the allocation import reports it: its source, its ids", () => {
    expect(DEMO_ALLOCATION_SOURCE).toBe(DEFAULT_ALLOCATION_EVENT_SOURCE);
    const hour = clusterHour(cluster, FROM.getTime(), createSeededRandom("ids"));
    const window = { from: FROM, to: new Date(FROM.getTime() + HOUR_MS) };
    expect(hour.events.map((e) => e.id)).toEqual(
      hour.allocations.map((a) => allocationEventId(cluster.name, window, a)),
    );
    expect(hour.events.every((e) => e.source === DEFAULT_ALLOCATION_EVENT_SOURCE)).toBe(true);
    expect(hour.events.every((e) => e.data.cluster === "gke-prod-us-central1")).toBe(true);
  });

  it("conserves every hour: the events add up to the GPUs' list cost plus vCPU and memory, per component", () => {
    const expected = listCostOfHour();
    expect(clusterHourListCost(cluster)).toEqual({ ...expected, pv: 0n, network: 0n, other: 0n });
    for (const list of byHour(allocations).values()) {
      const sum = (name: ComponentName) => list.reduce((n, e) => n + component(e, name), 0n);
      expect({ gpu: sum("gpu"), cpu: sum("cpu"), ram: sum("ram") }).toEqual(expected);
      expect(sum("pv") + sum("network") + sum("other")).toBe(0n);
      expect(list.reduce((n, e) => n + total(e), 0n)).toBe(expected.gpu + expected.cpu + expected.ram);
    }
  });

  it("keeps idle and unallocated as their own buckets, and kube-system as platform overhead", () => {
    for (const list of byHour(allocations).values()) {
      const idle = list.filter((e) => e.data.team === "idle");
      expect(idle).toHaveLength(1);
      expect(idle[0]?.data.namespace).toBeUndefined();
      expect(component(idle[0] as AllocationCloudEvent, "gpu")).toBeGreaterThan(0n);
      const unallocated = list.filter((e) => e.data.team === "unallocated");
      expect(unallocated.map((e) => e.data.namespace)).toEqual(["scratch-notebooks"]);
      expect(total(unallocated[0] as AllocationCloudEvent)).toBeGreaterThan(0n);
      const system = list.filter((e) => e.data.namespace === "kube-system");
      expect(system.length).toBeGreaterThan(0);
      expect(system.every((e) => e.data.team === "ml-platform" && component(e, "gpu") === 0n)).toBe(true);
    }
    const chat = allocations.find((e) => podOf(e)?.startsWith("chat-assistant-"));
    expect(chat?.data).toMatchObject({
      team: "chat-experience",
      model: "chat-assistant",
      business_unit: "consumer",
      cost_center: "CC-1020",
      namespace: "chat-experience",
    });
  });

  it("charges both pods time-slicing the shared GPU, from different teams, equal halves of its used share", () => {
    const { node, index, holders } = sharedGpu();
    expect(node.accelerator).toBe("nvidia-l4");
    const pods = new Set(holders.map((p) => p.pod));
    for (const list of byHour(allocations).values()) {
      const sharing = list.filter((e) => pods.has(podOf(e) ?? ""));
      expect(sharing).toHaveLength(2);
      expect(new Set(sharing.map((e) => e.data.team)).size).toBe(2);
      const [a, b] = sharing.map((e) => component(e, "gpu")) as [bigint, bigint];
      expect(a).toBeGreaterThan(0n);
      expect(a - b <= 1n && b - a <= 1n).toBe(true);
    }
    // The events carry what the real split makes of the DCGM series of that GPU.
    const hourStart = FROM.getTime() + 15 * HOUR_MS;
    const hour = clusterHour(cluster, hourStart, createSeededRandom("shared"));
    const usage = hour.usage.find((u) => u.gpu.node === node.name && u.gpu.index === index);
    expect(usage?.series.map((s) => s.pod?.namespace).sort()).toEqual(holders.map((p) => p.namespace).sort());
    expect(usage?.series[0]?.samples).toEqual(usage?.series[1]?.samples);
    const split = splitGpuCost({
      costNanos: decimalToNanos(cluster.gpuUsdPerHour["nvidia-l4"] ?? "NaN"),
      window: { from: new Date(hourStart), to: new Date(hourStart + HOUR_MS) },
      stepSeconds: cluster.dcgmStepSeconds,
      series: usage?.series ?? [],
      strategy: "utilization",
    });
    expect(split.parts).toHaveLength(2);
    for (const part of split.parts) {
      const allocation = hour.allocations.find((a) => a.pod === part.owner.pod);
      expect(allocation?.components.gpu).toBe(part.nanos);
      expect(podKey(part.owner)).toContain(allocation?.namespace ?? "?");
    }
  });

  it("follows the inference traffic's day: chat's GPUs cost it far more at 15:00 UTC than at 03:00", () => {
    const chatGpu = (hour: number) =>
      allocations
        .filter((e) => e.data.window.start === new Date(FROM.getTime() + hour * HOUR_MS).toISOString())
        .filter((e) => podOf(e)?.startsWith("chat-assistant-"))
        .reduce((n, e) => n + component(e, "gpu"), 0n);
    expect(chatGpu(15)).toBeGreaterThan(3n * chatGpu(3));
    expect(chatGpu(39)).toBeGreaterThan(3n * chatGpu(27));
  });

  it("gives an hour the same events whatever range it is generated in; another seed changes costs, not ids", () => {
    const later = generateDemoEvents({ from: new Date(FROM.getTime() + 5 * HOUR_MS), hours: 3, seed: 42 });
    const laterAllocations = later.filter((e) => e.type === ALLOCATION_V1);
    const start = new Date(FROM.getTime() + 6 * HOUR_MS).toISOString();
    const sameHour = (list: readonly { data: unknown }[]) =>
      list.filter((e) => (e as AllocationCloudEvent).data.window.start === start);
    expect(sameHour(laterAllocations)).toEqual(sameHour(allocations));
    const otherSeed = generateDemoEvents({ from: FROM, hours: 2, seed: 43 }).filter(
      (e): e is AllocationCloudEvent => e.type === ALLOCATION_V1,
    );
    const first = allocations.slice(0, otherSeed.length);
    expect(otherSeed.map((e) => e.id)).toEqual(first.map((e) => e.id));
    expect(otherSeed.map((e) => e.data.components.gpu)).not.toEqual(first.map((e) => e.data.components.gpu));
  });

  it("collects whole UTC hours only", () => {
    const h = (n: number) => Date.parse("2026-11-02T00:00:00Z") + n * HOUR_MS;
    expect(wholeHours(h(0), h(3))).toEqual([h(0), h(1), h(2)]);
    expect(wholeHours(h(0) + 60_000, h(2) + 1)).toEqual([h(1)]);
    expect(wholeHours(h(0), h(0) + HOUR_MS / 2)).toEqual([]);
  });
});
