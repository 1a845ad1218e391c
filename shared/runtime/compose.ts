import { mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { type CollectAllocationsRuntime, collectAllocationsFromRuntime } from "#app/collect-allocations.ts";
import { createIngestEvents } from "#app/ingest-events.ts";
import { createRefreshRollups } from "#app/refresh-rollups.ts";
import { createTrainingCosts } from "#app/training-costs.ts";
import { mergeCatalogOverrides, parsePriceCatalog } from "#domain/pricing/catalog.ts";
import { createPricer } from "#domain/pricing/pricer.ts";
import type { Bus } from "#ports/bus.ts";
import { TOPICS } from "#ports/bus.ts";
import { type Clock, systemClock } from "#ports/clock.ts";
import type { Logger } from "#ports/logger.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { type Config, ConfigError, loadConfig } from "./config.ts";
import { type Env, readEnv } from "./env.ts";
import { createLogger, type LogLevel } from "./logger.ts";
import type { Runtime } from "./runtime.ts";

export interface ComposeOptions {
  env?: Env;
  clock?: Clock;
  logLevel?: LogLevel;
  logger?: Logger;
  /** Replace a configured adapter (tests, benchmarks). */
  warehouse?: Warehouse;
  bus?: Bus;
}

function loadPricer(config: Config) {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(config.pricing.catalogPath, "utf8"));
  } catch (cause) {
    throw new ConfigError(
      `cannot read price catalog ${config.pricing.catalogPath}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  const catalog = parsePriceCatalog(raw, config.pricing.catalogPath);
  const merged =
    config.pricing.overrides === undefined
      ? catalog
      : mergeCatalogOverrides(catalog, config.pricing.overrides);
  return createPricer(merged);
}

async function createWarehouse(config: Config): Promise<Warehouse> {
  if (config.warehouse.kind === "bigquery") {
    const { createBigQueryWarehouse } = await import("#adapters/bigquery/bigquery-warehouse.ts");
    return createBigQueryWarehouse({ projectId: config.projectId, ...config.warehouse.bigquery });
  }
  const { createDuckDbWarehouse } = await import("#adapters/duckdb/duckdb-warehouse.ts");
  mkdirSync(dirname(config.warehouse.duckdb.path), { recursive: true });
  return createDuckDbWarehouse({ path: config.warehouse.duckdb.path });
}

async function createBus(config: Config, logger: Logger): Promise<Bus> {
  if (config.bus.kind === "pubsub") {
    if (!config.projectId) throw new ConfigError("GOOGLE_CLOUD_PROJECT: required for the pubsub bus");
    const { createPubSubBus } = await import("#adapters/pubsub/pubsub-bus.ts");
    return createPubSubBus({
      projectId: config.projectId,
      logger,
      batching: { maxMessages: 100, maxMilliseconds: 50 },
    });
  }
  const { createMemoryBus } = await import("#adapters/memory-bus/memory-bus.ts");
  return createMemoryBus({
    logger,
    deadLetterTopic: (topic) => (topic === TOPICS.events ? TOPICS.eventsDeadLetter : undefined),
  });
}

async function createCollectAllocations(config: Config, parts: CollectAllocationsRuntime) {
  const settings = config.allocations;
  if (!settings) return undefined;
  const gpu = settings.gpuUtilization;
  const { createKubecostAllocationSource, kubecostOptionsFromSettings } = await import(
    "#adapters/kubecost/kubecost-allocation-source.ts"
  );
  const source = createKubecostAllocationSource({
    ...kubecostOptionsFromSettings(settings, { logger: parts.logger }),
    // The GPU split pools each node's GPU cost with that node's idle.
    ...(gpu ? { idleByNode: true } : {}),
  });
  if (!gpu) return collectAllocationsFromRuntime(parts, settings, source);
  const { createPrometheusMetricsSource } = await import("#adapters/prometheus/prometheus-metrics-source.ts");
  const metrics = createPrometheusMetricsSource({
    baseUrl: gpu.prometheusUrl,
    timeoutMs: settings.timeoutMs,
    ...(gpu.matchers === undefined ? {} : { matchers: gpu.matchers }),
  });
  return collectAllocationsFromRuntime(parts, settings, source, metrics);
}

async function createMlflowLogger(config: Config, env: Env) {
  const mlflow = config.training.mlflow;
  if (!mlflow) return undefined;
  const { createMlflowCostLogger } = await import("#adapters/mlflow/mlflow-cost-logger.ts");
  return createMlflowCostLogger({
    baseUrl: mlflow.baseUrl,
    timeoutMs: mlflow.timeoutMs,
    ...(env.MLFLOW_TRACKING_TOKEN ? { token: env.MLFLOW_TRACKING_TOKEN } : {}),
  });
}

/** The composition root: reads configuration once, builds the adapters it names and the use cases. */
export async function composeRuntime(options: ComposeOptions = {}): Promise<Runtime> {
  const env = options.env ?? readEnv();
  const config = loadConfig(env);
  const logger =
    options.logger ??
    createLogger({
      level: env.FINOPS_LOG_LEVEL ?? options.logLevel ?? "info",
      format: env.FINOPS_LOG_FORMAT ?? (env.K_SERVICE ? "json" : "pretty"),
    });
  const clock = options.clock ?? systemClock;
  const pricer = loadPricer(config);
  const warehouse = options.warehouse ?? (await createWarehouse(config));
  await warehouse.init();
  const bus = options.bus ?? (await createBus(config, logger));
  const ingestEvents = createIngestEvents({
    warehouse,
    pricer,
    clock,
    bus,
    deadLetterTopic: TOPICS.eventsDeadLetter,
    logger,
  });
  const refreshRollups = createRefreshRollups({ warehouse, clock });
  const mlflow = await createMlflowLogger(config, env);
  const trainingCosts = createTrainingCosts({
    readJobs: (query) => warehouse.trainingJobs(query),
    clock,
    silenceSeconds: Math.round(config.training.silenceMinutes * 60),
    logger,
    ...(mlflow ? { mlflow, experimentName: config.training.mlflow?.experimentName } : {}),
  });
  const collectAllocations = await createCollectAllocations(config, { bus, clock, logger });
  return {
    config,
    logger,
    clock,
    warehouse,
    bus,
    ingestEvents,
    refreshRollups,
    trainingCosts,
    ...(collectAllocations ? { collectAllocations } : {}),
    async close() {
      await bus.close();
      await warehouse.close();
    },
  };
}
