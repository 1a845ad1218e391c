import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import { createScorecard, ScorecardQueryError, type ScorecardReport } from "#app/scorecard.ts";
import type { CostRow } from "#domain/cost-row.ts";
import { scorecardToJson } from "#domain/scorecard/scorecard-format.ts";
import { DEFAULT_SCORECARD_SETTINGS } from "#domain/scorecard/scorecard-settings.ts";
import { fixedClock } from "#ports/clock.ts";
import {
  type GpuUsage,
  type GpuWindow,
  type MetricsSource,
  MetricsSourceError,
} from "#ports/metrics-source.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { BASE_HOUR, costRow, trainingRow } from "../support/cost-row-builder.ts";
import { shippedCatalog, USD } from "../support/scorecard-builders.ts";

// createScorecard over a real in-memory DuckDB warehouse: the inputs query, the catalog's rates, and
// DCGM utilization from a MetricsSource (here a stand-in implementing the port).

const HOUR = 3_600_000;
const NOW = new Date(BASE_HOUR.getTime() + 24 * HOUR);

const serving = (i: number): CostRow =>
  costRow({
    event_id: `serve-${i}`,
    team: "risk",
    model: "fraud-scorer",
    namespace: "risk",
    cloud: "aws",
    region: "us-east-1",
    accelerator: null,
    instance_type: "p3.2xlarge",
    event_time: new Date(BASE_HOUR.getTime() + i * HOUR),
    cost_nanos: 10n * USD,
  });

const apiCall = (i: number): CostRow =>
  costRow({
    event_id: `api-${i}`,
    event_source: "//gateway/support",
    team: "support",
    model: "gpt-4o-mini",
    namespace: "support",
    provider: "openai",
    cloud: null,
    region: null,
    accelerator: null,
    instance_type: null,
    gpu_seconds: null,
    gpu_count: null,
    request_fingerprint: `sha256:${i % 4}`,
    event_time: new Date(BASE_HOUR.getTime() + i * 60_000),
    cost_nanos: USD,
  });

const training: CostRow[] = [1, 2, 3].map((k) =>
  trainingRow("nightly", k * 3600, BigInt(k) * 30n * USD, {
    team: "search",
    model: "ranker",
    namespace: "research",
    cloud: "gcp",
    region: "us-central1",
    accelerator: "nvidia-tesla-a100",
    instance_type: null,
    gpu_count: 4,
    epoch: k,
  }),
);

function dcgm(calls: { window: GpuWindow; step: number }[]): MetricsSource {
  return {
    async gpuUsage(window, stepSeconds) {
      calls.push({ window, step: stepSeconds });
      const usage: GpuUsage = {
        gpu: { uuid: "GPU-1", index: 0, node: "ip-10-0-0-1", modelName: "Tesla V100-SXM2-16GB" },
        series: [
          {
            pod: { namespace: "risk", pod: "fraud-scorer-6f7c9-x2", container: "server" },
            samples: Array.from({ length: 20 }, (_, i) => ({
              t: window.from.getTime() / 1000 + i * stepSeconds,
              utilization: 0.1 + (i % 5) * 0.025,
              fbUsedMiB: 6000,
            })),
          },
        ],
      };
      return [usage];
    },
  };
}

const lever = (report: ScorecardReport, model: string, name: string) =>
  report.models.find((m) => m.model === model)?.levers.find((l) => l.lever === name);

describe("createScorecard", () => {
  let warehouse: Warehouse;
  beforeAll(async () => {
    warehouse = createDuckDbWarehouse({ path: ":memory:" });
    await warehouse.init();
    await warehouse.insertEvents([
      ...Array.from({ length: 24 }, (_, i) => serving(i)),
      ...Array.from({ length: 20 }, (_, i) => apiCall(i)),
      ...training,
    ]);
  });
  afterAll(() => warehouse.close());

  const scorecardWith = (metrics?: MetricsSource) =>
    createScorecard({
      warehouse,
      catalog: shippedCatalog(),
      settings: DEFAULT_SCORECARD_SETTINGS,
      clock: fixedClock(NOW),
      ...(metrics ? { metrics } : {}),
    });

  it("scores every model from the warehouse, right-sizing from DCGM, as a plain JSON-able value", async () => {
    // Prepare
    const calls: { window: GpuWindow; step: number }[] = [];

    // Act
    const report = await scorecardWith(dcgm(calls))();

    // Assess
    expect(calls).toEqual([
      { window: { from: new Date(NOW.getTime() - 30 * 24 * HOUR), to: NOW }, step: 300 },
    ]);
    expect(report.utilization).toBe("DCGM through Prometheus, 1 GPU(s), every 300 s");
    expect(report.window).toEqual({
      from: new Date(NOW.getTime() - 30 * 24 * HOUR).toISOString(),
      to: NOW.toISOString(),
      observed_days: 1,
    });
    expect(report.models.map((m) => m.model).sort()).toEqual(["fraud-scorer", "gpt-4o-mini", "ranker"]);
    expect(lever(report, "fraud-scorer", "right_sizing")?.detail).toMatch(
      /^p3\.2xlarge → g4dn\.xlarge \(p95 20% busy/,
    );
    expect(lever(report, "ranker", "spot")?.monthly_savings_nanos).toBeGreaterThan(0n);
    // 16 of the 20 calls repeat one of four prompts within the TTL.
    expect(report.models.find((m) => m.model === "gpt-4o-mini")?.inputs.repeated_share).toBe(0.8);
    expect(report.teams.map((t) => t.team).sort()).toEqual(["risk", "search", "support"]);
    const json = JSON.parse(scorecardToJson(report)) as { models: { monthly_cost_nanos: string }[] };
    expect(json.models[0]?.monthly_cost_nanos).toMatch(/^\d+$/);
  });

  it("scores only a team or a model when asked, over the days asked", async () => {
    // Act
    const team = await scorecardWith()({ team: "support", days: 2 });
    const model = await scorecardWith()({ model: "ranker" });

    // Assess
    expect(team.models.map((m) => m.model)).toEqual(["gpt-4o-mini"]);
    expect(team.window.from).toBe(new Date(NOW.getTime() - 48 * HOUR).toISOString());
    expect(model.teams.map((t) => t.team)).toEqual(["search"]);
  });

  it("says why right-sizing claims nothing when DCGM cannot be read, and fails on anything else", async () => {
    // Prepare
    const down: MetricsSource = {
      gpuUsage: async () => {
        throw new MetricsSourceError("unavailable", "Prometheus answered 503");
      },
    };
    const broken: MetricsSource = {
      gpuUsage: async () => {
        throw new TypeError("a bug");
      },
    };

    // Act
    const report = await scorecardWith(down)();

    // Assess
    expect(report.utilization).toBe("DCGM utilization unavailable: Prometheus answered 503");
    expect(lever(report, "fraud-scorer", "right_sizing")?.monthly_savings_nanos).toBe(0n);
    await expect(scorecardWith(broken)()).rejects.toThrow("a bug");
  });

  it("refuses a window that is not a whole number of days from 1 to 400, naming the field", async () => {
    for (const days of [0, 1.5, 401]) {
      await expect(scorecardWith()({ days })).rejects.toThrow(ScorecardQueryError);
    }
    await expect(scorecardWith()({ days: 0 })).rejects.toThrow(/^days: must be a whole number of days/);
    await expect(scorecardWith()({ team: " " })).rejects.toThrow("team: must not be empty");
  });
});
