import { TOPICS } from "#ports/bus.ts";

/** Every deployable function: its target (camelCase of its folder), trigger, and where its code is. */
export interface FunctionSpec {
  target: string;
  folder: string;
  trigger: { kind: "http" } | { kind: "topic"; topic: string } | { kind: "schedule"; cron: string };
  /** Why anyone may invoke it (an HTTP function whose caller cannot authenticate); otherwise IAM decides. */
  public?: string;
}

export const FUNCTIONS: readonly FunctionSpec[] = [
  { target: "ingestEvents", folder: "ingest-events", trigger: { kind: "topic", topic: TOPICS.events } },
  { target: "ingestHttp", folder: "ingest-http", trigger: { kind: "http" } },
  { target: "ingestTraces", folder: "ingest-traces", trigger: { kind: "http" } },
  { target: "ingestLiteLlm", folder: "ingest-lite-llm", trigger: { kind: "http" } },
  {
    target: "routeGcpBudget",
    folder: "route-gcp-budget",
    trigger: { kind: "topic", topic: TOPICS.gcpBudgets },
  },
  {
    target: "routeAwsAnomaly",
    folder: "route-aws-anomaly",
    trigger: { kind: "http" },
    public: "SNS cannot authenticate to it: the function verifies every message's signature and topic itself",
  },
  { target: "notifySlack", folder: "notify-slack", trigger: { kind: "topic", topic: TOPICS.alerts } },
  { target: "costReport", folder: "cost-report", trigger: { kind: "http" } },
  { target: "dashboard", folder: "dashboard", trigger: { kind: "http" } },
  {
    target: "collectAllocations",
    folder: "collect-allocations",
    trigger: { kind: "schedule", cron: "15 * * * *" },
  },
  { target: "evaluateBudgets", folder: "evaluate-budgets", trigger: { kind: "schedule", cron: "5 * * * *" } },
  {
    target: "detectAnomalies",
    folder: "detect-anomalies",
    trigger: { kind: "schedule", cron: "10 * * * *" },
  },
  {
    target: "reconcileDaily",
    folder: "reconcile-daily",
    trigger: { kind: "schedule", cron: "30 6 * * *" },
  },
  {
    target: "sendBudgetDigest",
    folder: "send-budget-digest",
    trigger: { kind: "schedule", cron: "0 9 * * 1" },
  },
  {
    target: "sendScorecardDigest",
    folder: "send-scorecard-digest",
    trigger: { kind: "schedule", cron: "30 9 * * 1" },
  },
  {
    target: "importMlflowRuns",
    folder: "import-mlflow-runs",
    trigger: { kind: "schedule", cron: "17 * * * *" },
  },
  {
    target: "syncTrainingCosts",
    folder: "sync-training-costs",
    trigger: { kind: "schedule", cron: "20 * * * *" },
  },
  { target: "refreshRollups", folder: "refresh-rollups", trigger: { kind: "schedule", cron: "2 * * * *" } },
];

/** Registers every function with the Functions Framework by importing its module. */
export async function loadFunctions(): Promise<readonly FunctionSpec[]> {
  await Promise.all(FUNCTIONS.map((f) => import(`./${f.folder}/index.ts`)));
  return FUNCTIONS;
}
