import type { FunctionSpec } from "../functions/registry.ts";

export type Ingress = "ALLOW_ALL" | "ALLOW_INTERNAL_ONLY" | "ALLOW_INTERNAL_AND_GCLB";

/** How a function's instances are sized and scaled. */
export interface FunctionSettings {
  availableMemory: string;
  /** vCPUs as Cloud Run takes them ("1", "2"); absent lets Cloud Functions pick one for the memory. */
  availableCpu?: string;
  /** Requests one instance serves at once. Above 1, gen2 requires at least one whole vCPU. */
  concurrency: number;
  timeoutSeconds: number;
  minInstances: number;
  maxInstances: number;
  ingress: Ingress;
}

/**
 * Ingest (topic and HTTP): most of a request is waiting on BigQuery streaming inserts and Pub/Sub, so
 * one instance with one whole vCPU serving 8 requests at once is cheaper than 8 instances with a third
 * of a vCPU each, and gen2 only allows concurrency above 1 with availableCpu >= 1. 512Mi holds the
 * clients and a batch of events; 60 s is far above a batch's insert time and short enough that a
 * stuck request is retried soon. 20 instances cap spend and BigQuery streaming parallelism.
 * Topic-triggered functions only take traffic from Eventarc (internal); HTTP ingress is configurable.
 */
export const INGEST_SETTINGS: FunctionSettings = {
  availableMemory: "512Mi",
  availableCpu: "1",
  concurrency: 8,
  timeoutSeconds: 60,
  minInstances: 0,
  maxInstances: 20,
  ingress: "ALLOW_INTERNAL_ONLY",
};

/**
 * Refresh: one run at a time (one instance, concurrency 1) because the watermark lives in the
 * instance and two rollup transactions on the same hours would conflict; BigQuery does the work, so
 * the default CPU share of 512Mi suffices. Five minutes for a rebuild after a backfill.
 */
export const REFRESH_SETTINGS: FunctionSettings = {
  availableMemory: "512Mi",
  concurrency: 1,
  timeoutSeconds: 300,
  minInstances: 0,
  maxInstances: 1,
  ingress: "ALLOW_INTERNAL_ONLY",
};

/**
 * Functions whose load differs from their trigger kind's default. notifySlack: Slack allows about one
 * message a second per channel, so a few instances of 4 requests each post as fast as Slack takes
 * them, and a burst waits in Pub/Sub instead of in rate-limit retries. The routers see a handful of
 * notifications an hour. Reports and the dashboard hold a month of hourly rows while they format them
 * (1Gi) and are read by people, so a few instances do. Reconciliation reads a day of the billing
 * export and the rollup per judged day over a trailing week: longer than a rollup refresh.
 */
export const FUNCTION_SETTINGS: Readonly<Record<string, Partial<FunctionSettings>>> = {
  notifySlack: { concurrency: 4, maxInstances: 3 },
  routeGcpBudget: { availableMemory: "256Mi", availableCpu: undefined, concurrency: 1, maxInstances: 3 },
  routeAwsAnomaly: { availableMemory: "256Mi", availableCpu: undefined, concurrency: 1, maxInstances: 3 },
  costReport: { availableMemory: "1Gi", timeoutSeconds: 120, maxInstances: 5 },
  dashboard: { availableMemory: "1Gi", timeoutSeconds: 120, maxInstances: 5 },
  reconcileDaily: { availableMemory: "1Gi", timeoutSeconds: 900 },
};

/** Defaults by trigger kind, then the function's own; scheduled jobs call in from Cloud Scheduler (internal). */
export function defaultSettings(spec: FunctionSpec): FunctionSettings {
  const byKind = spec.trigger.kind === "schedule" ? REFRESH_SETTINGS : INGEST_SETTINGS;
  return { ...byKind, ...FUNCTION_SETTINGS[spec.target] };
}

export class FunctionSettingsError extends Error {
  override readonly name = "FunctionSettingsError";
}

/** Defaults for the spec, then the overrides; refuses combinations gen2 would refuse at deploy time. */
export function resolveSettings(
  spec: FunctionSpec,
  overrides: Partial<FunctionSettings> = {},
): FunctionSettings {
  const settings = { ...defaultSettings(spec), ...overrides };
  const cpu = settings.availableCpu === undefined ? undefined : Number(settings.availableCpu);
  if (cpu !== undefined && !(cpu > 0)) {
    throw new FunctionSettingsError(
      `${spec.target}: availableCpu ${settings.availableCpu} is not a number of vCPUs`,
    );
  }
  if (!Number.isInteger(settings.concurrency) || settings.concurrency < 1 || settings.concurrency > 1000) {
    throw new FunctionSettingsError(`${spec.target}: concurrency must be an integer from 1 to 1000`);
  }
  if (settings.concurrency > 1 && (cpu === undefined || cpu < 1)) {
    throw new FunctionSettingsError(
      `${spec.target}: concurrency ${settings.concurrency} needs availableCpu >= 1`,
    );
  }
  const maxTimeout = spec.trigger.kind === "topic" ? 540 : 3600;
  if (
    !Number.isInteger(settings.timeoutSeconds) ||
    settings.timeoutSeconds < 1 ||
    settings.timeoutSeconds > maxTimeout
  ) {
    throw new FunctionSettingsError(
      `${spec.target}: timeoutSeconds must be an integer from 1 to ${maxTimeout}`,
    );
  }
  if (settings.minInstances < 0 || settings.maxInstances < Math.max(1, settings.minInstances)) {
    throw new FunctionSettingsError(
      `${spec.target}: need 0 <= minInstances <= maxInstances and maxInstances >= 1`,
    );
  }
  return settings;
}

export interface WarehouseEnv {
  project: string;
  dataset: string;
  location: string;
}

/** The configuration file the source archive carries at its root (infra/deployed-config.ts writes it). */
export const DEPLOYED_CONFIG_FILE = "finops.config.json";

/**
 * What every deployed function reads (shared/runtime/env.ts): its configuration file, BigQuery and
 * Pub/Sub adapters, the dataset and where its jobs run, the project, JSON logs. No secrets: those are
 * Secret Manager references, added per function.
 */
export function functionEnvironment(env: WarehouseEnv): Record<string, string> {
  return {
    FINOPS_CONFIG: DEPLOYED_CONFIG_FILE,
    FINOPS_WAREHOUSE: "bigquery",
    FINOPS_BUS: "pubsub",
    FINOPS_BQ_DATASET: env.dataset,
    FINOPS_BQ_LOCATION: env.location,
    FINOPS_LOG_FORMAT: "json",
    GOOGLE_CLOUD_PROJECT: env.project,
  };
}
