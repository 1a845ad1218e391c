import { BigQuery, type BigQueryOptions } from "@google-cloud/bigquery";

/**
 * How long the client may spend retrying one request (rate limits, 5xx, dropped connections).
 * A function has a bounded lifetime, so this stays well inside it; past it the call fails and the
 * bus redelivers the message later. The client's own default allows 3 retries over 10 minutes.
 */
export interface BigQueryRetryPolicy {
  /** Retries after the first attempt; 0 turns retrying off. */
  maxRetries: number;
  /** Give up retrying once this much time has passed since the first attempt. */
  totalTimeoutSeconds: number;
  /** Upper bound of one backoff pause. */
  maxRetryDelaySeconds: number;
  /** The n-th pause is multiplier^n seconds plus up to a second of jitter. */
  retryDelayMultiplier: number;
}

export const FUNCTION_RETRY_POLICY: BigQueryRetryPolicy = Object.freeze({
  maxRetries: 2,
  totalTimeoutSeconds: 20,
  maxRetryDelaySeconds: 5,
  retryDelayMultiplier: 2,
});

export interface BigQueryClientOptions {
  /** The project jobs run and bill in; from the environment (GOOGLE_CLOUD_PROJECT, ADC) when absent. */
  projectId?: string;
  /** Where the dataset lives ("EU", "us-central1"); jobs must run there. */
  location?: string;
  /** Another base URL for the API (a local test server); the real endpoint when absent. */
  apiEndpoint?: string;
  /** Credentials other than Application Default Credentials (e.g. a fixed token in tests). */
  authClient?: BigQueryOptions["authClient"];
  retry?: Partial<BigQueryRetryPolicy>;
  /** Per-HTTP-request timeout; a query waits server-side at most ~10 s a call, then polls. */
  requestTimeoutMs?: number;
}

/** A BigQuery client with a retry policy that fits inside a function invocation. */
export function createBigQueryClient(options: BigQueryClientOptions = {}): BigQuery {
  const retry = { ...FUNCTION_RETRY_POLICY, ...options.retry };
  // The client reads `maxRetries: 0` as "use the default (3)": turning retries off needs autoRetry.
  const settings: BigQueryOptions & { timeout?: number } = {
    retryOptions: {
      autoRetry: retry.maxRetries > 0,
      maxRetries: Math.max(retry.maxRetries, 1),
      totalTimeout: retry.totalTimeoutSeconds,
      maxRetryDelay: retry.maxRetryDelaySeconds,
      retryDelayMultiplier: retry.retryDelayMultiplier,
    },
    timeout: options.requestTimeoutMs ?? 60_000,
  };
  if (options.projectId !== undefined) settings.projectId = options.projectId;
  if (options.location !== undefined) settings.location = options.location;
  if (options.apiEndpoint !== undefined) settings.apiEndpoint = options.apiEndpoint;
  if (options.authClient !== undefined) settings.authClient = options.authClient;
  return new BigQuery(settings);
}
