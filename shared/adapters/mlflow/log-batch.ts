import { LOCAL_ERROR_CODES, MlflowError } from "./mlflow-error.ts";

/** Server-side limits of runs/log-batch (mlflow/utils/validation.py). */
export interface LogBatchLimits {
  maxMetrics: number;
  maxParams: number;
  maxTags: number;
  /** Metrics + params + tags in one request. */
  maxEntities: number;
  /** Request body size in bytes. */
  maxBytes: number;
  maxKeyLength: number;
  /** 6000 on current servers, 500 on older ones: lower it for an old server. */
  maxParamValueLength: number;
  maxTagValueLength: number;
}

export const LOG_BATCH_LIMITS: Readonly<LogBatchLimits> = Object.freeze({
  maxMetrics: 1000,
  maxParams: 100,
  maxTags: 100,
  maxEntities: 1000,
  maxBytes: 1_000_000,
  maxKeyLength: 250,
  maxParamValueLength: 6000,
  maxTagValueLength: 5000,
});

export interface Metric {
  key: string;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step: number;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface LogBatchRequest {
  run_id: string;
  metrics: Metric[];
  params: KeyValue[];
  tags: KeyValue[];
}

const KEY_CHARSET = /^[/\w.\- ]*$/;

function invalid(message: string): MlflowError {
  return new MlflowError(LOCAL_ERROR_CODES.invalidArgument, message);
}

/** MLflow refuses a name that `posixpath.normpath` would change, or that climbs or starts at the root. */
function normalizesAsPath(key: string): boolean {
  if (key === "" || key.startsWith("/") || key.endsWith("/")) return true;
  return key.split("/").some((segment) => segment === "" || segment === "." || segment === "..");
}

function checkKey(kind: string, key: string, limits: LogBatchLimits): void {
  if (key.length > limits.maxKeyLength) {
    throw invalid(`${kind} key ${JSON.stringify(key)} is longer than ${limits.maxKeyLength} characters`);
  }
  if (!KEY_CHARSET.test(key) || normalizesAsPath(key)) {
    throw invalid(
      `${kind} key ${JSON.stringify(key)} must use letters, digits, _ - . / and spaces, and not read as a path`,
    );
  }
}

/** Params are write-once and one batch may not name a key twice: equal repeats collapse, others fail. */
function uniqueByKey(kind: string, entries: readonly KeyValue[]): KeyValue[] {
  const seen = new Map<string, string>();
  for (const { key, value } of entries) {
    const before = seen.get(key);
    if (before !== undefined && before !== value) {
      throw invalid(`${kind} ${JSON.stringify(key)} is given twice with different values`);
    }
    seen.set(key, value);
  }
  return [...seen].map(([key, value]) => ({ key, value }));
}

const byteLength = (value: unknown) => Buffer.byteLength(JSON.stringify(value), "utf8");

/**
 * Validates a run's metrics, params and tags as the server would and splits them into as few
 * runs/log-batch requests as the limits allow (counts per kind, entities and bytes per request).
 * Tags that repeat a key keep the last value, as the server would.
 */
export function planLogBatches(
  runId: string,
  entries: { metrics?: readonly Metric[]; params?: readonly KeyValue[]; tags?: readonly KeyValue[] },
  limits: LogBatchLimits = LOG_BATCH_LIMITS,
): LogBatchRequest[] {
  const metrics = [...(entries.metrics ?? [])];
  const params = uniqueByKey("param", entries.params ?? []);
  const tags = [...new Map((entries.tags ?? []).map((t) => [t.key, t.value])).entries()].map(
    ([key, value]) => ({ key, value }),
  );
  for (const metric of metrics) {
    checkKey("metric", metric.key, limits);
    if (!Number.isFinite(metric.value)) {
      throw invalid(`metric ${metric.key} is ${metric.value}: JSON carries finite numbers only`);
    }
    if (!Number.isSafeInteger(metric.timestamp) || !Number.isSafeInteger(metric.step)) {
      throw invalid(`metric ${metric.key}: timestamp and step must be whole numbers`);
    }
  }
  for (const param of params) {
    checkKey("param", param.key, limits);
    if (param.value.length > limits.maxParamValueLength) {
      throw invalid(`param ${param.key} is longer than ${limits.maxParamValueLength} characters`);
    }
  }
  for (const tag of tags) {
    checkKey("tag", tag.key, limits);
    if (tag.value.length > limits.maxTagValueLength) {
      throw invalid(`tag ${tag.key} is longer than ${limits.maxTagValueLength} characters`);
    }
  }

  const empty = (): LogBatchRequest => ({ run_id: runId, metrics: [], params: [], tags: [] });
  const envelope = byteLength(empty());
  const batches: LogBatchRequest[] = [];
  let batch = empty();
  let bytes = envelope;
  const add = (kind: "metrics" | "params" | "tags", item: Metric | KeyValue, max: number) => {
    // One more item costs its JSON and a comma.
    const size = byteLength(item) + 1;
    const entities = batch.metrics.length + batch.params.length + batch.tags.length;
    if (batch[kind].length >= max || entities >= limits.maxEntities || bytes + size > limits.maxBytes) {
      batches.push(batch);
      batch = empty();
      bytes = envelope;
    }
    (batch[kind] as (Metric | KeyValue)[]).push(item);
    bytes += size;
  };
  for (const metric of metrics) add("metrics", metric, limits.maxMetrics);
  for (const param of params) add("params", param, limits.maxParams);
  for (const tag of tags) add("tags", tag, limits.maxTags);
  if (batch.metrics.length + batch.params.length + batch.tags.length > 0) batches.push(batch);
  return batches;
}
