import * as gcp from "@pulumi/gcp";
import type * as pulumi from "@pulumi/pulumi";
import { after, type ChildOptions } from "./child-options.ts";
import type { Grant, TopicKey } from "./iam-roles.ts";
import { childName, kebab } from "./names.ts";
import type { SecretKey } from "./secrets.ts";

/** What a role set's scopes name. */
export interface GrantTargets {
  project: string;
  dataset: gcp.bigquery.Dataset;
  topics: Readonly<Record<TopicKey, gcp.pubsub.Topic>>;
  enforcementTopics: Readonly<Record<string, gcp.pubsub.Topic>>;
  secrets: Readonly<Partial<Record<SecretKey, gcp.secretmanager.Secret>>>;
  billingExports: readonly BillingExportDataset[];
}

/** The dataset a Cloud Billing export table is in. */
export interface BillingExportDataset {
  project: string;
  datasetId: string;
}

/** One grant of a role set to `member`, bound where its scope says (one binding per enforcement topic). */
export function declareGrant(
  prefix: string,
  member: pulumi.Input<string>,
  { scope, role }: Grant,
  targets: GrantTargets,
  opts: ChildOptions,
): pulumi.Resource[] {
  const name = childName(prefix, scope.replace(":", "-"), role.split("/")[1] ?? role);
  const iam = { project: targets.project, role, member };
  if (scope === "project") return [new gcp.projects.IAMMember(name, iam, after(opts))];
  if (scope === "dataset") {
    return [
      new gcp.bigquery.DatasetIamMember(name, { ...iam, datasetId: targets.dataset.datasetId }, after(opts)),
    ];
  }
  if (scope === "enforcementTopics") {
    return Object.entries(targets.enforcementTopics).map(
      ([topicName, topic]) =>
        new gcp.pubsub.TopicIAMMember(
          childName(name, kebab(topicName)),
          { ...iam, topic: topic.name },
          after(opts),
        ),
    );
  }
  if (scope === "billingExports") {
    return targets.billingExports.map(
      (d) =>
        new gcp.bigquery.DatasetIamMember(
          childName(name, d.project, d.datasetId),
          { ...iam, project: d.project, datasetId: d.datasetId },
          after(opts),
        ),
    );
  }
  if (scope.startsWith("secret:")) {
    const secret = targets.secrets[scope.slice("secret:".length) as SecretKey];
    if (secret === undefined) throw new Error(`${prefix}: ${scope} has no secret`);
    return [new gcp.secretmanager.SecretIamMember(name, { ...iam, secretId: secret.secretId }, after(opts))];
  }
  const topic = targets.topics[scope.slice("topic:".length) as TopicKey];
  return [new gcp.pubsub.TopicIAMMember(name, { ...iam, topic: topic.name }, after(opts))];
}
