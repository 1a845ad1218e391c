import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { alertRoutingSchema } from "#domain/alerts/alert-routing.ts";
import { allocationSettingsSchema } from "#domain/allocation/allocation-settings.ts";
import { awsAnomaliesSettingsSchema } from "#domain/aws-anomaly/aws-anomaly-settings.ts";
import { type Budget, BudgetConfigError, parseBudgets } from "#domain/budgets/budget-config.ts";
import { gcpBudgetsSettingsSchema } from "#domain/gcp-budget/gcp-budget-settings.ts";
import { type Deployment, deploymentsSchema } from "#domain/otlp/deployments.ts";
import { type RegionFallback, regionFallbackSchema } from "#domain/pricing/catalog.ts";
import { reconciliationSettingsSchema } from "#domain/reconciliation/reconciliation-settings.ts";
import { scorecardSettingsSchema } from "#domain/scorecard/scorecard-settings.ts";
import { mlflowImportSettingsSchema } from "#domain/training/mlflow-import-settings.ts";
import type { Env } from "./env.ts";

/**
 * BigQuery's cost_events is partitioned by the hour (so a live report reads only the hours not yet
 * refreshed), and a table holds at most 10,000 partitions: 416 days of hours is 9,984.
 */
export const MAX_PARTITION_EXPIRATION_DAYS = 416;
const PARTITION_LIMIT_REASON = `at most ${MAX_PARTITION_EXPIRATION_DAYS} days: cost_events is partitioned by the hour, and BigQuery keeps at most 10,000 partitions a table`;

/** The versioned configuration file (finops.config.json). Secrets never live here. */
export const configFileSchema = z
  .object({
    version: z.literal(1),
    pricing: z
      .object({
        /** Path of the price catalog, relative to the config file; the shipped catalog when absent. */
        catalog: z.string().optional(),
        /** Entries that replace or add to the catalog's (same shape as its `entries`). */
        overrides: z.unknown().optional(),
        /**
         * Opt-in, per cloud: the region whose rate prices an event from a region the catalog has no
         * price for (its price_source then ends in `#fallback:region=<region>`). Without it such an
         * event is rejected, naming data.region.
         */
        regionFallback: regionFallbackSchema.optional(),
      })
      .strict()
      .default({}),
    warehouse: z
      .object({
        kind: z.enum(["duckdb", "bigquery"]).default("duckdb"),
        duckdb: z
          .object({
            /**
             * The DuckDB file, relative to the config file. Absent: FINOPS_DUCKDB_PATH, else
             * data/finops.duckdb, both relative to the working directory.
             */
            path: z.string().min(1).optional(),
          })
          .strict()
          .default({}),
        bigquery: z
          .object({
            dataset: z
              .string()
              .regex(/^\w{1,1024}$/, "must be a BigQuery dataset id")
              .default("finops"),
            location: z.string().default("US"),
            partitionExpirationDays: z
              .number()
              .int()
              .positive()
              .max(MAX_PARTITION_EXPIRATION_DAYS, PARTITION_LIMIT_REASON)
              .default(400),
            /**
             * Whether the functions create missing tables and views at start. The Pulumi stack owns
             * them when deployed (and turns this off), so read-only functions never need DDL rights.
             */
            createTables: z.boolean().default(true),
            /**
             * How raw rows are streamed: the Storage Write API's default stream (no per-row minimum,
             * $0.025/GiB) or the legacy tabledata.insertAll ($0.05/GiB, 1 KB minimum per row).
             */
            writeApi: z.enum(["storage-write", "insert-all"]).default("storage-write"),
          })
          .strict()
          .default({
            dataset: "finops",
            location: "US",
            partitionExpirationDays: 400,
            createTables: true,
            writeApi: "storage-write",
          }),
      })
      .strict()
      .default({
        kind: "duckdb",
        duckdb: {},
        bigquery: {
          dataset: "finops",
          location: "US",
          partitionExpirationDays: 400,
          createTables: true,
          writeApi: "storage-write",
        },
      }),
    bus: z
      .object({ kind: z.enum(["memory", "pubsub"]).default("memory") })
      .strict()
      .default({ kind: "memory" }),
    allocations: allocationSettingsSchema.optional(),
    alerts: z
      .object({
        routing: alertRoutingSchema.prefault({}),
        /** Longest Slack Retry-After waited out inside one delivery; longer ones go back to the bus. */
        maxRetryAfterSeconds: z.number().int().min(0).max(50).default(20),
        /**
         * Without SLACK_BOT_TOKEN, alerts are printed and appended to this JSONL file; by default
         * slack-messages.jsonl beside the local warehouse file.
         */
        consoleFile: z.string().optional(),
      })
      .strict()
      .prefault({}),
    gcpBudgets: gcpBudgetsSettingsSchema.prefault({}),
    awsAnomalies: awsAnomaliesSettingsSchema.optional(),
    /** The daily reconciliation against the bill: its sources, window, match keys, threshold, calibration. */
    reconciliation: reconciliationSettingsSchema.prefault({}),
    /** What the optimization scorecard assumes where the data cannot say (speed-up, effort, TTL). */
    scorecard: scorecardSettingsSchema.prefault({}),
    /** Validated by parseBudgets, whose errors name the budget and the field. */
    budgets: z.unknown().optional(),
    /**
     * What the OTLP traces receiver needs to price spans that name no model or placement (vLLM's):
     * which resource attributes make a deployment, its model, owner and placement.
     */
    deployments: deploymentsSchema,
    training: z
      .object({
        /** A job silent this long without finishing or failing is abandoned (its cost so far stands). */
        silenceMinutes: z
          .number()
          .positive()
          .max(7 * 24 * 60)
          .default(30),
        /** Where job costs are logged (the token comes from MLFLOW_TRACKING_TOKEN, never from here). */
        mlflow: z
          .object({
            baseUrl: z.url({ protocol: /^https?$/ }),
            experimentName: z.string().min(1).max(500).default("finops-training-cost"),
            timeoutMs: z.number().int().min(1000).max(300_000).default(30_000),
          })
          .strict()
          .optional(),
        /** MLflow runs pulled as training job events (importMlflowRuns); the token is MLFLOW_TRACKING_TOKEN. */
        mlflowImport: mlflowImportSettingsSchema.optional(),
      })
      .strict()
      .default({ silenceMinutes: 30 }),
    local: z
      .object({
        port: z.number().int().min(0).max(65535).default(8080),
        /**
         * How often the local stack refreshes the rollup. Reports read unrefreshed hours live, so
         * only the rollup's own readers (budgets, anomalies, reconciliation) wait for it; each run
         * rebuilds whole hours, so running it every second would spend the warehouse on it.
         */
        rollupIntervalMs: z.number().int().min(100).default(10_000),
        /** Request bodies the local stack reads or works on at once; beyond, it answers 503. */
        maxInFlightBodies: z.number().int().min(1).max(10_000).default(16),
        /** Their bytes (Content-Length, or bytes read); beyond, 503, and 413 for a body over the whole. */
        maxInFlightBytes: z
          .number()
          .int()
          .min(1024)
          .max(1024 ** 3)
          .default(16 * 1024 ** 2),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const SHIPPED_CATALOG = fileURLToPath(new URL("../../config/price-catalog.json", import.meta.url));

export type ConfigFile = z.infer<typeof configFileSchema>;

/** Where the local warehouse is when neither the config file nor FINOPS_DUCKDB_PATH says: under the working directory. */
export const DEFAULT_DUCKDB_PATH = "data/finops.duckdb";

export interface Config {
  /** Directory the relative paths in the file are resolved against: the config file's own. */
  baseDir: string;
  pricing: { catalogPath: string; overrides: unknown; regionFallback: RegionFallback };
  /** duckdb.path resolved: absolute. */
  warehouse: Omit<ConfigFile["warehouse"], "duckdb"> & { duckdb: { path: string } };
  bus: ConfigFile["bus"];
  local: ConfigFile["local"];
  allocations: ConfigFile["allocations"];
  training: ConfigFile["training"];
  budgets: readonly Budget[];
  deployments: readonly Deployment[];
  /** consoleFile resolved: the file's, or slack-messages.jsonl beside the local warehouse. */
  alerts: ConfigFile["alerts"] & { consoleFile: string };
  gcpBudgets: ConfigFile["gcpBudgets"];
  awsAnomalies: ConfigFile["awsAnomalies"];
  reconciliation: ConfigFile["reconciliation"];
  scorecard: ConfigFile["scorecard"];
  projectId: string | undefined;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

function fieldError(file: string, error: z.ZodError): ConfigError {
  const lines = error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
  return new ConfigError(`invalid configuration in ${file}:\n${lines.join("\n")}`);
}

export function parseConfig(raw: unknown, file: string): ConfigFile {
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) throw fieldError(file, parsed.error);
  return parsed.data;
}

/**
 * The local warehouse file, absolute. A path written in the config file is relative to that file's
 * folder (baseDir), like every path in it; FINOPS_DUCKDB_PATH, which wins over it, and the default
 * are relative to the working directory, as a path typed in a shell is.
 */
function duckDbPath(env: Env, fromFile: string | undefined, baseDir: string, cwd: string): string {
  if (env.FINOPS_DUCKDB_PATH !== undefined) return resolve(cwd, env.FINOPS_DUCKDB_PATH);
  if (fromFile !== undefined) return resolve(baseDir, fromFile);
  return resolve(cwd, DEFAULT_DUCKDB_PATH);
}

/**
 * Reads the config file named by FINOPS_CONFIG (or ./finops.config.json if present, else defaults)
 * and applies the environment's overrides. The result is frozen. Paths in the file (pricing.catalog,
 * warehouse.duckdb.path, alerts.consoleFile, reconciliation.sources[].path) are resolved against the
 * file's folder; paths from the environment and the defaults against `cwd`.
 */
export function loadConfig(env: Env, cwd = process.cwd()): Config {
  const explicit = env.FINOPS_CONFIG;
  const file = resolve(cwd, explicit ?? "finops.config.json");
  let raw: unknown = { version: 1 };
  let baseDir = cwd;
  try {
    // Windows editors save UTF-8 with a byte-order mark, which JSON.parse refuses.
    raw = JSON.parse(readFileSync(file, "utf8").replace(/^\uFEFF/, ""));
    baseDir = dirname(file);
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === "ENOENT";
    if (explicit !== undefined || !missing) {
      throw new ConfigError(`cannot read configuration ${file}: ${(cause as Error).message}`, { cause });
    }
  }
  const parsed = parseConfig(raw, file);
  let budgets: Budget[];
  try {
    budgets = parseBudgets(parsed.budgets);
  } catch (error) {
    if (!(error instanceof BudgetConfigError)) throw error;
    const lines = error.problems.map((p) => `  ${p}`).join("\n");
    throw new ConfigError(`invalid configuration in ${file}:\n${lines}`, { cause: error });
  }
  const warehouse = {
    ...parsed.warehouse,
    kind: env.FINOPS_WAREHOUSE ?? parsed.warehouse.kind,
    duckdb: { path: duckDbPath(env, parsed.warehouse.duckdb.path, baseDir, cwd) },
    bigquery: {
      ...parsed.warehouse.bigquery,
      dataset: env.FINOPS_BQ_DATASET ?? parsed.warehouse.bigquery.dataset,
      location: env.FINOPS_BQ_LOCATION ?? parsed.warehouse.bigquery.location,
    },
  };
  return Object.freeze({
    baseDir,
    pricing: {
      catalogPath: parsed.pricing.catalog ? resolve(baseDir, parsed.pricing.catalog) : SHIPPED_CATALOG,
      overrides: parsed.pricing.overrides,
      regionFallback: parsed.pricing.regionFallback ?? {},
    },
    warehouse,
    bus: { kind: env.FINOPS_BUS ?? parsed.bus.kind },
    local: { ...parsed.local, port: env.PORT ?? parsed.local.port },
    allocations: parsed.allocations,
    training: parsed.training,
    budgets,
    deployments: parsed.deployments,
    gcpBudgets: parsed.gcpBudgets,
    awsAnomalies: parsed.awsAnomalies,
    reconciliation: {
      ...parsed.reconciliation,
      sources: parsed.reconciliation.sources.map((source) =>
        source.kind === "focus-file" ? { ...source, path: resolve(baseDir, source.path) } : source,
      ),
    },
    scorecard: parsed.scorecard,
    alerts: {
      ...parsed.alerts,
      consoleFile:
        parsed.alerts.consoleFile === undefined
          ? join(dirname(warehouse.duckdb.path), "slack-messages.jsonl")
          : resolve(baseDir, parsed.alerts.consoleFile),
    },
    projectId: env.GOOGLE_CLOUD_PROJECT,
  });
}
