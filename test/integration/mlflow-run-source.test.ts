import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMlflowRunSource } from "#adapters/mlflow/mlflow-run-source.ts";
import { TrainingRunSourceError } from "#ports/training-run-source.ts";
import { type FakeMlflow, fixtureRuns, startFakeMlflow } from "../support/fake-mlflow-server.ts";

// The run source against a local HTTP server answering runs/search with the runs of
// test/fixtures/mlflow/runs-search.response (int64 fields as numbers, and as strings for one run).

const EXPERIMENT_ID = "4";
const RUNNING = "0d6c1f3e2b7a4e59a1c4b8d2f0e3a7c1";
const FINISHED = "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6";
const KILLED = "3c4d5e6f7a8b49c0d1e2f3a4b5c6d7e8";
const SINCE = new Date("2026-11-17T12:00:00Z");

describe("createMlflowRunSource against an MLflow REST server", () => {
  let mlflow: FakeMlflow;

  beforeEach(async () => {
    mlflow = await startFakeMlflow();
    mlflow.addExperiment("llm-finetune", EXPERIMENT_ID);
    mlflow.addRuns(fixtureRuns());
  });

  afterEach(async () => {
    await mlflow.close();
  });

  const source = (pageSize?: number, token?: string) =>
    createMlflowRunSource({
      baseUrl: `${mlflow.url}/`,
      timeoutMs: 2000,
      ...(pageSize === undefined ? {} : { pageSize }),
      ...(token === undefined ? {} : { token }),
    });

  it("resolves names, reads every page of running and recently ended runs, and sends the bearer token", async () => {
    const page = await source(2, "s3cret").runs({
      experiments: [{ name: "llm-finetune" }],
      endedSince: SINCE,
    });

    expect(page.experiments).toEqual([{ experiment: "llm-finetune", id: EXPERIMENT_ID }]);
    expect(page.unread).toEqual([]);
    // Two running runs fit one full page (a token), then the empty `{}`; four ended ones, two pages and `{}`.
    const searches = mlflow.requests.filter((r) => r.path === "runs/search");
    expect(searches.map((r) => [r.body?.filter, r.body?.page_token ?? null])).toEqual([
      ["attributes.status = 'RUNNING'", null],
      ["attributes.status = 'RUNNING'", "eyJvZmZzZXQiOiAyfQ=="],
      [`attributes.end_time >= ${SINCE.getTime()}`, null],
      [`attributes.end_time >= ${SINCE.getTime()}`, "eyJvZmZzZXQiOiAyfQ=="],
      [`attributes.end_time >= ${SINCE.getTime()}`, "eyJvZmZzZXQiOiA0fQ=="],
    ]);
    expect(searches[0]?.body).toMatchObject({
      experiment_ids: [EXPERIMENT_ID],
      run_view_type: "ACTIVE_ONLY",
      max_results: 2,
    });
    expect(mlflow.requests.every((r) => r.headers.authorization === "Bearer s3cret")).toBe(true);
    expect(mlflow.requests[0]).toMatchObject({
      method: "GET",
      path: "experiments/get-by-name",
      query: { experiment_name: "llm-finetune" },
    });

    // Six runs, each once; the SCHEDULED one is neither running nor ended.
    expect(page.runs.map((r) => r.status).sort()).toEqual([
      "FAILED",
      "FINISHED",
      "FINISHED",
      "KILLED",
      "RUNNING",
      "RUNNING",
    ]);
    const running = page.runs.find((r) => r.run_id === RUNNING);
    expect(running).toEqual({
      run_id: RUNNING,
      experiment_id: EXPERIMENT_ID,
      status: "RUNNING",
      start_time: new Date("2026-11-20T10:00:00Z"),
      end_time: null,
      tags: expect.objectContaining({ team: "speech", model: "whisper-ft", "mlflow.user": "ci-bot" }),
      params: { accelerator: "nvidia-l4", num_gpus: "2", batch_size: "32" },
      metrics: {
        epoch: { value: 1, timestamp: new Date("2026-11-20T11:50:00Z") },
        loss: { value: 0.87, timestamp: new Date("2026-11-20T11:50:00Z") },
      },
    });
    // int64 fields as strings (a protobuf JSON gateway) read the same.
    const killed = page.runs.find((r) => r.run_id === KILLED);
    expect(killed?.start_time).toEqual(new Date("2026-11-20T10:00:00Z"));
    expect(killed?.end_time).toEqual(new Date("2026-11-20T10:45:00Z"));
    expect(killed?.metrics.epoch?.timestamp).toEqual(new Date("2026-11-20T10:40:00Z"));
  });

  it("takes experiment ids as given and leaves runs that ended before the window out", async () => {
    const page = await source().runs({
      experiments: [{ id: EXPERIMENT_ID }],
      endedSince: new Date("2026-11-20T10:50:00Z"),
    });

    expect(mlflow.requests.some((r) => r.path === "experiments/get-by-name")).toBe(false);
    expect(page.experiments).toEqual([{ experiment: `id ${EXPERIMENT_ID}`, id: EXPERIMENT_ID }]);
    expect(page.runs.map((r) => r.run_id).sort()).toEqual(
      [RUNNING, FINISHED, "5e6f7a8b9c0d41e2f3a4b5c6d7e8f9a0"].sort(),
    );
  });

  it("reports a missing or deleted experiment and still reads the others", async () => {
    mlflow.addExperiment("old-sweeps", "5", "deleted");

    const page = await source().runs({
      experiments: [{ name: "no-such-experiment" }, { name: "old-sweeps" }, { name: "llm-finetune" }],
      endedSince: SINCE,
    });

    expect(page.unread).toEqual([
      { experiment: "no-such-experiment", reason: 'no experiment named "no-such-experiment"' },
      { experiment: "old-sweeps", reason: 'experiment "old-sweeps" is deleted' },
    ]);
    expect(page.runs).toHaveLength(6);
  });

  it("fails retryable on a 5xx and for good on a refusal", async () => {
    mlflow.script("POST runs/search", 503, { error_code: "TEMPORARILY_UNAVAILABLE", message: "busy" });
    const busy = await source()
      .runs({ experiments: [{ id: EXPERIMENT_ID }], endedSince: SINCE })
      .catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(TrainingRunSourceError);
    expect(busy).toMatchObject({ code: "unavailable", retryable: true });

    mlflow.script("POST runs/search", 403, { error_code: "PERMISSION_DENIED", message: "no access" });
    const denied = await source()
      .runs({ experiments: [{ id: EXPERIMENT_ID }], endedSince: SINCE })
      .catch((e: unknown) => e);
    expect(denied).toMatchObject({ code: "invalid", retryable: false });
    expect((denied as Error).message).toContain("PERMISSION_DENIED");
  });

  it("stops following a server that never stops answering a next_page_token", async () => {
    const endless = createMlflowRunSource({ baseUrl: mlflow.url, timeoutMs: 2000, pageSize: 1, maxPages: 3 });
    const error = await endless
      .runs({ experiments: [{ id: EXPERIMENT_ID }], endedSince: SINCE })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "invalid" });
    expect((error as Error).message).toContain("after 3 pages");
  });
});
