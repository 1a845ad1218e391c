import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Enough of an MLflow tracking server's REST API (/api/2.0/mlflow/) for the run import and the cost
 * logger, answering with the bodies of test/fixtures/mlflow: experiments/get-by-name (404
 * RESOURCE_DOES_NOT_EXIST for an unknown name), experiments/create, runs/search (the filters the
 * import sends, pages of max_results with MLflow's own base64 offset tokens, a next_page_token
 * whenever a page is full, so the last page may be the empty `{}`), runs/get, runs/log-batch and
 * runs/update. Runs are kept as the JSON the server would send (int64 fields as numbers or strings,
 * as a fixture has them). Every request is recorded; scripted answers go first.
 */

const API = "/api/2.0/mlflow/";

export type JsonObject = Record<string, unknown>;

export interface MlflowRecorded {
  method: string;
  /** After /api/2.0/mlflow/. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: JsonObject | null;
}

export interface FakeMlflow {
  readonly url: string;
  readonly requests: MlflowRecorded[];
  /** Adds an experiment (get-by-name finds it). */
  addExperiment(name: string, id: string, lifecycleStage?: "active" | "deleted"): void;
  /** Adds runs as runs/search would return them (deep copies). */
  addRuns(runs: readonly JsonObject[]): void;
  /** The stored run, to change as a tracking client would. */
  run(runId: string): { info: JsonObject; data: JsonObject };
  /** Answers the next request to `METHOD path` with this instead. */
  script(route: string, status: number, body: unknown): void;
  close(): Promise<void>;
}

export function mlflowFixture<T = JsonObject>(name: string): T {
  return JSON.parse(
    readFileSync(new URL(`../fixtures/mlflow/${name}.CONSTRUCTED.json`, import.meta.url), "utf8"),
  ) as T;
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

interface StoredRun {
  info: JsonObject;
  data: JsonObject;
  inputs?: JsonObject;
}

const num = (value: unknown): number | undefined =>
  value === undefined || value === null ? undefined : Number(value);

/** MLflow's page token: base64 of Python's json.dumps({"offset": n}). */
const token = (offset: number) => Buffer.from(`{"offset": ${offset}}`).toString("base64");

function filterOf(filter: string): ((run: StoredRun) => boolean) | string {
  if (filter === "") return () => true;
  const status = /^attributes\.status = '([A-Z]+)'$/.exec(filter);
  if (status) return (run) => run.info.status === status[1];
  const ended = /^attributes\.end_time >= (\d+)$/.exec(filter);
  if (ended) {
    const since = Number(ended[1]);
    return (run) => {
      const end = num(run.info.end_time);
      return end !== undefined && end >= since;
    };
  }
  return `Invalid filter '${filter}'`;
}

export async function startFakeMlflow(): Promise<FakeMlflow> {
  const experiments = new Map<string, { id: string; stage: string }>();
  const runs: StoredRun[] = [];
  const requests: MlflowRecorded[] = [];
  const scripted = new Map<string, { status: number; body: unknown }[]>();
  let nextExperimentId = 900;

  function experimentBody(name: string, id: string, stage: string): JsonObject {
    const body = mlflowFixture<{ experiment: JsonObject }>("experiments-get-by-name.response");
    return {
      experiment: {
        ...body.experiment,
        experiment_id: id,
        name,
        artifact_location: `mlflow-artifacts:/${id}`,
        lifecycle_stage: stage,
      },
    };
  }

  function find(runId: unknown): StoredRun | undefined {
    return runs.find((r) => r.info.run_id === runId);
  }

  function answer(method: string, path: string, query: Record<string, string>, body: JsonObject | null) {
    const route = `${method} ${path}`;
    const next = scripted.get(route)?.shift();
    if (next) return next;
    const b = body ?? {};
    switch (route) {
      case "GET experiments/get-by-name": {
        const name = query.experiment_name ?? "";
        const found = experiments.get(name);
        if (found === undefined) {
          const error = mlflowFixture<JsonObject>("experiments-get-by-name.error-404");
          return {
            status: 404,
            body: { ...error, message: `Could not find experiment with name '${name}'` },
          };
        }
        return { status: 200, body: experimentBody(name, found.id, found.stage) };
      }
      case "POST experiments/create": {
        const name = String(b.name);
        if (experiments.has(name)) {
          return { status: 400, body: mlflowFixture("experiments-create.error-already-exists") };
        }
        const id = String(nextExperimentId++);
        experiments.set(name, { id, stage: "active" });
        return { status: 200, body: { experiment_id: id } };
      }
      case "POST runs/search": {
        const ids = (b.experiment_ids as string[] | undefined) ?? [];
        const filter = filterOf(String(b.filter ?? ""));
        if (typeof filter === "string") {
          return { status: 400, body: { error_code: "INVALID_PARAMETER_VALUE", message: filter } };
        }
        const max = Number(b.max_results ?? 1000);
        const offset =
          typeof b.page_token === "string"
            ? (JSON.parse(Buffer.from(b.page_token, "base64").toString("utf8")) as { offset: number }).offset
            : 0;
        const matching = runs
          .filter((r) => ids.includes(String(r.info.experiment_id)) && r.info.lifecycle_stage !== "deleted")
          .filter(filter)
          // MLflow's default order: start_time DESC, then run_id.
          .sort(
            (x, y) =>
              (num(y.info.start_time) ?? 0) - (num(x.info.start_time) ?? 0) ||
              String(x.info.run_id).localeCompare(String(y.info.run_id)),
          );
        const page = matching.slice(offset, offset + max);
        if (page.length === 0) return { status: 200, body: mlflowFixture("runs-search.response-empty") };
        return {
          status: 200,
          body: {
            runs: clone(page),
            ...(page.length === max ? { next_page_token: token(offset + max) } : {}),
          },
        };
      }
      case "GET runs/get": {
        const run = find(query.run_id);
        if (run === undefined) {
          return {
            status: 404,
            body: { error_code: "RESOURCE_DOES_NOT_EXIST", message: `Run '${query.run_id}' not found` },
          };
        }
        return { status: 200, body: { run: clone(run) } };
      }
      case "POST runs/log-batch": {
        const run = find(b.run_id);
        if (run === undefined) {
          return {
            status: 404,
            body: { error_code: "RESOURCE_DOES_NOT_EXIST", message: `Run '${b.run_id}' not found` },
          };
        }
        const merge = (kind: "params" | "tags" | "metrics", entries: unknown) => {
          const list = ((run.data[kind] as JsonObject[] | undefined) ?? []).filter(
            (e) => !((entries as JsonObject[] | undefined) ?? []).some((n) => n.key === e.key),
          );
          run.data[kind] = [...list, ...((entries as JsonObject[] | undefined) ?? [])];
        };
        merge("params", b.params);
        merge("tags", b.tags);
        merge("metrics", b.metrics);
        return { status: 200, body: mlflowFixture("runs-log-batch.response") };
      }
      case "POST runs/update": {
        const run = find(b.run_id);
        if (run === undefined) return { status: 404, body: { error_code: "RESOURCE_DOES_NOT_EXIST" } };
        run.info.status = b.status;
        if (b.end_time !== undefined) run.info.end_time = b.end_time;
        return { status: 200, body: { run_info: clone(run.info) } };
      }
      default:
        return { status: 404, body: { error_code: "ENDPOINT_NOT_FOUND", message: `no ${route}` } };
    }
  }

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname.startsWith(API) ? url.pathname.slice(API.length) : url.pathname;
    const text = Buffer.concat(chunks).toString("utf8");
    const body = text === "" ? null : (JSON.parse(text) as JsonObject);
    const query = Object.fromEntries(url.searchParams);
    requests.push({ method: req.method ?? "", path, query, headers: req.headers, body });
    const { status, body: out } = answer(req.method ?? "", path, query, body);
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(out));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    addExperiment(name, id, lifecycleStage = "active") {
      experiments.set(name, { id, stage: lifecycleStage });
    },
    addRuns(added) {
      for (const run of added) runs.push(clone(run) as unknown as StoredRun);
    },
    run(runId) {
      const run = find(runId);
      if (run === undefined) throw new Error(`no run ${runId}`);
      return run;
    },
    script(route, status, body) {
      scripted.set(route, [...(scripted.get(route) ?? []), { status, body }]);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The runs of test/fixtures/mlflow/runs-search.response, by run name. */
export function fixtureRuns(): JsonObject[] {
  return mlflowFixture<{ runs: JsonObject[] }>("runs-search.response").runs;
}
