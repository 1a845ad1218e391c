import type { BudgetDigest } from "#app/budget-digest.ts";
import type { CollectAllocations } from "#app/collect-allocations.ts";
import type { DashboardData } from "#app/dashboard-data.ts";
import type { DetectAnomalies } from "#app/detect-anomalies.ts";
import type { EvaluateBudgets } from "#app/evaluate-budgets.ts";
import type { ImportBill } from "#app/import-bill.ts";
import type { ImportMlflowRuns } from "#app/import-mlflow-runs.ts";
import type { createIngestEvents } from "#app/ingest-events.ts";
import type { IngestLiteLlm } from "#app/ingest-lite-llm.ts";
import type { IngestTraces } from "#app/ingest-traces.ts";
import type { NotifyAlert } from "#app/notify-alert.ts";
import type { ReconcileDaily } from "#app/reconcile-daily.ts";
import type { ReconciliationView } from "#app/reconciliation-view.ts";
import type { createRefreshRollups } from "#app/refresh-rollups.ts";
import type { RouteAwsAnomaly } from "#app/route-aws-anomaly.ts";
import type { RouteGcpBudget } from "#app/route-gcp-budget.ts";
import type { Scorecard } from "#app/scorecard.ts";
import type { ScorecardDigest } from "#app/scorecard-digest.ts";
import type { TrainingCosts } from "#app/training-costs.ts";
import type { Bus } from "#ports/bus.ts";
import type { Clock } from "#ports/clock.ts";
import type { Logger } from "#ports/logger.ts";
import type { OtlpTraceCodec } from "#ports/otlp-codec.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import type { Config } from "./config.ts";

/** What a function needs at run time: the use cases, built once per process by the composition root. */
export interface Runtime {
  config: Config;
  logger: Logger;
  clock: Clock;
  warehouse: Warehouse;
  bus: Bus;
  ingestEvents: ReturnType<typeof createIngestEvents>;
  /** OTLP trace exports turned into cost events (ingestTraces, POST /v1/traces locally). */
  ingestTraces: IngestTraces;
  /** Reads and writes OTLP/HTTP trace messages (protobuf and JSON); loaded on first use. */
  otlpCodec(): Promise<OtlpTraceCodec>;
  /** LiteLLM's generic_api logging payloads turned into cost events (ingestLiteLlm, POST /v1/litellm locally). */
  ingestLiteLlm: IngestLiteLlm;
  refreshRollups: ReturnType<typeof createRefreshRollups>;
  trainingCosts: TrainingCosts;
  evaluateBudgets: EvaluateBudgets;
  budgetDigest: BudgetDigest;
  detectAnomalies: DetectAnomalies;
  notifyAlert: NotifyAlert;
  /** The dashboard page's data for a selection. */
  dashboardData: DashboardData;
  routeGcpBudget: RouteGcpBudget;
  /** The optimization scorecard per model and team (finops scorecard, the dashboard). */
  scorecard: Scorecard;
  scorecardDigest: ScorecardDigest;
  /** Reconciles the days against the bill (nightly, and `finops reconcile`). */
  reconcileDaily: ReconcileDaily;
  /** Loads a FOCUS bill file into the store (`finops billing import`). */
  importBill: ImportBill;
  /** Estimated vs reconciled vs billed per day and team or namespace (reports, the dashboard). */
  reconciliationView: ReconciliationView;
  /** Present when the config has an `awsAnomalies` section. */
  routeAwsAnomaly?: RouteAwsAnomaly;
  /** Present when the config has an `allocations` section. */
  collectAllocations?: CollectAllocations;
  /** Present when the config has a `training.mlflowImport` section. */
  importMlflowRuns?: ImportMlflowRuns;
  close(): Promise<void>;
}

type RuntimeFactory = () => Promise<Runtime>;

let factory: RuntimeFactory | undefined;
let current: Promise<Runtime> | undefined;

/** Sets an already-built runtime (tests, the local stack). */
export function setRuntime(runtime: Runtime): void {
  factory = async () => runtime;
  current = Promise.resolve(runtime);
}

export function getRuntime(): Promise<Runtime> {
  if (!current) {
    const build = factory ?? (async () => (await import("./compose.ts")).composeRuntime());
    current = build().catch((error: unknown) => {
      current = undefined;
      throw error;
    });
  }
  return current;
}
