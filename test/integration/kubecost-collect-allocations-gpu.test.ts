import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createKubecostAllocationSource } from "#adapters/kubecost/kubecost-allocation-source.ts";
import { createMemoryBus, type MemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import { createPrometheusMetricsSource } from "#adapters/prometheus/prometheus-metrics-source.ts";
import {
  type CollectAllocations,
  type CollectSummary,
  collectAllocationsFromRuntime,
  createCollectAllocations,
} from "#app/collect-allocations.ts";
import type { AllocationCloudEvent } from "#domain/allocation/allocation-events.ts";
import { allocationSettingsSchema } from "#domain/allocation/allocation-settings.ts";
import type { IdlePolicy } from "#domain/allocation/idle-policy.ts";
import { decimalToNanos } from "#domain/money.ts";
import { type DeliveredMessage, TOPICS } from "#ports/bus.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import { composeRuntime } from "#runtime/compose.ts";
import { readEnv } from "#runtime/env.ts";
import { fixtureLabels } from "../fixtures/dcgm/exposition.ts";
import {
  type FakePrometheus,
  type FakeSeries,
  startFakePrometheus,
} from "../fixtures/dcgm/fake-prometheus.ts";
import { createMemoryWarehouse } from "../support/memory-warehouse.ts";

/** Twenty minutes past the constructed fixtures' hour: the default window is that hour. */
const NOW = new Date("2026-11-15T11:20:00Z");
const T0 = Date.parse("2026-11-15T10:00:00Z") / 1000;
const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/opencost/${name}`, import.meta.url), "utf8");
/** Kubecost's answer with idleByNode=true&splitIdle=true: one `<node>/__idle__` per node. */
const IDLE_BY_NODE = fixture("allocation-namespace-pod-idle-by-node.CONSTRUCTED.json");
/** OpenCost's answer: one `__idle__` for the cluster, GPU idle included. */
const CLUSTER_IDLE = fixture("allocation-namespace-pod-idle.CONSTRUCTED.json");

const L4_NODE = "gke-prod-l4-pool-1a2b";
const A100_NODE = "gke-prod-a100-pool-7c6d";
/** Both fixtures total 6.60505 USD, 5.07538 of it GPU (0.695 llm-7b-0, 3.67288 trainer-0, 0.7075 idle). */
const FETCHED = decimalToNanos("6.60505");
const GPU_TOTAL = decimalToNanos("5.07538");

// dcgm-exporter label sets: the fixture's A10G line (DataDog capture), moved onto our nodes.
const A10G = fixtureLabels("DCGM_FI_PROF_DRAM_ACTIVE", "GPU-abc");
function dcgmLabels(
  node: string,
  index: number,
  modelName: string,
  pod?: { namespace: string; pod: string; container: string },
): Record<string, string> {
  const { namespace: _n, pod: _p, container: _c, ...gpuOnly } = A10G;
  return {
    ...gpuOnly,
    gpu: String(index),
    UUID: `GPU-${node}-${index}`,
    device: `nvidia${index}`,
    modelName,
    DCGM_FI_DEV_NAME: modelName,
    Hostname: node,
    ...pod,
  };
}

const minuteOf = (t: number) => (t - T0) / 60;
const DCGM: FakeSeries[] = [
  // L4 GPU 0: ml-serving/llm-7b-0 holds it all hour, 80% busy.
  {
    name: "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
    labels: dcgmLabels(L4_NODE, 0, "NVIDIA L4", {
      namespace: "ml-serving",
      pod: "llm-7b-0",
      container: "llm",
    }),
    value: () => "0.8",
  },
  // L4 GPU 1: nobody holds it (no pod labels), idle.
  { name: "DCGM_FI_PROF_GR_ENGINE_ACTIVE", labels: dcgmLabels(L4_NODE, 1, "NVIDIA L4"), value: () => "0" },
  // A100: research/trainer-0 holds it for the first half hour at 50%, then nobody.
  {
    name: "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
    labels: dcgmLabels(A100_NODE, 0, "NVIDIA A100-SXM4-40GB", {
      namespace: "research",
      pod: "trainer-0",
      container: "trainer",
    }),
    value: (t) => (minuteOf(t) < 30 ? "0.5" : undefined),
  },
  {
    name: "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
    labels: dcgmLabels(A100_NODE, 0, "NVIDIA A100-SXM4-40GB"),
    value: (t) => (minuteOf(t) >= 30 ? "0" : undefined),
  },
  {
    name: "DCGM_FI_DEV_FB_USED",
    labels: dcgmLabels(L4_NODE, 0, "NVIDIA L4", {
      namespace: "ml-serving",
      pod: "llm-7b-0",
      container: "llm",
    }),
    value: () => "15360",
  },
];

let allocationBody = IDLE_BY_NODE;
let allocationServer: Server;
let allocationUrl: string;
const allocationRequests: URL[] = [];
let prometheus: FakePrometheus;

beforeAll(async () => {
  allocationServer = createServer((req, res) => {
    allocationRequests.push(new URL(req.url ?? "/", "http://127.0.0.1"));
    res.writeHead(200, { "content-type": "application/json" }).end(allocationBody);
  });
  await new Promise<void>((resolve) => allocationServer.listen(0, "127.0.0.1", resolve));
  allocationUrl = `http://127.0.0.1:${(allocationServer.address() as AddressInfo).port}`;
  prometheus = await startFakePrometheus(DCGM);
});

afterAll(async () => {
  allocationServer.closeAllConnections();
  await new Promise<void>((resolve) => allocationServer.close(() => resolve()));
  await prometheus.close();
});

let bus: MemoryBus | undefined;
afterEach(async () => {
  await bus?.close();
  bus = undefined;
  allocationBody = IDLE_BY_NODE;
});

const KEEP: IdlePolicy = {
  idle: "keep",
  sharedNamespaces: ["kube-system", "monitoring"],
  sharedPolicy: "keep",
};

async function listen(target: MemoryBus) {
  const published: DeliveredMessage[] = [];
  await target.subscribe(TOPICS.events, "collect-allocations-gpu-test", async (m) => {
    published.push(m);
  });
  return async (collector: CollectAllocations) => {
    const summary = await collector.collect();
    await target.drain();
    const events = published.flatMap((m) => JSON.parse(m.data.toString("utf8")) as AllocationCloudEvent[]);
    return { summary, events };
  };
}

function setup(flavor: "kubecost" | "opencost", policy: IdlePolicy = KEEP) {
  bus = createMemoryBus({ logger: silentLogger });
  const collector = createCollectAllocations({
    source: createKubecostAllocationSource({
      baseUrl: allocationUrl,
      flavor,
      cluster: "prod-gke-1",
      idleByNode: true,
    }),
    bus,
    clock: fixedClock(NOW),
    policy,
    cluster: "prod-gke-1",
    logger: silentLogger,
    gpuUtilization: {
      metrics: createPrometheusMetricsSource({ baseUrl: prometheus.url, timeoutMs: 5_000 }),
      strategy: "utilization",
      stepSeconds: 30,
    },
  });
  return { collector, bus };
}

const gpuOf = (events: readonly AllocationCloudEvent[]) =>
  Object.fromEntries(
    events.map((e) => [
      e.data.labels?.pod ?? `${e.data.labels?.node ?? ""}/${e.data.labels?.special}`,
      e.data.components.gpu,
    ]),
  );
const sum = (events: readonly AllocationCloudEvent[], component?: "gpu") =>
  events.reduce(
    (total, e) =>
      total +
      (component
        ? BigInt(e.data.components[component])
        : Object.values(e.data.components).reduce((s, v) => s + BigInt(v), 0n)),
    0n,
  );

/** L4: (0.695 + 0.7075) over two GPUs = 0.70125 each; llm-7b-0 used its GPU 80% of the hour. */
const LLM = decimalToNanos("0.561");
const L4_IDLE = decimalToNanos("1.4025") - LLM;
/** A100: 3.67288, trainer-0 held it half the hour at 50%. */
const TRAINER = decimalToNanos("0.91822");
const A100_IDLE = decimalToNanos("3.67288") - TRAINER;

describe("collectAllocations with GPU cost split by DCGM utilization", () => {
  it("asks for idle by node and the window's DCGM usage, and publishes measured GPU cost", async () => {
    const { collector, bus: target } = setup("kubecost");
    const run = await listen(target);
    const { summary, events } = await run(collector);

    const asked = allocationRequests.at(-1);
    expect(asked?.pathname).toBe("/model/allocation");
    expect(Object.fromEntries(asked?.searchParams ?? [])).toMatchObject({
      window: "2026-11-15T10:00:00Z,2026-11-15T11:00:00Z",
      idle: "true",
      idleByNode: "true",
      splitIdle: "true",
    });
    const queries = prometheus.requests.map((r) => Object.fromEntries(r.params));
    expect(queries).toContainEqual(
      expect.objectContaining({
        query: "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
        start: String(T0),
        end: String(T0 + 3570),
        step: "30",
      }),
    );

    expect(events).toHaveLength(9);
    expect(gpuOf(events)).toEqual({
      "llm-7b-0": LLM.toString(),
      "trainer-0": TRAINER.toString(),
      "embedder-5d8f7c9b6-x2kq": "0",
      "coredns-6d4b75cb6d-abcde": "0",
      "debug-shell": "0",
      __unmounted__: "0",
      [`${L4_NODE}/idle`]: L4_IDLE.toString(),
      [`${A100_NODE}/idle`]: A100_IDLE.toString(),
      "gke-prod-cpu-pool-9z8y/idle": "0",
    });
    // Only GPU moved: the total and each event's other components are what was fetched.
    expect(sum(events)).toBe(FETCHED);
    expect(sum(events, "gpu")).toBe(GPU_TOTAL);
    const llm = events.find((e) => e.data.labels?.pod === "llm-7b-0");
    expect(llm?.data).toMatchObject({
      team: "search",
      components: { cpu: "126880000", ram: "55120000", network: "2130000" },
    });
    const l4Idle = events.find((e) => e.data.labels?.node === L4_NODE && e.data.team === "idle");
    expect(l4Idle?.data.components).toMatchObject({ cpu: "100000000", ram: "60000000" });

    expect(summary).toMatchObject({
      fetchedNanos: FETCHED,
      totalNanos: FETCHED,
      components: { gpu: GPU_TOTAL },
      gpu: {
        strategy: "utilization",
        pooledNanos: GPU_TOTAL,
        attributedNanos: LLM + TRAINER,
        idleNanos: L4_IDLE + A100_IDLE,
        measuredNodes: 2,
        keptNodes: 0,
      },
    });
    expect(summary.gpu?.notes).toEqual([
      `${A100_NODE} gpu 0 (GPU-${A100_NODE}-0): research/trainer-0/trainer last sampled at ` +
        "2026-11-15T10:29:30.000Z: vanished mid-window, 60 later steps not charged to it",
      `${L4_NODE} gpu 1 (GPU-${L4_NODE}-1): no pod held the GPU in the window: all of its cost is idle`,
    ]);
    // Idle kept as its own bucket: what DCGM found unused is on the idle owner.
    expect(summary.idleNanos).toBe(
      decimalToNanos("1.21017") - decimalToNanos("0.7075") + L4_IDLE + A100_IDLE,
    );
  });

  it("shares the measured GPU idle by the policy afterwards, conserving the total", async () => {
    const { collector, bus: target } = setup("kubecost", {
      idle: "share-by-cost",
      sharedNamespaces: ["kube-system", "monitoring"],
      sharedPolicy: "keep",
    });
    const run = await listen(target);
    const { summary, events } = await run(collector);
    expect(events.some((e) => e.data.team === "idle")).toBe(false);
    expect(sum(events)).toBe(FETCHED);
    expect(sum(events, "gpu")).toBe(GPU_TOTAL);
    // GPU idle goes to GPU users in proportion to their measured GPU cost.
    const gpu = gpuOf(events);
    expect(BigInt(gpu["llm-7b-0"] ?? "0") + BigInt(gpu["trainer-0"] ?? "0")).toBe(GPU_TOTAL);
    expect(summary.gpu).toMatchObject({ pooledNanos: GPU_TOTAL, attributedNanos: LLM + TRAINER });
  });

  it("keeps the source's GPU figures when idle is not split by node (OpenCost's single __idle__)", async () => {
    allocationBody = CLUSTER_IDLE;
    const { collector, bus: target } = setup("opencost");
    const run = await listen(target);
    const { summary, events } = await run(collector);
    expect(allocationRequests.at(-1)?.searchParams.get("includeIdle")).toBe("true");
    expect(gpuOf(events)).toMatchObject({
      "llm-7b-0": "695000000",
      "trainer-0": "3672880000",
      "/idle": "707500000",
    });
    expect(sum(events)).toBe(FETCHED);
    expect(summary.gpu).toMatchObject({
      pooledNanos: 0n,
      attributedNanos: 0n,
      idleNanos: 0n,
      measuredNodes: 0,
    });
    expect(summary.gpu?.notes[0]).toMatch(/^idle GPU cost of 0\.7075 is not split by node/);
  });

  it("reads the allocations section's gpuUtilization and refuses it without a metrics source", async () => {
    const settings = allocationSettingsSchema.parse({
      flavor: "kubecost",
      baseUrl: allocationUrl,
      cluster: "prod-gke-1",
      gpuUtilization: { prometheusUrl: prometheus.url, strategy: "allocation" },
    });
    expect(settings.gpuUtilization).toEqual({
      prometheusUrl: prometheus.url,
      strategy: "allocation",
      stepSeconds: 30,
    });
    bus = createMemoryBus({ logger: silentLogger });
    const parts = { bus, clock: fixedClock(NOW), logger: silentLogger };
    const source = createKubecostAllocationSource({
      baseUrl: allocationUrl,
      flavor: "kubecost",
      idleByNode: true,
    });
    expect(() => collectAllocationsFromRuntime(parts, settings, source)).toThrow(/gpuUtilization/);
    const metrics = createPrometheusMetricsSource({ baseUrl: prometheus.url, timeoutMs: 5_000 });
    const run = await listen(bus);
    const { summary, events } = await run(collectAllocationsFromRuntime(parts, settings, source, metrics));
    // allocation: a pod pays for the time it held the GPU, busy or not.
    expect(gpuOf(events)).toMatchObject({
      "llm-7b-0": decimalToNanos("0.70125").toString(),
      "trainer-0": decimalToNanos("1.83644").toString(),
    });
    expect(summary.gpu).toMatchObject({ strategy: "allocation", pooledNanos: GPU_TOTAL });
  });
});

describe("composeRuntime wires gpuUtilization into collectAllocations", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "finops-gpu-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("builds the Prometheus metrics source and asks the allocation API for idle by node", async () => {
    const configPath = join(dir, "finops.config.json");
    writeFileSync(
      configPath,
      JSON.stringify({
        version: 1,
        allocations: {
          flavor: "kubecost",
          baseUrl: allocationUrl,
          cluster: "prod-gke-1",
          timeoutMs: 5_000,
          gpuUtilization: { prometheusUrl: prometheus.url, matchers: 'DCGM_FI_DRIVER_VERSION="550.144.03"' },
        },
      }),
    );
    bus = createMemoryBus({ logger: silentLogger });
    const run = await listen(bus);
    const before = prometheus.requests.length;
    const runtime = await composeRuntime({
      env: readEnv({ FINOPS_CONFIG: configPath, FINOPS_LOG_LEVEL: "error" }),
      clock: fixedClock(NOW),
      logger: silentLogger,
      warehouse: createMemoryWarehouse(),
      bus,
    });
    try {
      expect(runtime.collectAllocations).toBeDefined();
      const { summary, events } = await run(runtime.collectAllocations as CollectAllocations);
      expect(allocationRequests.at(-1)?.searchParams.get("splitIdle")).toBe("true");
      expect(prometheus.requests.slice(before).map((r) => r.params.get("query"))).toContain(
        'DCGM_FI_PROF_GR_ENGINE_ACTIVE{DCGM_FI_DRIVER_VERSION="550.144.03"}',
      );
      expect(gpuOf(events)["llm-7b-0"]).toBe(LLM.toString());
      expect((summary as CollectSummary).gpu).toMatchObject({
        strategy: "utilization",
        pooledNanos: GPU_TOTAL,
      });
    } finally {
      await runtime.close();
      bus = undefined;
    }
  });
});
