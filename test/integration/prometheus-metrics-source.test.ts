import { afterEach, describe, expect, it } from "vitest";
import {
  createPrometheusMetricsSource,
  type PrometheusMetricsSourceOptions,
} from "#adapters/prometheus/prometheus-metrics-source.ts";
import { splitFleet } from "#domain/gpu-split/split-fleet.ts";
import { decimalToNanos } from "#domain/money.ts";
import { MetricsSourceError } from "#ports/metrics-source.ts";
import {
  asScrapedWithoutHonorLabels,
  fixtureLabels,
  readDcgmFixture,
  withLowercaseHostname,
  withOldNamespace,
} from "../fixtures/dcgm/exposition.ts";
import {
  type FakePrometheus,
  type FakeSeries,
  startFakePrometheus,
} from "../fixtures/dcgm/fake-prometheus.ts";

// Label sets verbatim from the dcgm-exporter fixture (DataDog/integrations-core capture):
// a Tesla T4 without Kubernetes labels, and an A10G held by ray-llm/ray-1111111/ray-worker.
const T4_UUID = "GPU-20c56d28-0da5-6d26-a36a-e7af1ce2586e";
const A10G_UUID = "GPU-abc";
const T4 = fixtureLabels("DCGM_FI_DEV_GPU_UTIL", T4_UUID);
const A10G = fixtureLabels("DCGM_FI_PROF_DRAM_ACTIVE", A10G_UUID);
const RAY = { namespace: "ray-llm", pod: "ray-1111111", container: "ray-worker" };

const FROM = new Date("2026-03-02T10:00:00Z");
const TO = new Date("2026-03-02T11:00:00Z");
const T0 = FROM.getTime() / 1000;
const WINDOW = { from: FROM, to: TO };

const at =
  (value: (minute: number) => string | undefined) =>
  (t: number): string | undefined =>
    value((t - T0) / 60);

let prometheus: FakePrometheus | undefined;
afterEach(async () => {
  await prometheus?.close();
  prometheus = undefined;
});

async function sourceOver(series: FakeSeries[], over: Partial<PrometheusMetricsSourceOptions> = {}) {
  prometheus = await startFakePrometheus(series);
  return createPrometheusMetricsSource({ baseUrl: prometheus.url, timeoutMs: 2_000, ...over });
}

describe("the fixture", () => {
  it("parses every exposition line and keeps label values verbatim", () => {
    const lines = readDcgmFixture();
    expect(lines).toHaveLength(16);
    expect(A10G).toMatchObject({
      gpu: "0",
      UUID: A10G_UUID,
      modelName: "NVIDIA A10G",
      Hostname: "ip-11111",
      ...RAY,
    });
    expect(T4.DCGM_FI_PROCESS_NAME).toBe("/usr/bin/dcgm-exporter");
  });
});

describe("createPrometheusMetricsSource over fixture label sets", () => {
  it("asks query_range for the three DCGM metrics, form-encoded, on the window's step grid", async () => {
    const source = await sourceOver([]);
    await source.gpuUsage(WINDOW, 60);
    const requests = prometheus?.requests ?? [];
    expect(requests.map((r) => r.params.get("query")).sort()).toEqual([
      "DCGM_FI_DEV_FB_USED",
      "DCGM_FI_DEV_GPU_UTIL",
      "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
    ]);
    for (const r of requests) {
      expect(r).toMatchObject({ method: "POST", path: "/api/v1/query_range" });
      expect(r.contentType).toBe("application/x-www-form-urlencoded");
      expect(Object.fromEntries(r.params)).toMatchObject({
        start: String(T0),
        end: String(T0 + 3540),
        step: "60",
      });
    }
  });

  it("reads GPUs, pods, utilization and frame buffer; prefers GR_ENGINE_ACTIVE over GPU_UTIL", async () => {
    const source = await sourceOver([
      { name: "DCGM_FI_DEV_GPU_UTIL", labels: T4, value: at((m) => (m < 30 ? "40" : "0")) },
      { name: "DCGM_FI_DEV_FB_USED", labels: T4, value: at(() => "1024") },
      {
        name: "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
        labels: A10G,
        value: at((m) => (m < 45 ? "0.95" : undefined)),
      },
      { name: "DCGM_FI_DEV_GPU_UTIL", labels: A10G, value: at(() => "12") },
      { name: "DCGM_FI_DEV_FB_USED", labels: A10G, value: at(() => "20480") },
    ]);
    const usage = await source.gpuUsage(WINDOW, 60);
    expect(usage.map((u) => u.gpu)).toEqual([
      { uuid: T4_UUID, index: 0, node: "424773df46e0", modelName: "Tesla T4" },
      { uuid: A10G_UUID, index: 0, node: "ip-11111", modelName: "NVIDIA A10G" },
    ]);
    const [t4, a10g] = usage;
    expect(t4?.series).toHaveLength(1);
    expect(t4?.series[0]?.pod).toBeNull();
    expect(t4?.series[0]?.samples[0]).toEqual({ t: T0, utilization: 0.4, fbUsedMiB: 1024 });
    expect(t4?.series[0]?.samples).toHaveLength(60);
    expect(a10g?.series.map((s) => s.pod)).toEqual([RAY]);
    const samples = a10g?.series[0]?.samples ?? [];
    expect(samples).toHaveLength(60);
    expect(samples[0]).toEqual({ t: T0, utilization: 0.95, fbUsedMiB: 20480 });
    // GR_ENGINE_ACTIVE stops at minute 45: GPU_UTIL (percent) stands in from there.
    expect(samples[45]).toEqual({ t: T0 + 2700, utilization: 0.12, fbUsedMiB: 20480 });
  });

  it("drops NaN, infinities and DCGM's sentinel values", async () => {
    const values = ["NaN", "9223372036854775794", "+Inf", "0.5"];
    const source = await sourceOver([
      {
        name: "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
        labels: A10G,
        value: at((m) => (m < 4 ? values[m] : undefined)),
      },
      {
        name: "DCGM_FI_DEV_FB_USED",
        labels: A10G,
        value: at((m) => (m === 3 ? "9223372036854775794" : undefined)),
      },
    ]);
    const [a10g] = await source.gpuUsage(WINDOW, 60);
    expect(a10g?.series[0]?.samples).toEqual([{ t: T0 + 180, utilization: 0.5 }]);
  });

  it("leaves out a GPU none of whose samples can be read: not measured, rather than measured idle", async () => {
    const source = await sourceOver([
      { name: "DCGM_FI_PROF_GR_ENGINE_ACTIVE", labels: A10G, value: at(() => "NaN") },
      { name: "DCGM_FI_DEV_GPU_UTIL", labels: T4, value: at(() => "12") },
    ]);

    const usage = await source.gpuUsage(WINDOW, 60);

    expect(usage.map((g) => g.gpu.uuid)).toEqual([T4_UUID]);
  });

  it("reads exported_* pod labels when a ServiceMonitor scraped without honorLabels", async () => {
    const target = {
      namespace: "gpu-operator",
      pod: "nvidia-dcgm-exporter-7xk2p",
      container: "nvidia-dcgm-exporter",
      service: "nvidia-dcgm-exporter",
      endpoint: "gpu-metrics",
      job: "nvidia-dcgm-exporter",
      instance: "10.0.3.7:9400",
    };
    const held = asScrapedWithoutHonorLabels(A10G, target);
    const unheld = asScrapedWithoutHonorLabels(T4, target);
    expect(held).toMatchObject({ exported_pod: "ray-1111111", pod: "nvidia-dcgm-exporter-7xk2p" });
    expect(unheld.exported_pod).toBeUndefined();
    const source = await sourceOver([
      { name: "DCGM_FI_PROF_GR_ENGINE_ACTIVE", labels: held, value: at(() => "0.5") },
      { name: "DCGM_FI_DEV_GPU_UTIL", labels: unheld, value: at(() => "10") },
    ]);
    const usage = await source.gpuUsage(WINDOW, 60);
    expect(usage.map((u) => [u.gpu.uuid, u.series.map((s) => s.pod)])).toEqual([
      [T4_UUID, [null]],
      [A10G_UUID, [RAY]],
    ]);
  });

  it("reads --use-old-namespace labels (uuid, pod_name, ...) and the lowercase hostname label", async () => {
    const source = await sourceOver([
      {
        name: "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
        labels: withLowercaseHostname(withOldNamespace(A10G)),
        value: at(() => "1"),
      },
    ]);
    const [a10g] = await source.gpuUsage(WINDOW, 60);
    expect(a10g?.gpu).toEqual({ uuid: A10G_UUID, index: 0, node: "ip-11111", modelName: "NVIDIA A10G" });
    expect(a10g?.series[0]?.pod).toEqual(RAY);
  });

  it("treats empty pod labels as no pod, and keys MIG instances apart without using GPU_UTIL", async () => {
    const mig = (id: string) => ({ ...A10G, GPU_I_PROFILE: "1g.6gb", GPU_I_ID: id });
    const source = await sourceOver([
      {
        name: "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
        labels: { ...A10G, pod: "", namespace: "", container: "" },
        value: at(() => "0.2"),
      },
      {
        name: "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
        labels: { ...mig("1"), UUID: "GPU-mig" },
        value: at(() => "0.3"),
      },
      {
        name: "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
        labels: { ...mig("2"), UUID: "GPU-mig" },
        value: at((m) => (m < 1 ? "0.4" : undefined)),
      },
      { name: "DCGM_FI_DEV_GPU_UTIL", labels: { ...mig("2"), UUID: "GPU-mig" }, value: at(() => "99") },
    ]);
    const usage = await source.gpuUsage(WINDOW, 60);
    expect(
      usage.map((u) => [u.gpu.uuid, u.gpu.migInstanceId, u.series.map((s) => s.samples.length)]),
    ).toEqual([
      [A10G_UUID, undefined, [60]],
      ["GPU-mig", "1", [60]],
      ["GPU-mig", "2", [1]],
    ]);
    expect(usage[0]?.series[0]?.pod).toBeNull();
    expect(usage[2]?.gpu.migProfile).toBe("1g.6gb");
  });

  it("adds the configured matchers to every query", async () => {
    const source = await sourceOver(
      [
        { name: "DCGM_FI_PROF_GR_ENGINE_ACTIVE", labels: A10G, value: at(() => "1") },
        {
          name: "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
          labels: { ...A10G, UUID: "GPU-other", Hostname: "ip-22222" },
          value: at(() => "1"),
        },
      ],
      { matchers: 'Hostname="ip-11111"' },
    );
    const usage = await source.gpuUsage(WINDOW, 60);
    expect(usage.map((u) => u.gpu.uuid)).toEqual([A10G_UUID]);
    expect(prometheus?.requests.map((r) => r.params.get("query"))).toContain(
      'DCGM_FI_PROF_GR_ENGINE_ACTIVE{Hostname="ip-11111"}',
    );
  });

  it("splits a long, fine-grained window into queries under Prometheus' 11,000 points", async () => {
    const source = await sourceOver([
      { name: "DCGM_FI_PROF_GR_ENGINE_ACTIVE", labels: A10G, value: () => "0.5" },
    ]);
    const window = { from: FROM, to: new Date(FROM.getTime() + 6 * 3600_000) };
    const [a10g] = await source.gpuUsage(window, 1);
    const samples = a10g?.series[0]?.samples ?? [];
    expect(samples).toHaveLength(21_600);
    expect(samples.at(-1)?.t).toBe(T0 + 21_599);
    expect(
      prometheus?.requests.filter((r) => r.params.get("query") === "DCGM_FI_PROF_GR_ENGINE_ACTIVE"),
    ).toHaveLength(2);
  });

  it("feeds the GPU split: the A10G's hour is charged to the ray worker, the T4's is idle", async () => {
    const source = await sourceOver([
      {
        name: "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
        labels: A10G,
        value: at((m) => (m < 45 ? "0.95" : undefined)),
      },
      { name: "DCGM_FI_DEV_GPU_UTIL", labels: T4, value: at(() => "0") },
    ]);
    const usage = await source.gpuUsage(WINDOW, 60);
    const fleet = splitFleet(usage, () => decimalToNanos("3.06"), "utilization", {
      window: WINDOW,
      stepSeconds: 60,
    });
    expect(fleet.owners).toEqual([{ owner: RAY, nanos: 2_180_250_000n, gpus: 1 }]);
    expect(fleet.idleNanos).toBe(2n * 3_060_000_000n - 2_180_250_000n);
  });
});

describe("createPrometheusMetricsSource errors", () => {
  const failing = async (...answers: { status: number; body: string; delayMs?: number }[]) => {
    const source = await sourceOver([], { timeoutMs: 300 });
    prometheus?.script(...answers, ...answers, ...answers);
    return source.gpuUsage(WINDOW, 60).then(
      () => {
        throw new Error("expected a MetricsSourceError");
      },
      (error: unknown) => error,
    );
  };

  it("maps Prometheus' bad_data to an `invalid` error that keeps errorType and status", async () => {
    const error = await failing({
      status: 400,
      body: JSON.stringify({
        status: "error",
        errorType: "bad_data",
        error: 'invalid parameter "query": parse error',
      }),
    });
    expect(error).toBeInstanceOf(MetricsSourceError);
    expect(error).toMatchObject({ code: "invalid", errorType: "bad_data", status: 400, retryable: false });
    expect((error as Error).message).toContain("parse error");
  });

  it("maps a query timeout (503) to `unavailable`", async () => {
    const error = await failing({
      status: 503,
      body: JSON.stringify({
        status: "error",
        errorType: "timeout",
        error: "query timed out in expression evaluation",
      }),
    });
    expect(error).toMatchObject({ code: "unavailable", errorType: "timeout", retryable: true });
  });

  it("maps execution errors (422) to `invalid`", async () => {
    const error = await failing({
      status: 422,
      body: JSON.stringify({
        status: "error",
        errorType: "execution",
        error: "query processing would load too many samples into memory",
      }),
    });
    expect(error).toMatchObject({ code: "invalid", errorType: "execution" });
  });

  it("maps a proxy's non-JSON 502 to `unavailable`", async () => {
    const error = await failing({ status: 502, body: "<html>Bad Gateway</html>" });
    expect(error).toMatchObject({ code: "unavailable", status: 502 });
  });

  it("rejects a success that is not a matrix", async () => {
    const error = await failing({
      status: 200,
      body: JSON.stringify({ status: "success", data: { resultType: "vector", result: [] } }),
    });
    expect(error).toMatchObject({ code: "invalid" });
  });

  it("times out a slow server as `unavailable`, keeping the cause", async () => {
    const error = await failing({ status: 200, body: "{}", delayMs: 1_000 });
    expect(error).toMatchObject({ code: "unavailable" });
    expect((error as Error).message).toContain("timed out after 300 ms");
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it("maps a refused connection to `unavailable`", async () => {
    const source = createPrometheusMetricsSource({ baseUrl: "http://127.0.0.1:1", timeoutMs: 1_000 });
    await expect(source.gpuUsage(WINDOW, 60)).rejects.toMatchObject({ code: "unavailable" });
  });

  it("uses the injected fetch", async () => {
    const calls: string[] = [];
    const source = createPrometheusMetricsSource({
      baseUrl: "http://prometheus.invalid/prom/",
      timeoutMs: 1_000,
      fetch: async (input) => {
        calls.push(String(input));
        return new Response(
          JSON.stringify({ status: "success", data: { resultType: "matrix", result: [] } }),
        );
      },
    });
    expect(await source.gpuUsage(WINDOW, 60)).toEqual([]);
    expect(calls).toEqual(Array(3).fill("http://prometheus.invalid/prom/api/v1/query_range"));
  });

  it("rejects a bad window or step before asking", async () => {
    const source = await sourceOver([]);
    await expect(source.gpuUsage({ from: TO, to: FROM }, 60)).rejects.toMatchObject({ code: "invalid" });
    await expect(source.gpuUsage(WINDOW, 0)).rejects.toMatchObject({ code: "invalid" });
    expect(prometheus?.requests).toEqual([]);
  });
});
