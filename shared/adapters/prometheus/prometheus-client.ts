import { MetricsSourceError } from "#ports/metrics-source.ts";

/**
 * The one Prometheus HTTP API call the metrics source needs: a range query
 * (POST /api/v1/query_range, form-encoded), with its errors mapped to MetricsSourceError.
 * Works against Prometheus and the API-compatible stores (Thanos, Mimir, Cortex, VictoriaMetrics)
 * when `baseUrl` includes their path prefix.
 */

export interface MatrixSeries {
  metric: Record<string, string>;
  /** [unix seconds, value as Prometheus writes it ("0.95", "NaN", "+Inf")]. */
  values: [number, string][];
}

export interface RangeQuery {
  query: string;
  /** Unix seconds. */
  start: number;
  end: number;
  stepSeconds: number;
}

export interface PrometheusClientOptions {
  baseUrl: string;
  fetch?: typeof globalThis.fetch;
  timeoutMs?: number;
  /** Extra request headers (e.g. a tenant id for Mimir); never logged. */
  headers?: Record<string, string>;
}

export interface PrometheusClient {
  queryRange(query: RangeQuery): Promise<MatrixSeries[]>;
}

/** errorType values after which the same query may succeed later. */
const TRANSIENT_ERROR_TYPES = new Set(["timeout", "canceled", "unavailable", "internal"]);

function transientStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

interface PrometheusAnswer {
  status?: unknown;
  errorType?: unknown;
  error?: unknown;
  data?: { resultType?: unknown; result?: unknown };
}

function isMatrix(result: unknown): result is MatrixSeries[] {
  return (
    Array.isArray(result) &&
    result.every(
      (s: unknown) =>
        typeof s === "object" &&
        s !== null &&
        typeof (s as MatrixSeries).metric === "object" &&
        Array.isArray((s as MatrixSeries).values),
    )
  );
}

export function createPrometheusClient(options: PrometheusClientOptions): PrometheusClient {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const url = `${options.baseUrl.replace(/\/+$/, "")}/api/v1/query_range`;

  return {
    async queryRange({ query, start, end, stepSeconds }) {
      const body = new URLSearchParams({
        query,
        start: String(start),
        end: String(end),
        step: String(stepSeconds),
      });
      let response: Response;
      let text: string;
      try {
        response = await fetchImpl(url, {
          method: "POST",
          headers: {
            ...options.headers,
            "content-type": "application/x-www-form-urlencoded",
            accept: "application/json",
          },
          body: body.toString(),
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await response.text();
      } catch (error) {
        const timedOut = error instanceof Error && error.name === "TimeoutError";
        const why = timedOut ? `timed out after ${timeoutMs} ms` : `failed: ${String(error)}`;
        throw new MetricsSourceError("unavailable", `Prometheus query_range ${why}`, {}, { cause: error });
      }

      let answer: PrometheusAnswer;
      try {
        answer = JSON.parse(text) as PrometheusAnswer;
      } catch (error) {
        throw new MetricsSourceError(
          transientStatus(response.status) ? "unavailable" : "invalid",
          `Prometheus query_range answered HTTP ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
          { status: response.status },
          { cause: error },
        );
      }
      if (answer.status === "error" || !response.ok) {
        const errorType = typeof answer.errorType === "string" ? answer.errorType : undefined;
        const detail = typeof answer.error === "string" ? answer.error : text.slice(0, 200);
        const code =
          transientStatus(response.status) || TRANSIENT_ERROR_TYPES.has(errorType ?? "")
            ? "unavailable"
            : "invalid";
        throw new MetricsSourceError(
          code,
          `Prometheus query_range failed (HTTP ${response.status}${errorType ? `, ${errorType}` : ""}): ${detail}`,
          { status: response.status, ...(errorType === undefined ? {} : { errorType }) },
        );
      }
      if (
        answer.status !== "success" ||
        answer.data?.resultType !== "matrix" ||
        !isMatrix(answer.data.result)
      ) {
        throw new MetricsSourceError(
          "invalid",
          `Prometheus query_range answered without a matrix result (resultType ${String(answer.data?.resultType)})`,
          { status: response.status },
        );
      }
      return answer.data.result;
    },
  };
}
