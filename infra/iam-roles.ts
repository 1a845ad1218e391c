import type { TOPICS } from "#ports/bus.ts";
import type { SecretKey } from "./secrets.ts";

export type TopicKey = keyof typeof TOPICS;

/** What one function's runtime identity may do, by where the grant sits. Nothing else is granted. */
export interface RoleSet {
  project: readonly string[];
  dataset: readonly string[];
  topics: Readonly<Partial<Record<TopicKey, readonly string[]>>>;
  /** Roles on secrets of infra/secrets.ts; secretAccessor also puts the secret in the function's environment. */
  secrets?: Readonly<Partial<Record<SecretKey, readonly string[]>>>;
  /** Roles on every topic the configured budgets name for enforcement events. */
  enforcementTopics?: readonly string[];
  /** Roles on the dataset of every Cloud Billing export the configuration reconciles against. */
  billingExports?: readonly string[];
}

export const ROLES = {
  bigqueryDataEditor: "roles/bigquery.dataEditor",
  bigqueryDataViewer: "roles/bigquery.dataViewer",
  bigqueryJobUser: "roles/bigquery.jobUser",
  pubsubPublisher: "roles/pubsub.publisher",
  pubsubSubscriber: "roles/pubsub.subscriber",
  secretAccessor: "roles/secretmanager.secretAccessor",
  /** Lets the Pub/Sub service agent mint the OIDC tokens of a push subscription's identity. */
  tokenCreator: "roles/iam.serviceAccountTokenCreator",
  /** Invoking a gen2 function is invoking its Cloud Run service. */
  runInvoker: "roles/run.invoker",
} as const;

/**
 * Ingest streams rows into the dataset's tables (dataEditor there, not on the project: it holds
 * bigquery.tables.updateData, which the Storage Write API's default stream and insertAll need, and
 * bigquery.tables.get, which reading the stream's schema needs), runs create_tables and queries as
 * jobs (jobUser: jobs are project-scoped), and publishes refused input to the dead-letter topic, and
 * only there.
 */
export const INGEST_ROLES: RoleSet = {
  project: [ROLES.bigqueryJobUser],
  dataset: [ROLES.bigqueryDataEditor],
  topics: { eventsDeadLetter: [ROLES.pubsubPublisher] },
};

/** Refresh rebuilds cost_hourly from cost_events with a DML transaction. */
export const REFRESH_ROLES: RoleSet = {
  project: [ROLES.bigqueryJobUser],
  dataset: [ROLES.bigqueryDataEditor],
  topics: {},
};

/** Reports (costReport, the dashboard) read the rollup: read on the dataset, query jobs on the project. */
export const REPORT_ROLES: RoleSet = {
  project: [ROLES.bigqueryJobUser],
  dataset: [ROLES.bigqueryDataViewer],
  topics: {},
};

/** Collect reads OpenCost/Kubecost over HTTP and publishes allocation events; it touches no BigQuery. */
export const COLLECT_ROLES: RoleSet = {
  project: [],
  dataset: [],
  topics: { events: [ROLES.pubsubPublisher] },
};

/** Budgets read the rollup (dataViewer) but record claims (dataEditor) and publish alerts. */
export const BUDGET_ROLES: RoleSet = {
  project: [ROLES.bigqueryJobUser],
  dataset: [ROLES.bigqueryDataEditor],
  topics: { alerts: [ROLES.pubsubPublisher] },
};

/** The evaluator also publishes enforcement events on the topics the budgets name. */
export const EVALUATE_ROLES: RoleSet = { ...BUDGET_ROLES, enforcementTopics: [ROLES.pubsubPublisher] };

/** Reconciliation reads the billing export and the rollup, writes its drift table, and alerts on drift. */
export const RECONCILE_ROLES: RoleSet = {
  project: [ROLES.bigqueryJobUser],
  dataset: [ROLES.bigqueryDataEditor],
  topics: { alerts: [ROLES.pubsubPublisher] },
  billingExports: [ROLES.bigqueryDataViewer],
};

/**
 * The scorecard digest reads cost events, records its claims (one digest per team per week: the
 * alert_claims table, so dataEditor) and publishes one digest alert per team.
 */
export const SCORECARD_ROLES: RoleSet = {
  project: [ROLES.bigqueryJobUser],
  dataset: [ROLES.bigqueryDataEditor],
  topics: { alerts: [ROLES.pubsubPublisher] },
};

/** The notifier records what it posted (its alert log table) and reads the Slack bot token, the only secret. */
export const NOTIFY_ROLES: RoleSet = {
  project: [ROLES.bigqueryJobUser],
  dataset: [ROLES.bigqueryDataEditor],
  topics: {},
  secrets: { slackBotToken: [ROLES.secretAccessor] },
};

/** The cloud routers turn notifications into alerts: they publish alerts, and the budget router dead-letters. */
export const ROUTER_ROLES: RoleSet = {
  project: [],
  dataset: [],
  topics: { alerts: [ROLES.pubsubPublisher], gcpBudgetsDeadLetter: [ROLES.pubsubPublisher] },
};

/** Role set per function target. A function in the registry without one fails the deployment. */
export const FUNCTION_ROLES: Readonly<Record<string, RoleSet>> = {
  ingestEvents: INGEST_ROLES,
  ingestHttp: INGEST_ROLES,
  ingestTraces: INGEST_ROLES,
  ingestLiteLlm: INGEST_ROLES,
  refreshRollups: REFRESH_ROLES,
  costReport: REPORT_ROLES,
  dashboard: REPORT_ROLES,
  collectAllocations: COLLECT_ROLES,
  // Reads MLflow over HTTP and ingests the runs' events itself, as ingest does.
  importMlflowRuns: INGEST_ROLES,
  syncTrainingCosts: REPORT_ROLES,
  evaluateBudgets: EVALUATE_ROLES,
  sendBudgetDigest: BUDGET_ROLES,
  detectAnomalies: BUDGET_ROLES,
  reconcileDaily: RECONCILE_ROLES,
  sendScorecardDigest: SCORECARD_ROLES,
  notifySlack: NOTIFY_ROLES,
  routeGcpBudget: ROUTER_ROLES,
  routeAwsAnomaly: ROUTER_ROLES,
};

/** A function that checks the ingest bearer token also reads it: secretAccessor on ingestToken. */
export function withIngestToken(set: RoleSet): RoleSet {
  return { ...set, secrets: { ...set.secrets, ingestToken: [ROLES.secretAccessor] } };
}

/** Whether the role set's function stores what it is sent: it writes the warehouse or publishes events. */
export function storesInput(set: RoleSet): boolean {
  return set.dataset.includes(ROLES.bigqueryDataEditor) || (set.topics.events ?? []).length > 0;
}

/**
 * Functions that read AWS Cost Explorer (the billing source): with the AWS part enabled, their
 * identities may assume a role that reads Cost Explorer and nothing else.
 */
export const AWS_COST_EXPLORER_READERS: readonly string[] = ["reconcileDaily"];

export class IamError extends Error {
  override readonly name = "IamError";
}

export function roleSetFor(
  target: string,
  roles: Readonly<Record<string, RoleSet>> = FUNCTION_ROLES,
): RoleSet {
  const set = roles[target];
  if (set === undefined)
    throw new IamError(`no role set for function ${target}: add it to infra/iam-roles.ts`);
  return set;
}

export type GrantScope =
  | "project"
  | "dataset"
  | `topic:${TopicKey}`
  | `secret:${SecretKey}`
  | "enforcementTopics"
  | "billingExports";

export interface Grant {
  scope: GrantScope;
  role: string;
}

/** The role set as a flat list, in a stable order (project, dataset, topics, secrets, enforcement, exports). */
export function grantsOf(set: RoleSet): Grant[] {
  const topicKeys = (Object.keys(set.topics) as TopicKey[]).sort();
  const secretKeys = (Object.keys(set.secrets ?? {}) as SecretKey[]).sort();
  return [
    ...set.project.map((role) => ({ scope: "project" as const, role })),
    ...set.dataset.map((role) => ({ scope: "dataset" as const, role })),
    ...topicKeys.flatMap((key) =>
      (set.topics[key] ?? []).map((role) => ({ scope: `topic:${key}` as const, role })),
    ),
    ...secretKeys.flatMap((key) =>
      (set.secrets?.[key] ?? []).map((role) => ({ scope: `secret:${key}` as const, role })),
    ),
    ...(set.enforcementTopics ?? []).map((role) => ({ scope: "enforcementTopics" as const, role })),
    ...(set.billingExports ?? []).map((role) => ({ scope: "billingExports" as const, role })),
  ];
}

/** The secrets whose value the role set's function gets in its environment (it may read them). */
export function secretsReadBy(set: RoleSet): SecretKey[] {
  return (Object.keys(set.secrets ?? {}) as SecretKey[])
    .filter((key) => set.secrets?.[key]?.includes(ROLES.secretAccessor))
    .sort();
}

/** Members that would make a binding public. No function of ours is invocable by them. */
export const PUBLIC_MEMBERS: readonly string[] = ["allUsers", "allAuthenticatedUsers"];
const MEMBER = /^(user|serviceAccount|group|domain|principal|principalSet):\S+$/;

/** Checks invoker members given in configuration: typed IAM members, none public. */
export function checkInvokerMembers(target: string, members: readonly string[]): readonly string[] {
  for (const member of members) {
    if (PUBLIC_MEMBERS.includes(member)) {
      throw new IamError(
        `${target}: ${member} may not invoke it; name the callers (serviceAccount:..., group:...)`,
      );
    }
    if (!MEMBER.test(member)) {
      throw new IamError(
        `${target}: invoker ${JSON.stringify(member)} is not an IAM member like serviceAccount:name@project.iam.gserviceaccount.com`,
      );
    }
  }
  return members;
}
