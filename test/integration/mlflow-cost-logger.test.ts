import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { planLogBatches } from "#adapters/mlflow/log-batch.ts";
import { createMlflowCostLogger, JOB_TAGS, jobKey } from "#adapters/mlflow/mlflow-cost-logger.ts";
import { MlflowError } from "#adapters/mlflow/mlflow-error.ts";
import type { JobCostRun } from "#domain/training/job-cost-logger.ts";
import { type JobSummary, summarizeJob } from "#domain/training/job-summary.ts";

// The logger against a local HTTP server that answers with the MLflow REST bodies in
// test/fixtures/mlflow; every call the server does not expect is answered 501 and fails the test.

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/mlflow/${name}.CONSTRUCTED.json`, import.meta.url), "utf8"));

const EXPERIMENT = "finops-training-cost";
const EXPERIMENT_ID = "123456789012345678";
const RUN_ID = "8f2c4b1e0d9a4c7b9e6f5a4b3c2d1e0f";
const API = "/api/2.0/mlflow/";

interface Recorded {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown> | null;
}

type Answer = { status: number; body: unknown } | "hang";

interface FakeMlflow {
  url: string;
  requests: Recorded[];
  /** Queues answers for `METHOD path` (path after /api/2.0/mlflow/), used in order. */
  answer(route: string, ...answers: Answer[]): void;
  unexpected: string[];
  close(): Promise<void>;
}

async function startFakeMlflow(): Promise<FakeMlflow> {
  const routes = new Map<string, Answer[]>();
  const requests: Recorded[] = [];
  const unexpected: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const path = url.pathname.startsWith(API) ? url.pathname.slice(API.length) : url.pathname;
      const text = Buffer.concat(chunks).toString("utf8");
      requests.push({
        method: req.method ?? "",
        path,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: text === "" ? null : (JSON.parse(text) as Record<string, unknown>),
      });
      const answer = routes.get(`${req.method} ${path}`)?.shift();
      if (answer === "hang") return;
      if (answer === undefined) {
        unexpected.push(`${req.method} ${path}`);
        res.writeHead(501, { "content-type": "application/json" });
        res.end(JSON.stringify({ error_code: "NOT_IMPLEMENTED", message: "unexpected call" }));
        return;
      }
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    unexpected,
    answer(route, ...answers) {
      routes.set(route, [...(routes.get(route) ?? []), ...answers]);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const ok = (name: string): Answer => ({ status: 200, body: fixture(name) });
const error = (status: number, name: string): Answer => ({ status, body: fixture(name) });

function summary(overrides: Partial<JobSummary> = {}): JobSummary {
  return summarizeJob({
    event_source: "//training/launcher",
    job_id: "llm-finetune-2024-11-25",
    team: "ml-platform",
    model: "llama-ft",
    business_unit: "research",
    instance_type: "a3-highgpu-8g",
    currency: "USD",
    started_at: new Date(1732521600000),
    last_seen_at: new Date(1732525200000),
    duration_seconds: 5625,
    gpu_count: 8,
    epochs: 3,
    cost_nanos: 41_250_000_001n,
    outcome: "finished",
    ...overrides,
  });
}

function jobRun(overrides: Partial<JobCostRun> = {}): JobCostRun {
  const s = overrides.summary ?? summary();
  return {
    experimentName: EXPERIMENT,
    summary: s,
    instance_type: "a3-highgpu-8g",
    num_gpus: 8,
    team: "ml-platform",
    model: "llama-ft",
    ...overrides,
  };
}

describe("createMlflowCostLogger against an MLflow REST server", () => {
  let mlflow: FakeMlflow;

  beforeEach(async () => {
    mlflow = await startFakeMlflow();
  });

  afterEach(async () => {
    await mlflow.close();
  });

  const logger = (token?: string) =>
    createMlflowCostLogger({ baseUrl: `${mlflow.url}/`, timeoutMs: 2000, ...(token ? { token } : {}) });

  it("creates the job's run in the named experiment, logs cost metrics, params and tags, and closes it", async () => {
    mlflow.answer("GET experiments/get-by-name", ok("experiments-get-by-name.response"));
    mlflow.answer("POST runs/search", ok("runs-search.response-empty"));
    mlflow.answer("POST runs/create", ok("runs-create.response"));
    mlflow.answer("POST runs/log-batch", ok("runs-log-batch.response"));
    mlflow.answer("POST runs/update", ok("runs-update.response"));

    const result = await logger("s3cret").logJobCost(jobRun());

    expect(result).toEqual({
      experimentId: EXPERIMENT_ID,
      runId: RUN_ID,
      createdRun: true,
      conflictingParams: [],
      status: "FINISHED",
    });
    expect(mlflow.unexpected).toEqual([]);
    expect(mlflow.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET experiments/get-by-name",
      "POST runs/search",
      "POST runs/create",
      "POST runs/log-batch",
      "POST runs/update",
    ]);
    const [getByName, search, create, logBatch, update] = mlflow.requests;
    expect(getByName?.query).toEqual({ experiment_name: EXPERIMENT });
    expect(mlflow.requests.every((r) => r.headers.authorization === "Bearer s3cret")).toBe(true);

    const key = jobKey("//training/launcher", "llm-finetune-2024-11-25");
    expect(search?.body).toEqual({
      experiment_ids: [EXPERIMENT_ID],
      filter: `tags.\`finops.job_key\` = '${key}'`,
      run_view_type: "ACTIVE_ONLY",
      max_results: 1,
    });

    const createShape = fixture("runs-create.request") as Record<string, unknown>;
    expect(Object.keys(create?.body ?? {}).sort()).toEqual(Object.keys(createShape).sort());
    expect(create?.body).toEqual({
      experiment_id: EXPERIMENT_ID,
      run_name: "llm-finetune-2024-11-25",
      start_time: 1732521600000,
      tags: [
        { key: JOB_TAGS.jobKey, value: key },
        { key: JOB_TAGS.jobId, value: "llm-finetune-2024-11-25" },
        { key: JOB_TAGS.eventSource, value: "//training/launcher" },
      ],
    });

    // The documented request's shape: run_id, metrics {key, value, timestamp, step}, params and tags {key, value}.
    const batchShape = fixture("runs-log-batch.request") as { metrics: object[]; params: object[] };
    expect(Object.keys(logBatch?.body ?? {}).sort()).toEqual(Object.keys(batchShape).sort());
    expect(logBatch?.body).toEqual({
      run_id: RUN_ID,
      metrics: [
        { key: "training_cost_usd", value: 41.250000001, timestamp: 1732525200000, step: 0 },
        { key: "duration_minutes", value: 93.75, timestamp: 1732525200000, step: 0 },
        { key: "cost_per_epoch", value: 13.75, timestamp: 1732525200000, step: 0 },
        { key: "gpu_hours", value: 12.5, timestamp: 1732525200000, step: 0 },
      ],
      params: [
        { key: "instance_type", value: "a3-highgpu-8g" },
        { key: "num_gpus", value: "8" },
      ],
      tags: [
        { key: "team", value: "ml-platform" },
        { key: "model", value: "llama-ft" },
        { key: "finops.outcome", value: "finished" },
      ],
    });
    for (const m of (logBatch?.body as { metrics: object[] } | undefined)?.metrics ?? []) {
      expect(Object.keys(m).sort()).toEqual(Object.keys(batchShape.metrics[0] ?? {}).sort());
    }
    expect(update?.body).toEqual({ run_id: RUN_ID, status: "FINISHED", end_time: 1732525200000 });
  });

  it("creates a missing experiment: get-by-name answers 404 RESOURCE_DOES_NOT_EXIST", async () => {
    mlflow.answer("GET experiments/get-by-name", error(404, "experiments-get-by-name.error-404"));
    mlflow.answer("POST experiments/create", ok("experiments-create.response"));
    mlflow.answer("POST runs/search", ok("runs-search.response-empty"));
    mlflow.answer("POST runs/create", ok("runs-create.response"));
    mlflow.answer("POST runs/log-batch", ok("runs-log-batch.response"));
    mlflow.answer("POST runs/update", ok("runs-update.response"));

    const result = await logger().logJobCost(jobRun({ summary: summary({ outcome: "failed" }) }));

    expect(mlflow.unexpected).toEqual([]);
    expect(mlflow.requests.map((r) => `${r.method} ${r.path}`).slice(0, 3)).toEqual([
      "GET experiments/get-by-name",
      "POST experiments/create",
      "POST runs/search",
    ]);
    expect(mlflow.requests[1]?.body).toEqual({ name: EXPERIMENT });
    expect(mlflow.requests[0]?.headers.authorization).toBeUndefined();
    expect(result).toMatchObject({ experimentId: EXPERIMENT_ID, status: "FAILED" });
    expect(mlflow.requests.at(-1)?.body).toMatchObject({ status: "FAILED" });
  });

  it("reads the experiment again when another writer created it first (RESOURCE_ALREADY_EXISTS)", async () => {
    mlflow.answer(
      "GET experiments/get-by-name",
      error(404, "experiments-get-by-name.error-404"),
      ok("experiments-get-by-name.response"),
    );
    mlflow.answer("POST experiments/create", error(400, "experiments-create.error-already-exists"));
    mlflow.answer("POST runs/search", ok("runs-search.response-empty"));
    mlflow.answer("POST runs/create", ok("runs-create.response"));
    mlflow.answer("POST runs/log-batch", ok("runs-log-batch.response"));

    const result = await logger().logJobCost(jobRun({ summary: summary({ outcome: "running" }) }));

    expect(mlflow.unexpected).toEqual([]);
    expect(mlflow.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET experiments/get-by-name",
      "POST experiments/create",
      "GET experiments/get-by-name",
      "POST runs/search",
      "POST runs/create",
      "POST runs/log-batch",
    ]);
    // A running job's run stays open.
    expect(result).toMatchObject({ experimentId: EXPERIMENT_ID, runId: RUN_ID, status: null });
  });

  it("surfaces the server's too-many-params refusal as an MlflowError with its error_code", async () => {
    mlflow.answer("GET experiments/get-by-name", ok("experiments-get-by-name.response"));
    mlflow.answer("POST runs/search", ok("runs-search.response-empty"));
    mlflow.answer("POST runs/create", ok("runs-create.response"));
    mlflow.answer("POST runs/log-batch", error(400, "runs-log-batch.error-too-many-params"));

    const failure = await logger()
      .logJobCost(jobRun())
      .catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(MlflowError);
    expect(failure).toMatchObject({
      code: "INVALID_PARAMETER_VALUE",
      status: 400,
      retryable: false,
    });
    expect((failure as Error).message).toContain("at most 100 params");
    expect(mlflow.unexpected).toEqual([]);
  });

  it("on a given run, logs only params it lacks, reports a different value, and leaves a closed run closed", async () => {
    mlflow.answer("GET experiments/get-by-name", ok("experiments-get-by-name.response"));
    mlflow.answer("GET runs/get", ok("runs-get.response"));
    mlflow.answer("POST runs/log-batch", ok("runs-log-batch.response"));

    const result = await logger().logJobCost(jobRun({ runId: RUN_ID }));

    expect(mlflow.unexpected).toEqual([]);
    expect(mlflow.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET experiments/get-by-name",
      "GET runs/get",
      "POST runs/log-batch",
    ]);
    expect(mlflow.requests[1]?.query).toEqual({ run_id: RUN_ID });
    // The run holds num_gpus=4: write-once, so it is not sent (the server would refuse the batch).
    expect(mlflow.requests[2]?.body).toMatchObject({
      params: [{ key: "instance_type", value: "a3-highgpu-8g" }],
    });
    expect(result).toEqual({
      experimentId: EXPERIMENT_ID,
      runId: RUN_ID,
      createdRun: false,
      conflictingParams: [{ key: "num_gpus", logged: "4", wanted: "8" }],
      status: null,
    });
  });

  it("finds the job's run again by its key on a repeat, and sends no param the run holds", async () => {
    const existing = fixture("runs-create.response") as { run: { data: { params?: unknown[] } } };
    existing.run.data.params = [
      { key: "instance_type", value: "a3-highgpu-8g" },
      { key: "num_gpus", value: "8" },
    ];
    mlflow.answer("GET experiments/get-by-name", ok("experiments-get-by-name.response"));
    mlflow.answer("POST runs/search", { status: 200, body: { runs: [existing.run] } });
    mlflow.answer("POST runs/log-batch", ok("runs-log-batch.response"));
    mlflow.answer("POST runs/update", ok("runs-update.response"));

    const result = await logger().logJobCost(jobRun());

    expect(mlflow.unexpected).toEqual([]);
    expect(result).toMatchObject({ createdRun: false, conflictingParams: [], status: "FINISHED" });
    expect(mlflow.requests.find((r) => r.path === "runs/log-batch")?.body).toMatchObject({ params: [] });
  });

  it("accepts int64 fields as strings (protobuf JSON gateways) and caches the experiment id", async () => {
    const experiment = fixture("experiments-get-by-name.response") as {
      experiment: Record<string, unknown>;
    };
    experiment.experiment.creation_time = "1732521600000";
    experiment.experiment.last_update_time = "1732521600000";
    const created = fixture("runs-create.response") as { run: { info: Record<string, unknown> } };
    created.run.info.start_time = "1732521600000";
    mlflow.answer("GET experiments/get-by-name", { status: 200, body: experiment });
    mlflow.answer("POST runs/search", ok("runs-search.response-empty"), ok("runs-search.response-empty"));
    mlflow.answer("POST runs/create", { status: 200, body: created }, { status: 200, body: created });
    mlflow.answer("POST runs/log-batch", ok("runs-log-batch.response"), ok("runs-log-batch.response"));

    const costs = logger();
    const running = summary({ outcome: "running" });
    await costs.logJobCost(jobRun({ summary: running }));
    await costs.logJobCost(jobRun({ summary: { ...running, job_id: "other-job" } }));

    expect(mlflow.unexpected).toEqual([]);
    expect(mlflow.requests.filter((r) => r.path === "experiments/get-by-name")).toHaveLength(1);
  });

  it("splits what exceeds one batch's limits over several runs/log-batch requests", async () => {
    mlflow.answer("GET experiments/get-by-name", ok("experiments-get-by-name.response"));
    mlflow.answer("POST runs/search", ok("runs-search.response-empty"));
    mlflow.answer("POST runs/create", ok("runs-create.response"));
    mlflow.answer("POST runs/log-batch", ok("runs-log-batch.response"), ok("runs-log-batch.response"));
    const tags = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`label.${i}`, `v${i}`]));

    await logger().logJobCost(jobRun({ summary: summary({ outcome: "running" }), tags }));

    expect(mlflow.unexpected).toEqual([]);
    const batches = mlflow.requests
      .filter((r) => r.path === "runs/log-batch")
      .map((r) => r.body as { metrics: unknown[]; params: unknown[]; tags: unknown[] });
    expect(batches.map((b) => [b.metrics.length, b.params.length, b.tags.length])).toEqual([
      [4, 2, 100],
      [0, 0, 53],
    ]);
  });

  it("gives up after timeoutMs with a retryable TIMEOUT", async () => {
    mlflow.answer("GET experiments/get-by-name", "hang");
    const costs = createMlflowCostLogger({ baseUrl: mlflow.url, timeoutMs: 100 });
    const failure = await costs.logJobCost(jobRun()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MlflowError);
    expect(failure).toMatchObject({ code: "TIMEOUT", retryable: true });
  });

  it("refuses a non-USD job before any request", async () => {
    const failure = await logger()
      .logJobCost(jobRun({ summary: summary({ currency: "EUR" }) }))
      .catch((e: unknown) => e);
    expect(failure).toMatchObject({ name: "MlflowError", code: "INVALID_ARGUMENT" });
    expect(mlflow.requests).toEqual([]);
  });
});

describe("planLogBatches", () => {
  const metric = (key: string, value = 1) => ({ key, value, timestamp: 0, step: 0 });

  it("respects the count, entity and byte limits", () => {
    const metrics = Array.from({ length: 2500 }, (_, i) => metric(`m${i}`));
    const params = Array.from({ length: 150 }, (_, i) => ({ key: `p${i}`, value: "x" }));
    const batches = planLogBatches("run", { metrics, params });
    for (const b of batches) {
      expect(b.metrics.length).toBeLessThanOrEqual(1000);
      expect(b.params.length).toBeLessThanOrEqual(100);
      expect(b.metrics.length + b.params.length + b.tags.length).toBeLessThanOrEqual(1000);
    }
    expect(batches.flatMap((b) => b.metrics)).toEqual(metrics);
    expect(batches.flatMap((b) => b.params)).toEqual(params);

    const big = Array.from({ length: 300 }, (_, i) => ({ key: `t${i}`, value: "y".repeat(4000) }));
    const bySize = planLogBatches("run", { tags: big });
    for (const b of bySize) expect(Buffer.byteLength(JSON.stringify(b))).toBeLessThanOrEqual(1_000_000);
    expect(bySize.flatMap((b) => b.tags)).toEqual(big);
  });

  it("refuses what the server would refuse", () => {
    expect(() => planLogBatches("run", { metrics: [metric("cost", Number.NaN)] })).toThrow(MlflowError);
    expect(() => planLogBatches("run", { metrics: [metric("../cost")] })).toThrow(/path/);
    expect(() => planLogBatches("run", { metrics: [metric("a//b")] })).toThrow(MlflowError);
    expect(() => planLogBatches("run", { params: [{ key: "k", value: "x".repeat(6001) }] })).toThrow(
      MlflowError,
    );
    expect(() =>
      planLogBatches("run", {
        params: [
          { key: "k", value: "1" },
          { key: "k", value: "2" },
        ],
      }),
    ).toThrow(/twice/);
    expect(
      planLogBatches("run", {
        params: [
          { key: "k", value: "1" },
          { key: "k", value: "1" },
        ],
      })[0]?.params,
    ).toEqual([{ key: "k", value: "1" }]);
  });
});
