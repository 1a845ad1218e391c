import { describe, expect, it } from "vitest";
import type { PodRef, UsageSeries } from "#domain/gpu-split/gpu-usage.ts";
import { migSlices, splitNodeGpuCost } from "#domain/gpu-split/node-gpu-cost.ts";
import { splitFleet } from "#domain/gpu-split/split-fleet.ts";
import { GpuSplitError, type GpuSplitStrategy, splitGpuCost } from "#domain/gpu-split/split-gpu-cost.ts";
import { decimalToNanos, formatAmount } from "#domain/money.ts";

const HOUR = { from: new Date("2026-03-02T10:00:00Z"), to: new Date("2026-03-02T11:00:00Z") };
const T0 = HOUR.from.getTime() / 1000;
const V100_HOUR = decimalToNanos("3.06");

const pod = (name: string, namespace = "ml"): PodRef => ({ namespace, pod: name, container: "main" });

/** One sample per `step` seconds from `fromMinute` (inclusive) to `toMinute` (exclusive) of the hour. */
function samples(fromMinute: number, toMinute: number, utilization: number, step = 60) {
  const out = [];
  for (let t = fromMinute * 60; t < toMinute * 60; t += step) out.push({ t: T0 + t, utilization });
  return out;
}

function split(series: UsageSeries[], strategy: GpuSplitStrategy, costNanos = V100_HOUR, stepSeconds = 60) {
  const result = splitGpuCost({ costNanos, window: HOUR, stepSeconds, series, strategy });
  const total = result.parts.reduce((sum, p) => sum + p.nanos, result.idleNanos);
  expect(total).toBe(costNanos);
  return result;
}

describe("splitGpuCost: the seed's worked check (V100 at $3.06/h)", () => {
  it("95% for the whole hour by one pod: $2.907 to work, $0.153 idle", () => {
    const result = split([{ pod: pod("a"), samples: samples(0, 60, 0.95) }], "utilization");
    expect(result.parts).toMatchObject([{ owner: pod("a"), nanos: 2_907_000_000n, heldSeconds: 3600 }]);
    expect(result.idleNanos).toBe(153_000_000n);
    expect(result.notes).toEqual([]);
  });

  it("the same at dcgm-exporter's 30 s collection interval", () => {
    const result = split(
      [{ pod: pod("a"), samples: samples(0, 60, 0.95, 30) }],
      "utilization",
      V100_HOUR,
      30,
    );
    expect(result.parts[0]?.nanos).toBe(2_907_000_000n);
  });

  it("a pod that used it 45 of the minutes at 95% pays $2.18025 ($2.18 to the cent)", () => {
    const result = split(
      [
        { pod: pod("a"), samples: samples(0, 45, 0.95) },
        { pod: null, samples: samples(45, 60, 0) },
      ],
      "utilization",
    );
    expect(result.parts[0]?.nanos).toBe(2_180_250_000n);
    expect(formatAmount(result.parts[0]?.nanos ?? 0n)).toBe("2.18");
    expect(result.idleNanos).toBe(V100_HOUR - 2_180_250_000n);
    expect(result.notes).toEqual([
      "ml/a/main last sampled at 2026-03-02T10:44:00.000Z: vanished mid-window, 15 later steps not charged to it",
    ]);
  });

  it("allocation charges the held 45 minutes in full, even splits the held share among holders", () => {
    const series = [{ pod: pod("a"), samples: samples(0, 45, 0.95) }];
    expect(split(series, "allocation").parts[0]?.nanos).toBe(2_295_000_000n);
    expect(split(series, "even").parts[0]?.nanos).toBe(2_295_000_000n);
  });
});

describe("splitGpuCost: strategies with two pods", () => {
  const series: UsageSeries[] = [
    { pod: pod("a"), samples: samples(0, 30, 0.5) },
    { pod: pod("b"), samples: samples(30, 40, 1) },
  ];

  it("utilization: busy time held", () => {
    const result = split(series, "utilization", 3_600_000_000n);
    expect(result.parts.map((p) => p.nanos)).toEqual([900_000_000n, 600_000_000n]);
    expect(result.idleNanos).toBe(2_100_000_000n);
    expect(result.parts.map((p) => p.busySeconds)).toEqual([900, 600]);
  });

  it("allocation: time held", () => {
    const result = split(series, "allocation", 3_600_000_000n);
    expect(result.parts.map((p) => p.nanos)).toEqual([1_800_000_000n, 600_000_000n]);
    expect(result.idleNanos).toBe(1_200_000_000n);
  });

  it("even: the held 40 minutes split evenly", () => {
    const result = split(series, "even", 3_600_000_000n);
    expect(result.parts.map((p) => p.nanos)).toEqual([1_200_000_000n, 1_200_000_000n]);
    expect(result.idleNanos).toBe(1_200_000_000n);
  });
});

describe("splitGpuCost: awkward data, reported in notes", () => {
  it("a GPU no pod held is all idle", () => {
    const result = split([{ pod: null, samples: samples(0, 60, 0.3) }], "utilization");
    expect(result.parts).toEqual([]);
    expect(result.idleNanos).toBe(V100_HOUR);
    expect(result.notes).toEqual([
      "no pod held the GPU in the window: all of its cost is idle",
      "GPU busy (up to 30%) in 60 steps no pod held it (work outside Kubernetes, or pod labels missing): counted as idle",
    ]);
  });

  it("no series at all is all idle, and every step is a gap", () => {
    const result = split([], "allocation");
    expect(result.idleNanos).toBe(V100_HOUR);
    expect(result.notes).toContain(
      "60 of 60 steps (3600s) have no sample at all: counted as not held (idle)",
    );
  });

  it("gaps count as not held", () => {
    const result = split(
      [{ pod: pod("a"), samples: [...samples(0, 20, 1), ...samples(50, 60, 1)] }],
      "allocation",
    );
    expect(result.parts[0]?.nanos).toBe(decimalToNanos("1.53"));
    expect(result.notes).toEqual([
      "30 of 60 steps (1800s) have no sample at all: counted as not held (idle)",
      "ml/a/main has no sample in 30 steps between its first and last: not held then",
    ]);
  });

  it("a pod that appears mid-window is charged from then on", () => {
    const result = split(
      [
        { pod: null, samples: samples(0, 30, 0) },
        { pod: pod("late"), samples: samples(30, 60, 1) },
      ],
      "allocation",
    );
    expect(result.parts[0]?.nanos).toBe(decimalToNanos("1.53"));
    expect(result.notes).toEqual([
      "ml/late/main first sampled at 2026-03-02T10:30:00.000Z: appeared mid-window",
    ]);
  });

  it("clamps utilization outside 0..1 and drops NaN", () => {
    const result = split(
      [
        {
          pod: pod("a"),
          samples: [
            ...samples(0, 30, 1.7),
            ...samples(30, 59, -0.2),
            { t: T0 + 3540, utilization: Number.NaN },
          ],
        },
      ],
      "utilization",
    );
    expect(result.parts[0]?.nanos).toBe(decimalToNanos("1.53"));
    expect(result.notes).toEqual([
      "1 of 60 steps (60s) have no sample at all: counted as not held (idle)",
      "1 samples with a non-finite time or utilization dropped",
      "59 utilization values outside 0..1 clamped (lowest -0.2, highest 1.7)",
      "ml/a/main last sampled at 2026-03-02T10:58:00.000Z: vanished mid-window, 1 later steps not charged to it",
    ]);
  });

  it("averages duplicate timestamps, merges series of the same owner, ignores samples outside the window", () => {
    const result = split(
      [
        { pod: pod("a"), samples: [...samples(0, 60, 1), { t: T0 - 60, utilization: 1 }] },
        { pod: pod("a"), samples: samples(0, 60, 0) },
      ],
      "utilization",
    );
    expect(result.parts).toHaveLength(1);
    expect(result.parts[0]?.nanos).toBe(V100_HOUR / 2n);
    expect(result.notes).toEqual([
      "1 samples outside the window ignored",
      "60 duplicate timestamps (same pod, same time): values averaged",
    ]);
  });

  it("time-sliced pods share each step evenly and the step's utilization once", () => {
    const series = [
      { pod: pod("a"), samples: samples(0, 60, 0.9) },
      { pod: pod("b"), samples: samples(0, 60, 0.9) },
    ];
    const util = split(series, "utilization", 3_000_000_000n);
    expect(util.parts.map((p) => p.nanos)).toEqual([1_350_000_000n, 1_350_000_000n]);
    expect(util.idleNanos).toBe(300_000_000n);
    expect(util.notes).toEqual([
      "60 steps held by more than one pod at once (time-slicing): each such step is split evenly among them",
    ]);
    const alloc = split(series, "allocation", 3_000_000_000n);
    expect(alloc.parts.map((p) => p.nanos)).toEqual([1_500_000_000n, 1_500_000_000n]);
    expect(alloc.idleNanos).toBe(0n);
  });

  it("three co-holders and a one-nano cost still conserve", () => {
    const series = ["a", "b", "c"].map((name) => ({ pod: pod(name), samples: samples(0, 60, 1) }));
    const result = split(series, "allocation", 1n);
    expect(result.parts.map((p) => p.nanos)).toEqual([1n, 0n, 0n]);
  });

  it("a window that is not a whole number of steps has a short last step", () => {
    const window = { from: HOUR.from, to: new Date(HOUR.from.getTime() + 90_000) };
    const result = splitGpuCost({
      costNanos: 900n,
      window,
      stepSeconds: 60,
      series: [{ pod: pod("a"), samples: [{ t: T0 + 60, utilization: 1 }] }],
      strategy: "allocation",
    });
    expect(result.parts[0]?.nanos).toBe(300n);
    expect(result.idleNanos).toBe(600n);
  });

  it("rejects a bad window, step or strategy with GpuSplitError", () => {
    const bad = (over: Partial<Parameters<typeof splitGpuCost>[0]>) => () =>
      splitGpuCost({ costNanos: 1n, window: HOUR, stepSeconds: 60, series: [], strategy: "even", ...over });
    expect(bad({ window: { from: HOUR.to, to: HOUR.from } })).toThrow(GpuSplitError);
    expect(bad({ stepSeconds: 0 })).toThrow(/stepSeconds/);
    expect(bad({ stepSeconds: 0.0001 })).toThrow(/whole number of milliseconds/);
    expect(bad({ strategy: "random" as GpuSplitStrategy })).toThrow(/strategy/);
    try {
      bad({ stepSeconds: -1 })();
    } catch (error) {
      expect(error).toMatchObject({ code: "invalid", name: "GpuSplitError" });
    }
  });
});

describe("splitFleet", () => {
  it("adds parts up per owner across GPUs and conserves the fleet's cost", () => {
    const gpu = (uuid: string, index: number) => ({
      uuid,
      index,
      node: "gke-a100-pool-1",
      modelName: "NVIDIA A100-SXM4-40GB",
    });
    const fleet = splitFleet(
      [
        { gpu: gpu("GPU-1", 0), series: [{ pod: pod("a"), samples: samples(0, 60, 1) }] },
        {
          gpu: gpu("GPU-2", 1),
          series: [
            { pod: pod("a"), samples: samples(0, 30, 1) },
            { pod: pod("b"), samples: samples(30, 60, 0.5) },
          ],
        },
        { gpu: gpu("GPU-3", 2), series: [] },
      ],
      () => V100_HOUR,
      "utilization",
      { window: HOUR, stepSeconds: 60 },
    );
    expect(fleet.totalNanos).toBe(3n * V100_HOUR);
    expect(fleet.owners).toEqual([
      { owner: pod("a"), nanos: V100_HOUR + V100_HOUR / 2n, gpus: 2 },
      { owner: pod("b"), nanos: V100_HOUR / 4n, gpus: 1 },
    ]);
    expect(fleet.owners.reduce((s, o) => s + o.nanos, fleet.idleNanos)).toBe(fleet.totalNanos);
    expect(fleet.notes).toContain(
      "gke-a100-pool-1 gpu 2 (GPU-3): no pod held the GPU in the window: all of its cost is idle",
    );
  });
});

describe("splitGpuCost: utilization versus allocation", () => {
  it("can charge one nano more by utilization than by allocation: largest-remainder rounding, not usage", () => {
    // p1 runs flat out for one step of four, p0 holds another step idle; 6 nanos to hand out.
    const window = { from: HOUR.from, to: new Date(HOUR.from.getTime() + 240_000) };
    const series = [
      { pod: pod("p0"), samples: [{ t: T0 + 60, utilization: 0 }] },
      { pod: pod("p1"), samples: [{ t: T0, utilization: 1 }] },
    ];
    const run = (strategy: GpuSplitStrategy) =>
      splitGpuCost({ costNanos: 6n, window, stepSeconds: 60, series, strategy }).parts.map((p) => p.nanos);
    expect(run("utilization")).toEqual([0n, 2n]);
    expect(run("allocation")).toEqual([2n, 1n]);
  });
});

describe("splitNodeGpuCost", () => {
  const gpu = (uuid: string, mig?: [string, string]) => ({
    uuid,
    index: 0,
    node: "n",
    modelName: "NVIDIA A100-SXM4-40GB",
    ...(mig ? { migProfile: mig[0], migInstanceId: mig[1] } : {}),
  });

  it("splits evenly per physical GPU and by compute slices within a MIG-partitioned one", () => {
    const costs = splitNodeGpuCost(10_000_000_001n, [
      gpu("GPU-a"),
      gpu("GPU-b", ["3g.20gb", "1"]),
      gpu("GPU-b", ["1g.5gb", "9"]),
      gpu("GPU-b", ["1g.5gb", "10"]),
      gpu("GPU-a"),
    ]);
    expect(Object.fromEntries(costs)).toEqual({
      "GPU-a": 5_000_000_001n,
      "GPU-b/1": 3_000_000_000n,
      "GPU-b/10": 1_000_000_000n,
      "GPU-b/9": 1_000_000_000n,
    });
    expect(migSlices("7g.80gb")).toBe(7);
    expect(migSlices("custom")).toBe(1);
  });
});
