import { describe, expect, it } from "vitest";
import type { GpuUsage } from "#domain/gpu-split/gpu-usage.ts";
import { gpuSpec, gpuSpecOfDcgmModel } from "#domain/scorecard/gpu-specs.ts";
import { utilizationByModel } from "#domain/scorecard/utilization.ts";

const samples = (utilizations: number[], fbUsedMiB?: number) =>
  utilizations.map((utilization, i) => ({
    t: 1_700_000_000 + i * 60,
    utilization,
    ...(fbUsedMiB === undefined ? {} : { fbUsedMiB: fbUsedMiB + i }),
  }));

function gpu(uuid: string, modelName: string, series: GpuUsage["series"], migProfile?: string): GpuUsage {
  return {
    gpu: {
      uuid,
      index: 0,
      node: "node-1",
      modelName,
      ...(migProfile ? { migProfile, migInstanceId: "1" } : {}),
    },
    series,
  };
}

const pod = (namespace: string, name: string) => ({ namespace, pod: name, container: "server" });

describe("GPU specs", () => {
  it("know the catalog's GPUs by name and DCGM's model names, the 80 GB A100 apart from the 40 GB", () => {
    expect(gpuSpec("NVIDIA-L4")?.memoryMiB).toBe(24 * 1024);
    expect(gpuSpec("nvidia-unknown")).toBeUndefined();
    expect(gpuSpecOfDcgmModel("NVIDIA A100-SXM4-80GB")?.name).toBe("nvidia-a100-80gb");
    expect(gpuSpecOfDcgmModel("NVIDIA A100-SXM4-40GB")?.name).toBe("nvidia-tesla-a100");
    expect(gpuSpecOfDcgmModel("Tesla T4")?.name).toBe("nvidia-tesla-t4");
    expect(gpuSpecOfDcgmModel("NVIDIA L40S")).toBeUndefined();
  });
});

describe("utilization by model from DCGM samples", () => {
  it("gives a pod's samples to the one model of its namespace, or to the model its name starts with", () => {
    // Prepare: namespace "search" runs only ranker; "shared" runs two models, told apart by pod name.
    const usage = [
      gpu("GPU-a", "NVIDIA A100-SXM4-40GB", [
        { pod: pod("search", "ranker-7d9f-abc"), samples: samples([0.1, 0.2, 0.3, 0.4, 0.9], 5000) },
        { pod: null, samples: samples([0, 0]) },
      ]),
      gpu("GPU-b", "Tesla V100-SXM2-16GB", [
        { pod: pod("shared", "embedder-5c-xyz"), samples: samples([0.5]) },
        { pod: pod("shared", "notebook-0"), samples: samples([0.7]) },
      ]),
      gpu(
        "GPU-c",
        "NVIDIA A100-SXM4-40GB",
        [{ pod: pod("search", "ranker-1"), samples: samples([1]) }],
        "1g.5gb",
      ),
    ];
    const namespaces = new Map([
      ["search", new Set(["ranker"])],
      ["shared", new Set(["embedder", "tagger"])],
    ]);

    // Act
    const { byModel, unattributed } = utilizationByModel(usage, namespaces, ["ranker", "embedder", "tagger"]);

    // Assess: p95 by nearest rank of five samples is the largest; the MIG slice and the idle series are left out.
    expect(byModel.get("ranker")?.get("nvidia-tesla-a100")).toEqual({
      gpu: "nvidia-tesla-a100",
      p95: 0.9,
      peakMemoryMiB: 5004,
      samples: 5,
    });
    expect(byModel.get("embedder")?.get("nvidia-tesla-v100")).toMatchObject({
      p95: 0.5,
      peakMemoryMiB: null,
    });
    expect(byModel.has("tagger")).toBe(false);
    expect(unattributed).toEqual({ pods: 1, reasons: ["pods in namespace shared match no single model"] });
  });
});
