import { TOPICS } from "#ports/bus.ts";

/**
 * How a public function admits callers itself. "bearer-token": every request must carry the ingest
 * token (`Authorization: Bearer ...`, shared/runtime/bearer-token.ts), checked before the handler
 * runs; "message-signature": the function verifies each message's signature in its own code.
 */
export type CallerCheck = "bearer-token" | "message-signature";

/** Every deployable function: its target (camelCase of its folder), trigger, and where its code is. */
export interface FunctionSpec {
  target: string;
  folder: string;
  trigger: { kind: "http" } | { kind: "topic"; topic: string } | { kind: "schedule"; cron: string };
  /**
   * For an HTTP function whose callers cannot authenticate to IAM: anyone may invoke it, `reason`
   * says why, `check` how it admits callers instead. Absent: IAM decides who invokes it.
   */
  public?: { reason: string; check: CallerCheck };
}

export const FUNCTIONS: readonly FunctionSpec[] = [
  { target: "ingestEvents", folder: "ingest-events", trigger: { kind: "topic", topic: TOPICS.events } },
  { target: "ingestHttp", folder: "ingest-http", trigger: { kind: "http" } },
  {
    target: "ingestTraces",
    folder: "ingest-traces",
    trigger: { kind: "http" },
    public: {
      reason: "OTLP exporters (vLLM, SGLang, instrumented services) cannot sign Google ID tokens",
      check: "bearer-token",
    },
  },
  {
    target: "ingestLiteLlm",
    folder: "ingest-lite-llm",
    trigger: { kind: "http" },
    public: {
      reason: "LiteLLM's generic_api logging callback cannot sign Google ID tokens",
      check: "bearer-token",
    },
  },
  {
    target: "routeGcpBudget",
    folder: "route-gcp-budget",
    trigger: { kind: "topic", topic: TOPICS.gcpBudgets },
  },
  {
    target: "routeAwsAnomaly",
    folder: "route-aws-anomaly",
    trigger: { kind: "http" },
    public: {
      reason:
        "SNS cannot authenticate to it: the function verifies every message's signature and topic itself",
      check: "message-signature",
    },
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

/** Whether requests to the function `target` must carry the ingest bearer token. */
export function requiresBearerToken(target: string): boolean {
  return FUNCTIONS.some((f) => f.target === target && f.public?.check === "bearer-token");
}

/** Registers every function with the Functions Framework by importing its module. */
export async function loadFunctions(): Promise<readonly FunctionSpec[]> {
  await Promise.all(FUNCTIONS.map((f) => import(`./${f.folder}/index.ts`)));
  return FUNCTIONS;
}
