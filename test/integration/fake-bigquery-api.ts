import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { BigQuery } from "@google-cloud/bigquery";
import { OAuth2Client } from "google-auth-library";
import { createBigQueryClient } from "#adapters/bigquery/bigquery-client.ts";

/**
 * Just enough of the BigQuery REST API (v2) for the real @google-cloud/bigquery client:
 *   POST /projects/{p}/datasets/{d}/tables/{t}/insertAll   tabledata.insertAll
 *   POST /projects/{p}/queries                             jobs.query (the client's fast path)
 *   POST /projects/{p}/jobs                                jobs.insert (the client's job path)
 *   GET  /projects/{p}/queries/{jobId}                     jobs.getQueryResults
 * Every request is recorded. Answers can be scripted per route (a 503, a 400, partial insert
 * errors); query results are scripted per query name (the job label `query` the adapter sets).
 * Anything else is answered 404 and recorded in `unknown`, so a test can assert it stayed empty.
 */

export type Route = "insertAll" | "jobs.query" | "jobs.insert" | "getQueryResults";

export interface RecordedRequest {
  route: Route | "unknown";
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface ScriptedResponse {
  status: number;
  body: unknown;
}

export interface FakeField {
  name: string;
  type: string;
}

/** Result of one named query; values are what the REST API sends (strings; TIMESTAMP in µs). */
export interface FakeQueryResult {
  fields: FakeField[];
  rows: (string | null)[][];
  /** How many getQueryResults polls answer "not complete" before the rows (jobs.query included). */
  pendingPolls?: number;
}

export interface FakeBigQueryApi {
  /** Pass as the client's apiEndpoint. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  readonly unknown: RecordedRequest[];
  /** The next calls of `route` get these answers, in order, before the normal behaviour resumes. */
  script(route: Route, ...responses: ScriptedResponse[]): void;
  /** What the query named `name` returns (empty result when not set). */
  onQuery(name: string, result: FakeQueryResult): void;
  of(route: Route): RecordedRequest[];
  close(): Promise<void>;
}

export function apiError(status: number, reason: string, message: string): ScriptedResponse {
  return {
    status,
    body: { error: { code: status, message, errors: [{ reason, message, domain: "global" }] } },
  };
}

interface Job {
  projectId: string;
  jobId: string;
  location: string | undefined;
  name: string;
  pollsLeft: number;
}

const ROUTES: { route: Route; method: string; pattern: RegExp }[] = [
  {
    route: "insertAll",
    method: "POST",
    pattern: /^\/bigquery\/v2\/projects\/[^/]+\/datasets\/[^/]+\/tables\/[^/]+\/insertAll$/,
  },
  { route: "jobs.query", method: "POST", pattern: /^\/bigquery\/v2\/projects\/([^/]+)\/queries$/ },
  { route: "jobs.insert", method: "POST", pattern: /^\/bigquery\/v2\/projects\/([^/]+)\/jobs$/ },
  {
    route: "getQueryResults",
    method: "GET",
    pattern: /^\/bigquery\/v2\/projects\/([^/]+)\/queries\/([^/]+)$/,
  },
];

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text === "" ? undefined : JSON.parse(text);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=UTF-8" });
  res.end(JSON.stringify(body));
}

export async function startFakeBigQueryApi(): Promise<FakeBigQueryApi> {
  const requests: RecordedRequest[] = [];
  const unknown: RecordedRequest[] = [];
  const scripted = new Map<Route, ScriptedResponse[]>();
  const results = new Map<string, FakeQueryResult>();
  const jobs = new Map<string, Job>();

  function resultBody(job: Job): Record<string, unknown> {
    const jobReference = { projectId: job.projectId, jobId: job.jobId, location: job.location };
    if (job.pollsLeft > 0) {
      job.pollsLeft -= 1;
      return { kind: "bigquery#getQueryResultsResponse", jobReference, jobComplete: false };
    }
    const result = results.get(job.name) ?? { fields: [], rows: [] };
    return {
      kind: "bigquery#getQueryResultsResponse",
      jobReference,
      jobComplete: true,
      schema: { fields: result.fields.map((f) => ({ ...f, mode: "NULLABLE" })) },
      rows: result.rows.map((row) => ({ f: row.map((v) => ({ v })) })),
      totalRows: String(result.rows.length),
    };
  }

  function newJob(
    projectId: string,
    location: string | undefined,
    name: string,
    jobId: string = randomUUID(),
  ): Job {
    const job = { projectId, jobId, location, name, pollsLeft: results.get(name)?.pendingPolls ?? 0 };
    jobs.set(jobId, job);
    return job;
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const body = await readBody(req);
      const match = ROUTES.map((r) => ({ ...r, m: r.pattern.exec(url.pathname) })).find(
        (r) => r.m !== null && r.method === req.method,
      );
      const recorded: RecordedRequest = {
        route: match?.route ?? "unknown",
        method: req.method ?? "",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
      };
      requests.push(recorded);
      if (!match?.m) {
        unknown.push(recorded);
        send(res, 404, {
          error: { code: 404, message: `fake BigQuery: no route ${req.method} ${url.pathname}` },
        });
        return;
      }
      const next = scripted.get(match.route)?.shift();
      if (next) {
        send(res, next.status, next.body);
        return;
      }
      const payload = (body ?? {}) as Record<string, unknown>;
      switch (match.route) {
        case "insertAll":
          send(res, 200, { kind: "bigquery#tableDataInsertAllResponse" });
          return;
        case "jobs.query": {
          const labels = (payload.labels ?? {}) as Record<string, string>;
          const job = newJob(match.m[1] ?? "", payload.location as string | undefined, labels.query ?? "");
          send(res, 200, { ...resultBody(job), kind: "bigquery#queryResponse" });
          return;
        }
        case "jobs.insert": {
          const reference = payload.jobReference as { projectId: string; jobId: string; location?: string };
          const configuration = payload.configuration as { labels?: Record<string, string> };
          const job = newJob(
            reference.projectId,
            reference.location,
            configuration.labels?.query ?? "",
            reference.jobId,
          );
          send(res, 200, {
            kind: "bigquery#job",
            id: `${job.projectId}:${job.location}.${job.jobId}`,
            jobReference: { projectId: job.projectId, jobId: job.jobId, location: job.location },
            configuration,
            status: { state: "RUNNING" },
          });
          return;
        }
        case "getQueryResults": {
          const job = jobs.get(match.m[2] ?? "");
          if (!job) {
            send(res, 404, { error: { code: 404, message: `Not found: Job ${match.m[2]}` } });
            return;
          }
          send(res, 200, resultBody(job));
          return;
        }
      }
    })().catch((error: unknown) => send(res, 500, { error: { code: 500, message: String(error) } }));
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    unknown,
    script(route, ...responses) {
      scripted.set(route, [...(scripted.get(route) ?? []), ...responses]);
    },
    onQuery(name, result) {
      results.set(name, result);
    },
    of(route) {
      return requests.filter((r) => r.route === route);
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

/** The real client pointed at the fake API: a fixed token (no metadata server), no retries. */
export function fakeApiClient(api: FakeBigQueryApi, projectId = "finops-test"): BigQuery {
  return createBigQueryClient({
    projectId,
    apiEndpoint: api.url,
    authClient: new OAuth2Client({ credentials: { access_token: "t", expiry_date: Date.now() + 3_600_000 } }),
    retry: { maxRetries: 0, retryDelayMultiplier: 0.01, maxRetryDelaySeconds: 1, totalTimeoutSeconds: 5 },
  });
}
