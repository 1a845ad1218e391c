import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createBudgetDigest } from "#app/budget-digest.ts";
import { type CollectAllocationsRuntime, collectAllocationsFromRuntime } from "#app/collect-allocations.ts";
import { createDashboardData } from "#app/dashboard-data.ts";
import { reconciliationPanel, scorecardPanel } from "#app/dashboard-panel-sources.ts";
import { createDetectAnomalies } from "#app/detect-anomalies.ts";
import { createEvaluateBudgets } from "#app/evaluate-budgets.ts";
import { createImportMlflowRuns, type ImportMlflowRunsDeps } from "#app/import-mlflow-runs.ts";
import { createIngestEvents } from "#app/ingest-events.ts";
import { createIngestLiteLlm } from "#app/ingest-lite-llm.ts";
import { createIngestTraces } from "#app/ingest-traces.ts";
import { createNotifyAlert } from "#app/notify-alert.ts";
import { createRefreshRollups } from "#app/refresh-rollups.ts";
import { createRouteAwsAnomaly } from "#app/route-aws-anomaly.ts";
import { createRouteGcpBudget } from "#app/route-gcp-budget.ts";
import { createScorecard } from "#app/scorecard.ts";
import { createScorecardDigest } from "#app/scorecard-digest.ts";
import { createTrainingCosts } from "#app/training-costs.ts";
import type { AwsAnomaliesSettings } from "#domain/aws-anomaly/aws-anomaly-settings.ts";
import type { Budget } from "#domain/budgets/budget-config.ts";
import type { Deployment } from "#domain/otlp/deployments.ts";
import { mergeCatalogOverrides, type PriceCatalog, parsePriceCatalog } from "#domain/pricing/catalog.ts";
import { createPricer, type Pricer } from "#domain/pricing/pricer.ts";
import type { AlertClaims } from "#ports/alert-claims.ts";
import type { AlertLog } from "#ports/alert-log.ts";
import type { Bus } from "#ports/bus.ts";
import { TOPICS } from "#ports/bus.ts";
import { BusError } from "#ports/bus-error.ts";
import { type Clock, systemClock } from "#ports/clock.ts";
import type { Logger } from "#ports/logger.ts";
import type { MetricsSource } from "#ports/metrics-source.ts";
import type { Notifier } from "#ports/notifier.ts";
import type { OtlpTraceCodec } from "#ports/otlp-codec.ts";
import type { SeenStore } from "#ports/seen-store.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { composeReconciliation } from "./compose-reconciliation.ts";
import { type Config, ConfigError, loadConfig } from "./config.ts";
import { type Env, readEnv } from "./env.ts";
import type { BusSubscriptionSpec } from "./local-subscriptions.ts";
import { createLogger, type LogLevel } from "./logger.ts";
import type { Runtime } from "./runtime.ts";
import { assertWarehouseExists } from "./warehouse-file.ts";

export interface ComposeOptions {
  env?: Env;
  clock?: Clock;
  logLevel?: LogLevel;
  logger?: Logger;
  /**
   * The caller only reads (reports, budgets, jobs, exports...): a local warehouse that does not exist
   * is an error (NoWarehouseError), thrown before any folder or file is created or opened.
   */
  mustExist?: boolean;
  /** Replace a configured part (tests, benchmarks). */
  pricer?: Pricer;
  warehouse?: Warehouse;
  bus?: Bus;
  claims?: AlertClaims & { close?(): Promise<void> };
  seen?: SeenStore;
  /** Budgets to evaluate instead of the configured ones (the demo's, when the config has none). */
  budgets?: readonly Budget[];
  /** The awsAnomalies settings instead of the configuration's (the demo's topic). */
  awsAnomalies?: AwsAnomaliesSettings;
  /** Deployments after the configured ones (the demo's vLLM behind LiteLLM); a configured one matching first wins. */
  extraDeployments?: readonly Deployment[];
  /** How routeAwsAnomaly fetches signing certificates and SubscribeURLs; default the global fetch. */
  certificateFetch?: typeof globalThis.fetch;
  /**
   * The bus subscriptions this process pulls from (the local stack's). With the pubsub bus they are
   * created at start on an emulator (PUBSUB_EMULATOR_HOST), with every topic; on real Pub/Sub they
   * and the topics are checked, and the start fails naming what is missing.
   */
  busSubscriptions?: readonly BusSubscriptionSpec[];
  /** Where the console notifier (no Slack token) writes each alert; default standard output. */
  consoleAlerts?: (text: string) => void;
}

/** The price catalog with the configuration's overrides merged. */
export function loadCatalog(config: Config): PriceCatalog {
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
  return config.pricing.overrides === undefined
    ? catalog
    : mergeCatalogOverrides(catalog, config.pricing.overrides);
}

async function createWarehouse(config: Config): Promise<Warehouse> {
  if (config.warehouse.kind === "bigquery") {
    const { createBigQueryWarehouse } = await import("#adapters/bigquery/bigquery-warehouse.ts");
    const { dataset, location, partitionExpirationDays, writeApi } = config.warehouse.bigquery;
    return createBigQueryWarehouse({
      projectId: config.projectId,
      dataset,
      location,
      partitionExpirationDays,
      writeApi,
    });
  }
  const { createDuckDbWarehouse } = await import("#adapters/duckdb/duckdb-warehouse.ts");
  return createDuckDbWarehouse({ path: config.warehouse.duckdb.path });
}

async function createBus(
  config: Config,
  env: Env,
  logger: Logger,
  subscriptions: readonly BusSubscriptionSpec[],
): Promise<Bus> {
  if (config.bus.kind === "pubsub") {
    if (!config.projectId) throw new ConfigError("GOOGLE_CLOUD_PROJECT: required for the pubsub bus");
    const { openPubSubBus } = await import("#adapters/pubsub/open-pubsub-bus.ts");
    try {
      return await openPubSubBus({
        projectId: config.projectId,
        logger,
        ...(env.PUBSUB_EMULATOR_HOST ? { emulatorHost: env.PUBSUB_EMULATOR_HOST } : {}),
        topics: Object.values(TOPICS),
        subscriptions,
        deadLetterTopic: (topic) => DEAD_LETTER_TOPICS[topic],
        batching: { maxMessages: 100, maxMilliseconds: 50 },
      });
    } catch (error) {
      // What is missing, or an emulator that does not answer: one line at start, not a stack.
      if (error instanceof BusError)
        throw new ConfigError(`FINOPS_BUS=pubsub: ${error.message}`, { cause: error });
      throw error;
    }
  }
  const { createMemoryBus } = await import("#adapters/memory-bus/memory-bus.ts");
  return createMemoryBus({
    logger,
    deadLetterTopic: (topic) => DEAD_LETTER_TOPICS[topic],
  });
}

/** Where the local bus puts a message its subscriber failed on too often, as Pub/Sub's policies do. */
const DEAD_LETTER_TOPICS: Record<string, string> = {
  [TOPICS.events]: TOPICS.eventsDeadLetter,
  [TOPICS.alerts]: TOPICS.alertsDeadLetter,
  [TOPICS.gcpBudgets]: TOPICS.gcpBudgetsDeadLetter,
};

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
  const metrics = await createMetricsSource(config);
  if (!metrics) return collectAllocationsFromRuntime(parts, settings, source);
  return collectAllocationsFromRuntime(parts, settings, source, metrics);
}

/** DCGM through Prometheus, when the allocations section names it (the GPU split and right-sizing read it). */
async function createMetricsSource(config: Config): Promise<MetricsSource | undefined> {
  const settings = config.allocations;
  const gpu = settings?.gpuUtilization;
  if (!settings || !gpu) return undefined;
  const { createPrometheusMetricsSource } = await import("#adapters/prometheus/prometheus-metrics-source.ts");
  return createPrometheusMetricsSource({
    baseUrl: gpu.prometheusUrl,
    timeoutMs: settings.timeoutMs,
    ...(gpu.matchers === undefined ? {} : { matchers: gpu.matchers }),
  });
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

/** The MLflow import, when the config has a `training.mlflowImport` section. */
async function createMlflowImport(
  config: Config,
  env: Env,
  parts: Omit<ImportMlflowRunsDeps, "source" | "settings">,
) {
  const settings = config.training.mlflowImport;
  if (!settings) return undefined;
  const { createMlflowRunSource } = await import("#adapters/mlflow/mlflow-run-source.ts");
  const source = createMlflowRunSource({
    baseUrl: settings.baseUrl,
    timeoutMs: settings.timeoutMs,
    ...(env.MLFLOW_TRACKING_TOKEN ? { token: env.MLFLOW_TRACKING_TOKEN } : {}),
  });
  return createImportMlflowRuns({ ...parts, source, settings });
}

/** Slack when a bot token is set; otherwise the console and a JSONL file (the local default). */
async function createNotifier(
  config: Config,
  env: Env,
  logger: Logger,
  clock: Clock,
  consoleAlerts: ((text: string) => void) | undefined,
): Promise<Notifier> {
  if (env.SLACK_BOT_TOKEN) {
    const { createSlackNotifier } = await import("#adapters/slack/slack-notifier.ts");
    return createSlackNotifier({
      token: env.SLACK_BOT_TOKEN,
      ...(env.SLACK_API_URL ? { apiUrl: env.SLACK_API_URL } : {}),
      logger,
      maxRetryAfterSeconds: config.alerts.maxRetryAfterSeconds,
    });
  }
  const { createConsoleNotifier } = await import("#adapters/console-notifier/console-notifier.ts");
  return createConsoleNotifier({
    file: config.alerts.consoleFile,
    clock,
    ...(consoleAlerts === undefined ? {} : { write: consoleAlerts }),
  });
}

/** Which alert messages were posted where (so a redelivery is never posted twice). */
async function createAlertLog(config: Config): Promise<AlertLog> {
  if (config.warehouse.kind === "bigquery") {
    const { createBigQueryAlertLog } = await import("#adapters/bigquery-alert-log/bigquery-alert-log.ts");
    const { dataset, location } = config.warehouse.bigquery;
    return createBigQueryAlertLog({ projectId: config.projectId, dataset, location });
  }
  const { createDuckDbAlertLog } = await import("#adapters/duckdb-alert-log/duckdb-alert-log.ts");
  return createDuckDbAlertLog({ path: join(dirname(config.warehouse.duckdb.path), "alert-log.duckdb") });
}

/** The client, `project.dataset` and location the BigQuery stores next to the warehouse use. */
async function bigQueryTarget(config: Config) {
  const { createBigQueryClient } = await import("#adapters/bigquery/bigquery-client.ts");
  const { dataset, location } = config.warehouse.bigquery;
  return {
    client: createBigQueryClient({ projectId: config.projectId, location }),
    dataset: config.projectId ? `${config.projectId}.${dataset}` : dataset,
    location,
  };
}

/** What the routers remember (the highest GCP budget threshold seen per period, processed SNS ids). */
async function createSeenStore(config: Config): Promise<SeenStore> {
  if (config.warehouse.kind === "bigquery") {
    const { createBigQuerySeenStore } = await import("#adapters/bigquery-seen-store/bigquery-seen-store.ts");
    return createBigQuerySeenStore(await bigQueryTarget(config));
  }
  const { createDuckDbSeenStore } = await import("#adapters/duckdb-seen-store/duckdb-seen-store.ts");
  return createDuckDbSeenStore({ path: join(dirname(config.warehouse.duckdb.path), "seen-keys.duckdb") });
}

/** Which alerts were sent: next to the warehouse (its own DuckDB file locally, so reports take no lock on it). */
async function createAlertClaims(config: Config): Promise<AlertClaims & { close?(): Promise<void> }> {
  if (config.warehouse.kind === "bigquery") {
    const { createBigQueryAlertClaims } = await import(
      "#adapters/bigquery-alert-claims/bigquery-alert-claims.ts"
    );
    return createBigQueryAlertClaims(await bigQueryTarget(config));
  }
  const { createDuckDbAlertClaims } = await import("#adapters/duckdb-alert-claims/duckdb-alert-claims.ts");
  return createDuckDbAlertClaims({
    path: join(dirname(config.warehouse.duckdb.path), "alert-claims.duckdb"),
  });
}

/** The composition root: reads configuration once, builds the adapters it names and the use cases. */
export async function composeRuntime(options: ComposeOptions = {}): Promise<Runtime> {
  const env = options.env ?? readEnv();
  const config = loadConfig(env);
  if (options.mustExist && options.warehouse === undefined) assertWarehouseExists(config);
  const logger =
    options.logger ??
    createLogger({
      level: env.FINOPS_LOG_LEVEL ?? options.logLevel ?? "info",
      format: env.FINOPS_LOG_FORMAT ?? (env.K_SERVICE ? "json" : "pretty"),
    });
  const clock = options.clock ?? systemClock;
  // The local stores (warehouse, alert log, claims, seen keys) are files side by side.
  if (config.warehouse.kind === "duckdb")
    mkdirSync(dirname(config.warehouse.duckdb.path), { recursive: true });
  const catalog = loadCatalog(config);
  const pricer = options.pricer ?? createPricer(catalog, { regionFallback: config.pricing.regionFallback });
  const warehouse = options.warehouse ?? (await createWarehouse(config));
  const createTables = config.warehouse.kind === "duckdb" || config.warehouse.bigquery.createTables;
  if (createTables) await warehouse.init();
  const bus = options.bus ?? (await createBus(config, env, logger, options.busSubscriptions ?? []));
  const ingestEvents = createIngestEvents({
    warehouse,
    pricer,
    clock,
    bus,
    deadLetterTopic: TOPICS.eventsDeadLetter,
    logger,
  });
  const refreshRollups = createRefreshRollups({ warehouse, clock });
  const claims = options.claims ?? (await createAlertClaims(config));
  const { createWarehouseReconciliationStore } = await import(
    "#adapters/warehouse-reconciliation/warehouse-reconciliation-store.ts"
  );
  const evaluateBudgets = createEvaluateBudgets({
    warehouse,
    bus,
    claims,
    budgets: options.budgets ?? config.budgets,
    clock,
    logger,
    // What reconcileDaily stored: budgets split their spend into reconciled and estimate.
    reconciliation: createWarehouseReconciliationStore({ sql: warehouse.sql }),
  });
  const detectAnomalies = createDetectAnomalies({ warehouse, bus, claims, clock, logger });
  const budgetDigest = createBudgetDigest({
    warehouse,
    bus,
    claims,
    budgets: options.budgets ?? config.budgets,
    clock,
    logger,
  });
  const alertLog = await createAlertLog(config);
  if (createTables) await alertLog.init();
  const notifyAlert = createNotifyAlert({
    notifier: await createNotifier(config, env, logger, clock, options.consoleAlerts),
    alertLog,
    routing: config.alerts.routing,
    logger,
    clock,
  });
  const seen = options.seen ?? (await createSeenStore(config));
  // Each replica's GPU-time windows are claimed in the seen-store (see #app/ingest-traces.ts).
  const deployments = [...config.deployments, ...(options.extraDeployments ?? [])];
  const ingestTraces = createIngestTraces({ ingestEvents, seen, deployments, clock, logger });
  const ingestLiteLlm = createIngestLiteLlm({ ingestEvents, deployments, logger });
  // The protobuf types load when the first export arrives, not in every CLI command.
  let codec: Promise<OtlpTraceCodec> | undefined;
  const otlpCodec = () =>
    (codec ??= import("#adapters/otlp/otlp-trace-codec.ts").then((m) => m.createOtlpTraceCodec()));
  const routeGcpBudget = createRouteGcpBudget({
    bus,
    seen,
    clock,
    logger,
    settings: config.gcpBudgets,
    deadLetterTopic: TOPICS.gcpBudgetsDeadLetter,
  });
  const awsAnomalies = options.awsAnomalies ?? config.awsAnomalies;
  const routeAwsAnomaly = awsAnomalies
    ? createRouteAwsAnomaly({
        bus,
        seen,
        clock,
        logger,
        settings: awsAnomalies,
        ...(options.certificateFetch ? { fetch: options.certificateFetch } : {}),
      })
    : undefined;
  const mlflow = await createMlflowLogger(config, env);
  const importSource = config.training.mlflowImport?.source;
  const trainingCosts = createTrainingCosts({
    readJobs: (query) => warehouse.trainingJobs(query),
    clock,
    silenceSeconds: Math.round(config.training.silenceMinutes * 60),
    logger,
    ...(mlflow ? { mlflow, experimentName: config.training.mlflow?.experimentName } : {}),
    // A job the MLflow import sent is its run: the cost goes back to that run.
    ...(importSource === undefined
      ? {}
      : { mlflowRunOf: (job) => (job.event_source === importSource ? job.job_id : undefined) }),
  });
  const importMlflowRuns = await createMlflowImport(config, env, {
    ingest: (body, contentType) => ingestEvents.ingest(body, contentType),
    clock,
    logger,
  });
  const collectAllocations = await createCollectAllocations(config, { bus, clock, logger });
  const metrics = await createMetricsSource(config);
  const scorecard = createScorecard({
    warehouse,
    catalog,
    regionFallback: config.pricing.regionFallback,
    settings: config.scorecard,
    clock,
    logger,
    ...(metrics ? { metrics } : {}),
  });
  const scorecardDigest = createScorecardDigest({ scorecard, bus, claims, clock, logger });
  const reconciliation = await composeReconciliation(config, { warehouse, bus, claims, clock, logger });
  const dashboardData = createDashboardData({
    warehouse,
    budgets: options.budgets ?? config.budgets,
    budgetStatus: () => evaluateBudgets.budgetStatus("live"),
    alertLog,
    clock,
    logger,
    panels: {
      reconciliation: reconciliationPanel(reconciliation.reconciliationView),
      scorecard: scorecardPanel(scorecard, { clock }),
    },
  });
  return {
    config,
    logger,
    clock,
    warehouse,
    bus,
    ingestEvents,
    ingestTraces,
    otlpCodec,
    ingestLiteLlm,
    refreshRollups,
    trainingCosts,
    evaluateBudgets,
    budgetDigest,
    detectAnomalies,
    notifyAlert,
    dashboardData,
    routeGcpBudget,
    scorecard,
    scorecardDigest,
    ...reconciliation,
    ...(routeAwsAnomaly ? { routeAwsAnomaly } : {}),
    ...(collectAllocations ? { collectAllocations } : {}),
    ...(importMlflowRuns ? { importMlflowRuns } : {}),
    async close() {
      await bus.close();
      await claims.close?.();
      await alertLog.close();
      await seen.close();
      await warehouse.close();
    },
  };
}
