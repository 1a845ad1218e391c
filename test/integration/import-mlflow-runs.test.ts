import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import { createMlflowRunSource } from "#adapters/mlflow/mlflow-run-source.ts";
import { createImportMlflowRuns } from "#app/import-mlflow-runs.ts";
import { createIngestEvents } from "#app/ingest-events.ts";
import { decimalToNanos } from "#domain/money.ts";
import { parsePriceCatalog } from "#domain/pricing/catalog.ts";
import { createPricer } from "#domain/pricing/pricer.ts";
import { mlflowImportSettingsSchema } from "#domain/training/mlflow-import-settings.ts";
import type { Clock } from "#ports/clock.ts";
import type { Logger } from "#ports/logger.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { type FakeMlflow, fixtureRuns, startFakeMlflow } from "../support/fake-mlflow-server.ts";

// The import end to end but for the scheduler: runs/search on a local MLflow server answering the
// fixture's runs, the real ingest use case, pricing and DuckDB.

const RUNNING = "0d6c1f3e2b7a4e59a1c4b8d2f0e3a7c1";
const FINISHED = "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6";
const FAILED = "2b3c4d5e6f7a48b9c0d1e2f3a4b5c6d7";
const KILLED = "3c4d5e6f7a8b49c0d1e2f3a4b5c6d7e8";
const NO_TEAM = "4d5e6f7a8b9c40d1e2f3a4b5c6d7e8f9";
const NO_PLACEMENT = "5e6f7a8b9c0d41e2f3a4b5c6d7e8f9a0";

const entry = (e: Record<string, unknown>) => ({ source: "test", as_of: "2026-11-01", ...e });
const CATALOG = parsePriceCatalog({
  version: "test-mlflow",
  currency: "USD",
  default_regions: { gcp: "us-central1", aws: "us-east-1" },
  entries: [
    entry({
      kind: "accelerator",
      cloud: "gcp",
      region: "us-central1",
      accelerator: "nvidia-a100-80gb",
      on_demand: "3.92808",
    }),
    entry({
      kind: "accelerator",
      cloud: "gcp",
      region: "us-central1",
      accelerator: "nvidia-l4",
      on_demand: "0.56",
    }),
    entry({
      kind: "instance",
      cloud: "gcp",
      region: "us-central1",
      instance_type: "a3-highgpu-8g",
      gpu_model: "nvidia-h100-80gb",
      gpu_count: 8,
      on_demand: "88.49",
    }),
    entry({
      kind: "instance",
      cloud: "aws",
      region: "us-east-1",
      instance_type: "p3.8xlarge",
      gpu_model: "nvidia-tesla-v100",
      gpu_count: 4,
      on_demand: "12.24",
    }),
  ],
});

interface Logged {
  level: string;
  message: string;
  fields: Record<string, unknown> | undefined;
}

function recordingLogger(lines: Logged[]): Logger {
  const at =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, fields });
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

describe("importMlflowRuns: MLflow runs through ingest into the warehouse", () => {
  let mlflow: FakeMlflow;
  let warehouse: Warehouse;
  let now: Date;
  let logged: Logged[];
  const clock: Clock = { now: () => new Date(now) };

  beforeEach(async () => {
    mlflow = await startFakeMlflow();
    mlflow.addExperiment("llm-finetune", "4");
    mlflow.addRuns(fixtureRuns());
    warehouse = createDuckDbWarehouse({ path: ":memory:" });
    await warehouse.init();
    now = new Date("2026-11-20T12:00:00Z");
    logged = [];
  });

  afterEach(async () => {
    await warehouse.close();
    await mlflow.close();
  });

  function importer(settings: Record<string, unknown> = {}) {
    const logger = recordingLogger(logged);
    const ingestEvents = createIngestEvents({ warehouse, pricer: createPricer(CATALOG), clock, logger });
    return createImportMlflowRuns({
      source: createMlflowRunSource({ baseUrl: mlflow.url, timeoutMs: 2000, pageSize: 2 }),
      ingest: (body, contentType) => ingestEvents.ingest(body, contentType),
      settings: mlflowImportSettingsSchema.parse({
        baseUrl: mlflow.url,
        experiments: ["llm-finetune"],
        ...settings,
      }),
      clock,
      logger,
    });
  }

  async function jobs() {
    const rows = await warehouse.trainingJobs({
      from: new Date("2026-11-20T00:00:00Z"),
      to: new Date("2026-11-21T00:00:00Z"),
      now: clock.now(),
      silenceSeconds: 3600 * 2,
    });
    return Object.fromEntries(rows.map((r) => [r.job_id, { cost: r.cost_nanos, ...r }]));
  }

  it("skips a run MLflow answers malformed, naming it and the field, and imports the others", async () => {
    // Prepare: copies of the finished run with a time in nanoseconds, no run id, and a null tag value.
    const finished = fixtureRuns().find((r) => (r.info as { run_id: string }).run_id === FINISHED) as {
      info: Record<string, unknown>;
      data: { tags: { key: string; value: string | null }[] };
    };
    const copy = (runId: string | undefined, info: Record<string, unknown> = {}) => {
      const run = structuredClone(finished);
      run.info = { ...run.info, run_id: runId, run_uuid: runId, ...info };
      return run;
    };
    const nullTag = copy("6f7a8b9c0d1e42f3a4b5c6d7e8f9a0b1");
    nullTag.data.tags.push({ key: "mlflow.note.content", value: null });
    mlflow.addRuns([
      copy("7a8b9c0d1e2f43a4b5c6d7e8f9a0b1c2", { end_time: 1795172400000 * 1_000_000 }),
      copy(undefined),
      nullTag,
    ]);

    // Act
    const summary = await importer().import();

    // Assess
    expect(summary).toMatchObject({ runs: 9, imported: 5, skipped: 4, rejected: [] });
    expect(summary.skippedRuns).toEqual(
      expect.arrayContaining([
        {
          run_id: "7a8b9c0d1e2f43a4b5c6d7e8f9a0b1c2",
          experiment_id: "4",
          reason: "info.end_time: not a time in milliseconds since 1970",
        },
        { experiment_id: "4", reason: "info.run_id: missing (and no run_uuid)" },
      ]),
    );
    expect(Object.keys(await jobs())).toContain("6f7a8b9c0d1e42f3a4b5c6d7e8f9a0b1");
  });

  it("prices each run by placement × GPUs × elapsed time, and reports the runs it cannot", async () => {
    const summary = await importer().import();

    expect(summary).toMatchObject({
      experiments: [{ experiment: "llm-finetune", id: "4" }],
      unread: [],
      runs: 6,
      imported: 4,
      skipped: 2,
      events: 8,
      accepted: 8,
      duplicates: 0,
      conflicts: 0,
      rejected: [],
    });
    expect(summary.skippedRuns).toEqual([
      { run_id: NO_PLACEMENT, experiment_id: "4", missing: expect.any(Array) },
      { run_id: NO_TEAM, experiment_id: "4", missing: ["team (tags.team)"] },
    ]);
    expect(summary.skippedRuns[0]?.missing).toEqual([
      "instance_type or accelerator (params.instance_type, tags.instance_type, params.accelerator, tags.accelerator)",
      "gpu_count (params.num_gpus, params.gpu_count, tags.gpu_count)",
    ]);
    // Logged with the run id and what it lacks.
    expect(logged).toContainEqual({
      level: "warn",
      message: "mlflow run not imported",
      fields: { run_id: NO_TEAM, experiment_id: "4", missing: ["team (tags.team)"] },
    });

    const byJob = await jobs();
    expect(Object.keys(byJob).sort()).toEqual([RUNNING, FINISHED, FAILED, KILLED].sort());
    // 4 A100 80GB for 3 h at $3.92808; a whole a3-highgpu-8g for 30 min; a p3.8xlarge 45 min; 2 L4 for 2 h so far.
    expect(byJob[FINISHED]).toMatchObject({
      cost: decimalToNanos("47.13696"),
      outcome: "finished",
      team: "nlp",
      model: "llama-ft",
      business_unit: "research",
      epochs: 3,
    });
    expect(byJob[FAILED]).toMatchObject({
      cost: decimalToNanos("44.245"),
      outcome: "failed",
      team: "vision",
    });
    expect(byJob[KILLED]).toMatchObject({ cost: decimalToNanos("9.18"), outcome: "failed" });
    expect(byJob[RUNNING]).toMatchObject({
      cost: decimalToNanos("2.24"),
      outcome: "running",
      duration_seconds: 7200,
      epochs: 1,
    });
  });

  it("adds nothing when run again, only a running run's new progress an hour later, and its finish when it ends", async () => {
    await importer().import();

    const again = await importer().import();
    expect(again).toMatchObject({ events: 8, accepted: 0, duplicates: 8, conflicts: 0 });

    now = new Date("2026-11-20T13:00:00Z");
    mlflow.run(RUNNING).data.metrics = [
      { key: "epoch", value: 2, timestamp: Date.parse("2026-11-20T12:55:00Z"), step: 2 },
    ];
    const progressed = await importer().import();
    expect(progressed).toMatchObject({ events: 8, accepted: 1, duplicates: 7 });
    expect((await jobs())[RUNNING]).toMatchObject({
      cost: decimalToNanos("3.36"),
      epochs: 2,
      outcome: "running",
    });

    // The training script ends the run at 13:30; the next import adds its finish.
    mlflow.run(RUNNING).info.status = "FINISHED";
    mlflow.run(RUNNING).info.end_time = Date.parse("2026-11-20T13:30:00Z");
    now = new Date("2026-11-20T14:00:00Z");
    const ended = await importer().import();
    expect(ended).toMatchObject({ events: 8, accepted: 1, duplicates: 7 });
    expect((await jobs())[RUNNING]).toMatchObject({
      cost: decimalToNanos("3.92"),
      outcome: "finished",
      duration_seconds: 12_600,
    });
    expect(await importer().import()).toMatchObject({ accepted: 0, duplicates: 8 });
  });

  it("fills what runs do not name from the section's and the experiment's defaults", async () => {
    const summary = await importer({
      experiments: [{ name: "llm-finetune", defaults: { team: "notebooks" } }],
      defaults: { accelerator: "nvidia-l4", gpu_count: 1 },
    }).import();

    expect(summary).toMatchObject({ imported: 6, skipped: 0, accepted: 12 });
    expect((await jobs())[NO_TEAM]).toMatchObject({ team: "notebooks", cost: decimalToNanos("0.56") });
  });

  it("counts what ingest refuses, and goes on with the rest", async () => {
    mlflow.run(FAILED).data.tags = [
      { key: "team", value: "vision" },
      { key: "model", value: "vit-l" },
      { key: "cloud", value: "gcp" },
      { key: "region", value: "asia-east1" },
    ];

    const summary = await importer().import();

    expect(summary).toMatchObject({ events: 8, accepted: 6 });
    expect(summary.rejected.map((r) => [r.id, r.field])).toEqual([
      [`${FAILED}/started`, "data.region"],
      [`${FAILED}/failed`, "data.region"],
    ]);
  });
});
