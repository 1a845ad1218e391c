import type { TOPICS } from "#ports/bus.ts";

export type TopicKey = keyof typeof TOPICS;

/** What one function's runtime identity may do, by where the grant sits. Nothing else is granted. */
export interface RoleSet {
  project: readonly string[];
  dataset: readonly string[];
  topics: Readonly<Partial<Record<TopicKey, readonly string[]>>>;
}

export const ROLES = {
  bigqueryDataEditor: "roles/bigquery.dataEditor",
  bigqueryDataViewer: "roles/bigquery.dataViewer",
  bigqueryJobUser: "roles/bigquery.jobUser",
  pubsubPublisher: "roles/pubsub.publisher",
  /** Invoking a gen2 function is invoking its Cloud Run service. */
  runInvoker: "roles/run.invoker",
} as const;

/**
 * Ingest streams rows into the dataset's tables (dataEditor there, not on the project), runs
 * create_tables and queries as jobs (jobUser: jobs are project-scoped), and publishes refused input
 * to the dead-letter topic, and only there.
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

/** The report reads the hourly rollup: read on the dataset, query jobs on the project. */
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

/** The notifier records what it posted (its alert log table); Slack is reached with the bot token secret. */
export const NOTIFY_ROLES: RoleSet = {
  project: [ROLES.bigqueryJobUser],
  dataset: [ROLES.bigqueryDataEditor],
  topics: {},
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
  refreshRollups: REFRESH_ROLES,
  costReport: REPORT_ROLES,
  collectAllocations: COLLECT_ROLES,
  syncTrainingCosts: REPORT_ROLES,
  evaluateBudgets: BUDGET_ROLES,
  sendBudgetDigest: BUDGET_ROLES,
  detectAnomalies: BUDGET_ROLES,
  notifySlack: NOTIFY_ROLES,
  routeGcpBudget: ROUTER_ROLES,
  routeAwsAnomaly: ROUTER_ROLES,
};

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

export type GrantScope = "project" | "dataset" | `topic:${TopicKey}`;

export interface Grant {
  scope: GrantScope;
  role: string;
}

/** The role set as a flat list, in a stable order (project, dataset, then topics by key). */
export function grantsOf(set: RoleSet): Grant[] {
  const topicKeys = (Object.keys(set.topics) as TopicKey[]).sort();
  return [
    ...set.project.map((role) => ({ scope: "project" as const, role })),
    ...set.dataset.map((role) => ({ scope: "dataset" as const, role })),
    ...topicKeys.flatMap((key) =>
      (set.topics[key] ?? []).map((role) => ({ scope: `topic:${key}` as const, role })),
    ),
  ];
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
