import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { AWS_WEB_IDENTITY_AUDIENCE } from "#domain/reconciliation/reconciliation-settings.ts";
import { FUNCTIONS } from "../functions/registry.ts";
import { planBillingBudgets } from "./billing-budget-plan.ts";
import { AwsCostAnomalies } from "./components/aws-cost-anomalies.ts";
import { BillingBudgets } from "./components/billing-budgets.ts";
import { EventPipeline } from "./components/event-pipeline.ts";
import {
  billingExportDataset,
  checkSlackChannels,
  deployedConfig,
  readConfigSource,
} from "./deployed-config.ts";
import { AWS_COST_EXPLORER_READERS } from "./iam-roles.ts";
import { readStackConfig } from "./stack-config.ts";

/**
 * The cloud deployment (`pulumi up` from the repository root, Node >= 22.18 on PATH). Reads the stack's
 * configuration (Pulumi.yaml declares every key) and the finops configuration file it names, builds the
 * Google Cloud side, the Cloud Billing budgets and, when enabled, the AWS side, and exports only names,
 * ids and URLs: nothing secret goes to the stack outputs.
 */
const root = fileURLToPath(new URL("..", import.meta.url));
const name = pulumi.getProject();
const stack = readStackConfig();
const source = readConfigSource(root, stack.configFile);
const slackChannels = checkSlackChannels(stack.slackChannels);

const budgetPlan = planBillingBudgets(source.budgets, { hasProjects: stack.budgetProjects.length > 0 });
for (const { name: budget, reason } of budgetPlan.skipped) {
  pulumi.log.info(`budget ${budget}: no Cloud Billing budget, ${reason}`);
}
if (stack.billingAccount === undefined && budgetPlan.planned.length > 0) {
  pulumi.log.warn(
    `finops:billingAccount is not set, so budgets ${budgetPlan.planned.map((p) => p.budget.name).join(", ")} get no Cloud Billing budget`,
  );
}
const billingBudgets = stack.billingAccount === undefined ? [] : budgetPlan.planned;

const deployed = new Set(FUNCTIONS.map((f) => f.target));
for (const [target, members] of Object.entries(stack.invokers)) {
  if (!deployed.has(target) && members.length > 0) {
    pulumi.log.warn(`invokers configured for ${target}, which functions/registry.ts does not deploy (yet)`);
  }
}

const aws = stack.aws.enabled
  ? new AwsCostAnomalies(`${name}-aws`, {
      thresholdUsd: stack.aws.anomalyThresholdUsd,
      monitorArn: stack.aws.monitorArn,
    })
  : undefined;

// The role trusts the functions' identities, which the pipeline creates, and the pipeline's configuration
// names the role: its ARN is resolved once the role is declared, after the pipeline.
const [configuredRoleArn, resolveConfiguredRoleArn] = pulumi.deferredOutput<string | undefined>();

const configFor = (awsTopicArns: string[], roleArn?: string) =>
  deployedConfig(source, {
    dataset: stack.dataset.id,
    location: stack.dataset.location,
    partitionExpirationDays: stack.dataset.partitionExpirationDays,
    slackChannels,
    gcpBudgetTeams: Object.fromEntries(billingBudgets.map((p) => [p.displayName, p.budget.owner])),
    awsTopicArns,
    costExplorerRole: roleArn === undefined ? undefined : { roleArn, audience: AWS_WEB_IDENTITY_AUDIENCE },
  });

const pipeline = new EventPipeline(name, {
  project: stack.project,
  region: stack.region,
  dataset: stack.dataset,
  sourceDir: root,
  configFile:
    aws === undefined
      ? configFor([])
      : pulumi.all([aws.topicArn, configuredRoleArn]).apply(([arn, role]) => configFor([arn], role)),
  secrets: { slackBotToken: stack.slackToken },
  enforcementTopics: source.budgets.flatMap((b) =>
    b.enforcement === undefined ? [] : [b.enforcement.topic],
  ),
  billingExports: source.billingExportTables.map((table) => billingExportDataset(table, stack.project)),
  sourceBucket: stack.sourceBucket,
  invokers: Object.fromEntries(Object.entries(stack.invokers).filter(([target]) => deployed.has(target))),
  httpIngress: stack.httpIngress,
  vpcEgress: stack.vpcEgress,
  enableApis: stack.enableApis,
});

if (stack.billingAccount !== undefined && billingBudgets.length > 0) {
  new BillingBudgets(
    `${name}-budgets`,
    {
      billingAccount: stack.billingAccount,
      quotaProject: stack.project,
      plans: billingBudgets,
      topic: pipeline.topics.gcpBudgets,
      projects: stack.budgetProjects,
    },
    { dependsOn: [...pipeline.apis] },
  );
}

/** Routes the anomalies to routeAwsAnomaly and lets the Cost Explorer readers assume their role. */
function connectAws(part: AwsCostAnomalies) {
  const endpoint = pipeline.functions.routeAwsAnomaly;
  if (endpoint === undefined) {
    throw new Error(
      "finops:awsEnabled needs the routeAwsAnomaly function, which functions/registry.ts lacks",
    );
  }
  part.deliverTo(endpoint.url);
  const readers = AWS_COST_EXPLORER_READERS.flatMap((target) => {
    const account = pipeline.serviceAccounts[target];
    return account === undefined ? [] : [account.uniqueId];
  });
  if (readers.length === 0) {
    pulumi.log.info(
      `no deployed function reads Cost Explorer (${AWS_COST_EXPLORER_READERS.join(", ")}): no role for it`,
    );
    return undefined;
  }
  return part.allowCostExplorerRead(readers, AWS_WEB_IDENTITY_AUDIENCE);
}
const costExplorerRole = aws === undefined ? undefined : connectAws(aws);
if (aws !== undefined) resolveConfiguredRoleArn(costExplorerRole?.arn ?? pulumi.output(undefined));

export const topicNames = pipeline.topicNames;
export const enforcementTopicNames = pipeline.enforcementTopicNames;
export const datasetId = pipeline.datasetId;
export const functionUrls = pipeline.functionUrls;
export const billingBudgetNames = billingBudgets.map((p) => p.displayName);
export const awsAnomalyTopicArn = aws?.topicArn;
export const costExplorerRoleArn = costExplorerRole?.arn;
