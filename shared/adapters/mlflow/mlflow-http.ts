import { z } from "zod";
import { LOCAL_ERROR_CODES, MlflowError } from "./mlflow-error.ts";

/** What every MLflow REST client here is built from. */
export interface MlflowHttpOptions {
  /** The tracking server's root (MLFLOW_TRACKING_URI), e.g. "http://127.0.0.1:5000"; /api/2.0/mlflow/ is added. */
  baseUrl: string;
  fetch?: typeof globalThis.fetch;
  /** Sent as "Authorization: Bearer <token>"; never logged or put in an error. */
  token?: string;
  /** Per request, reading the answer included. */
  timeoutMs: number;
}

export type MlflowCall = <T>(
  method: "GET" | "POST",
  path: string,
  schema: z.ZodType<T>,
  payload: Record<string, unknown>,
) => Promise<T>;

const API_PATH = "/api/2.0/mlflow/";

// int64 fields come back as JSON numbers from the MLflow server and as strings through protobuf JSON
// gateways (Databricks): both are accepted. Ids are strings, read as such even when numeric.
export const int64 = z.union([z.number().int(), z.string().regex(/^-?\d+$/)]).transform((v) => Number(v));
export const mlflowId = z.union([z.string().min(1), z.number().int()]).transform(String);
/** Milliseconds since 1970 that a Date can hold (a seconds or nanoseconds figure is refused, not misread). */
const epochMs = z
  .union([z.number(), z.string().regex(/^-?\d+$/)])
  .transform((v) => Number(v))
  .refine((ms) => Number.isInteger(ms) && Math.abs(ms) <= 8.64e15, "not a time in milliseconds since 1970");
// proto3 JSON leaves out empty strings and empty lists; a gateway may write null for them.
const keyValues = z
  .array(
    z.object({
      key: z.string(),
      value: z
        .string()
        .nullish()
        .transform((v) => v ?? ""),
    }),
  )
  .optional()
  .default([]);
// A double: a JSON number, or "NaN"/"Infinity" as protobuf JSON writes the values JSON cannot hold.
const double = z.union([z.number(), z.string()]).transform((v) => Number(v));
const metrics = z
  .array(
    z.object({
      key: z.string(),
      value: double.optional().default(0),
      timestamp: epochMs.optional().default(0),
      step: int64.optional().default(0),
    }),
  )
  .optional()
  .default([]);

export const experimentResponse = z.object({
  experiment: z.object({
    experiment_id: mlflowId,
    name: z.string(),
    lifecycle_stage: z.string().optional(),
    creation_time: int64.optional(),
    last_update_time: int64.optional(),
  }),
});

export const runSchema = z.object({
  info: z.object({
    run_id: mlflowId.optional(),
    run_uuid: mlflowId.optional(),
    experiment_id: mlflowId,
    status: z.string().optional().default("RUNNING"),
    start_time: epochMs.optional(),
    end_time: epochMs.optional(),
  }),
  data: z
    .object({ params: keyValues, tags: keyValues, metrics })
    .optional()
    .default({ params: [], tags: [], metrics: [] }),
});
export type MlflowRun = z.infer<typeof runSchema>;
export const runResponse = z.object({ run: runSchema });
/** runs/search: proto3 JSON leaves out an empty `runs` and an empty `next_page_token` (no more pages). */
export const searchResponse = z.object({
  runs: z.array(runSchema).optional().default([]),
  next_page_token: z.string().optional(),
});
/** runs/search with each run left to be read on its own, so one malformed run is not the page's fault. */
export const searchPageResponse = z.object({
  runs: z.array(z.unknown()).optional().default([]),
  next_page_token: z.string().optional(),
});

/** The run's id: run_id, or the deprecated run_uuid older servers send alone. */
export function runIdOf(run: MlflowRun): string {
  const runId = run.info.run_id ?? run.info.run_uuid;
  if (runId === undefined) throw new MlflowError(LOCAL_ERROR_CODES.badResponse, "run without run_id");
  return runId;
}

/**
 * One MLflow REST call: JSON in (query string for GET), JSON out checked against `schema`. A non-2xx
 * answer becomes an MlflowError with the server's error_code; no answer within timeoutMs a
 * retryable TIMEOUT; a network failure a retryable UNAVAILABLE.
 */
export function createMlflowCall(options: MlflowHttpOptions): MlflowCall {
  const fetchFn = options.fetch ?? globalThis.fetch;
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
    throw new MlflowError(LOCAL_ERROR_CODES.invalidArgument, "timeoutMs must be a positive number");
  }
  let root: string;
  try {
    root = new URL(options.baseUrl).href.replace(/\/+$/, "");
  } catch (cause) {
    throw new MlflowError(LOCAL_ERROR_CODES.invalidArgument, "baseUrl is not a URL", { cause });
  }

  return async function call<T>(
    method: "GET" | "POST",
    path: string,
    schema: z.ZodType<T>,
    payload: Record<string, unknown>,
  ): Promise<T> {
    const url = new URL(`${root}${API_PATH}${path}`);
    const headers: Record<string, string> = { accept: "application/json" };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (method === "GET") {
      for (const [name, value] of Object.entries(payload)) url.searchParams.set(name, String(value));
    } else {
      headers["content-type"] = "application/json";
      body = JSON.stringify(payload);
    }
    const signal = AbortSignal.timeout(options.timeoutMs);
    let status: number;
    let text: string;
    try {
      const response = await fetchFn(url, { method, headers, body, signal });
      status = response.status;
      text = await response.text();
    } catch (cause) {
      if (signal.aborted) {
        throw new MlflowError(
          LOCAL_ERROR_CODES.timeout,
          `${method} ${path}: no answer within ${options.timeoutMs} ms`,
          { cause },
        );
      }
      throw new MlflowError(LOCAL_ERROR_CODES.unavailable, `${method} ${path}: request failed`, { cause });
    }
    let parsed: unknown = {};
    if (text.trim() !== "") {
      try {
        parsed = JSON.parse(text);
      } catch (cause) {
        if (status >= 200 && status < 300) {
          throw new MlflowError(LOCAL_ERROR_CODES.badResponse, `${method} ${path}: answer is not JSON`, {
            cause,
            status,
          });
        }
        parsed = {};
      }
    }
    if (status < 200 || status >= 300) {
      const error = parsed as { error_code?: unknown; message?: unknown };
      const code = typeof error.error_code === "string" ? error.error_code : `HTTP_${status}`;
      const message = typeof error.message === "string" ? error.message : text.slice(0, 500);
      throw new MlflowError(code, `${method} ${path}: ${code}: ${message}`, { status });
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      throw new MlflowError(
        LOCAL_ERROR_CODES.badResponse,
        `${method} ${path}: unexpected answer: ${result.error.issues[0]?.message ?? "invalid"}`,
        { cause: result.error, status },
      );
    }
    return result.data;
  };
}
