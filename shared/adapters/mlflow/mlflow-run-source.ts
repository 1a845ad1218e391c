import type { TrackedRun } from "#domain/training/tracked-run.ts";
import {
  type ExperimentRef,
  experimentLabel,
  type TrainingRunPage,
  type TrainingRunQuery,
  type TrainingRunSource,
  TrainingRunSourceError,
  type UnreadRun,
} from "#ports/training-run-source.ts";
import { MlflowError } from "./mlflow-error.ts";
import {
  createMlflowCall,
  experimentResponse,
  type MlflowHttpOptions,
  type MlflowRun,
  runSchema,
  searchPageResponse,
} from "./mlflow-http.ts";

export interface MlflowRunSourceOptions extends MlflowHttpOptions {
  /** max_results of each runs/search page: MLflow's default is 1000; servers take at least 1000. */
  pageSize?: number;
  /** Pages read per search before giving up (a server that keeps answering a next_page_token). */
  maxPages?: number;
}

const DEFAULT_PAGE_SIZE = 1000;
const DEFAULT_MAX_PAGES = 1000;

function toPortError(error: unknown): unknown {
  if (!(error instanceof MlflowError)) return error;
  return new TrainingRunSourceError(error.retryable ? "unavailable" : "invalid", error.message, {
    cause: error,
  });
}

const when = (ms: number | undefined): Date | null => (ms === undefined || ms <= 0 ? null : new Date(ms));

/** A field of a run as it came, when it is an id (a string, or a number as some gateways write them). */
function idAt(raw: unknown, key: string): string | undefined {
  const info = (raw as { info?: Record<string, unknown> } | null)?.info;
  const value = info !== null && typeof info === "object" ? info[key] : undefined;
  return typeof value === "string" || typeof value === "number" ? String(value) : undefined;
}

/** One run of a runs/search page, or why it is not a run (naming the field, and the run where it can). */
function readRun(raw: unknown): TrackedRun | UnreadRun {
  const runId = idAt(raw, "run_id") ?? idAt(raw, "run_uuid");
  const experimentId = idAt(raw, "experiment_id");
  const who = {
    ...(runId === undefined ? {} : { run_id: runId }),
    ...(experimentId === undefined ? {} : { experiment_id: experimentId }),
  };
  const parsed = runSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ...who, reason: `${issue?.path.join(".") || "run"}: ${issue?.message ?? "invalid"}` };
  }
  if (runId === undefined) return { ...who, reason: "info.run_id: missing (and no run_uuid)" };
  return toTrackedRun(parsed.data, runId);
}

function toTrackedRun(run: MlflowRun, runId: string): TrackedRun {
  const metrics: Record<string, { value: number; timestamp: Date }> = {};
  for (const metric of run.data.metrics) {
    const before = metrics[metric.key];
    if (before !== undefined && before.timestamp.getTime() > metric.timestamp) continue;
    metrics[metric.key] = { value: metric.value, timestamp: new Date(metric.timestamp) };
  }
  return {
    run_id: runId,
    experiment_id: run.info.experiment_id,
    status: run.info.status,
    start_time: when(run.info.start_time),
    end_time: when(run.info.end_time),
    tags: Object.fromEntries(run.data.tags.map((t) => [t.key, t.value])),
    params: Object.fromEntries(run.data.params.map((p) => [p.key, p.value])),
    metrics,
  };
}

/**
 * Training runs from an MLflow tracking server's REST API: experiment names resolved with
 * experiments/get-by-name, runs read with runs/search (every page, following next_page_token),
 * twice per import: the running runs, and those that ended since the query's instant. Deleted runs
 * are left out. A named experiment that does not exist or is deleted is reported in `unread`, and
 * the others are read; a run that is not one as documented (a time no Date holds, a null id) is
 * reported in `unreadRuns`, and the others are read; any other refusal or fault fails the whole read
 * (retryable when it may pass).
 */
export function createMlflowRunSource(options: MlflowRunSourceOptions): TrainingRunSource {
  const call = createMlflowCall(options);
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 50_000) {
    throw new TrainingRunSourceError("invalid", "pageSize must be a whole number from 1 to 50000");
  }

  async function resolve(ref: ExperimentRef): Promise<{ id: string } | { reason: string }> {
    if ("id" in ref) return { id: ref.id };
    try {
      const { experiment } = await call("GET", "experiments/get-by-name", experimentResponse, {
        experiment_name: ref.name,
      });
      if (experiment.lifecycle_stage === "deleted") {
        return { reason: `experiment ${JSON.stringify(ref.name)} is deleted` };
      }
      return { id: experiment.experiment_id };
    } catch (error) {
      if (error instanceof MlflowError && error.code === "RESOURCE_DOES_NOT_EXIST") {
        return { reason: `no experiment named ${JSON.stringify(ref.name)}` };
      }
      throw error;
    }
  }

  async function search(experimentIds: string[], filter: string): Promise<unknown[]> {
    const runs: unknown[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < maxPages; page += 1) {
      const answer = await call("POST", "runs/search", searchPageResponse, {
        experiment_ids: experimentIds,
        filter,
        run_view_type: "ACTIVE_ONLY",
        max_results: pageSize,
        ...(pageToken === undefined ? {} : { page_token: pageToken }),
      });
      runs.push(...answer.runs);
      pageToken = answer.next_page_token;
      if (pageToken === undefined || pageToken === "") return runs;
    }
    throw new TrainingRunSourceError(
      "invalid",
      `runs/search: still a next_page_token after ${maxPages} pages of ${pageSize} runs`,
    );
  }

  return {
    async runs(query: TrainingRunQuery): Promise<TrainingRunPage> {
      try {
        const page: TrainingRunPage = { experiments: [], unread: [], runs: [], unreadRuns: [] };
        for (const ref of query.experiments) {
          const found = await resolve(ref);
          if ("id" in found) page.experiments.push({ experiment: experimentLabel(ref), id: found.id });
          else page.unread.push({ experiment: experimentLabel(ref), reason: found.reason });
        }
        const ids = [...new Set(page.experiments.map((e) => e.id))];
        if (ids.length === 0) return page;
        const since = Math.max(0, Math.floor(query.endedSince.getTime()));
        // Running first: a run that ends between the two searches is then seen ended, which wins.
        const running = await search(ids, "attributes.status = 'RUNNING'");
        const ended = await search(ids, `attributes.end_time >= ${since}`);
        const byId = new Map<string, TrackedRun>();
        const unreadById = new Map<string, UnreadRun>();
        for (const raw of [...running, ...ended]) {
          const read = readRun(raw);
          if ("reason" in read) unreadById.set(read.run_id ?? `#${unreadById.size}`, read);
          else byId.set(read.run_id, read);
        }
        page.runs = [...byId.values()];
        // A run read well in one search and badly in the other is the well-read one.
        page.unreadRuns = [...unreadById.entries()].filter(([id]) => !byId.has(id)).map(([, run]) => run);
        return page;
      } catch (error) {
        throw toPortError(error);
      }
    },
  };
}
