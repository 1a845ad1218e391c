import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../names.ts";

export interface AwsCostAnomaliesArgs {
  /** An anomaly's total impact, in USD, from which Cost Anomaly Detection notifies. */
  thresholdUsd: number;
  /**
   * An existing monitor to subscribe to. An account may hold only one SERVICE monitor, and new AWS
   * accounts come with one, so this reuses it instead of failing to create a second.
   */
  monitorArn?: string;
}

/** What the billing source calls: daily cost and usage, and the values and tags it groups by. */
export const COST_EXPLORER_READ_ACTIONS: readonly string[] = [
  "ce:GetCostAndUsage",
  "ce:GetCostAndUsageWithResources",
  "ce:GetDimensionValues",
  "ce:GetTags",
  "ce:GetCostCategories",
];

/** The topic's ARN is arn:aws:sns:<region>:<account>:<name>. */
function accountOf(topicArn: string): string {
  return topicArn.split(":")[4] ?? "";
}

/**
 * The optional AWS side: Cost Anomaly Detection (a SERVICE monitor and an IMMEDIATE subscription above
 * the threshold) publishing to an SNS topic only that service may publish to, delivered over HTTPS to
 * routeAwsAnomaly (which verifies each message's signature and topic); and a role that may only read
 * Cost Explorer, assumable by the reading functions' Google identities (web identity federation with
 * accounts.google.com: no AWS key is ever stored). The endpoint and the identities exist only once the
 * functions do, and the functions' configuration needs this topic first, so those two are methods.
 */
export class AwsCostAnomalies extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly topicArn: pulumi.Output<string>;
  private readonly baseName: string;

  constructor(name: string, args: AwsCostAnomaliesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("finops:index:AwsCostAnomalies", name, {}, opts);
    this.baseName = name;
    if (!(args.thresholdUsd > 0))
      throw new RangeError(`thresholdUsd must be above 0, got ${args.thresholdUsd}`);
    const child = { parent: this };

    const topic = new aws.sns.Topic(
      childName(name, "topic"),
      { name: childName(name, "cost-anomalies") },
      child,
    );
    const policy = new aws.sns.TopicPolicy(
      childName(name, "topic-policy"),
      {
        arn: topic.arn,
        policy: topic.arn.apply((arn) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "CostAnomalyDetectionPublishes",
                Effect: "Allow",
                Principal: { Service: "costalerts.amazonaws.com" },
                Action: "SNS:Publish",
                Resource: arn,
                Condition: { StringEquals: { "aws:SourceAccount": accountOf(arn) } },
              },
            ],
          }),
        ),
      },
      child,
    );
    const monitorArn =
      args.monitorArn ??
      new aws.costexplorer.AnomalyMonitor(
        childName(name, "monitor"),
        { name: childName(name, "services"), monitorType: "DIMENSIONAL", monitorDimension: "SERVICE" },
        child,
      ).arn;
    new aws.costexplorer.AnomalySubscription(
      childName(name, "subscription"),
      {
        name: childName(name, "immediate"),
        frequency: "IMMEDIATE",
        monitorArnLists: [monitorArn],
        subscribers: [{ type: "SNS", address: topic.arn }],
        thresholdExpression: {
          dimension: {
            key: "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
            matchOptions: ["GREATER_THAN_OR_EQUAL"],
            values: [String(args.thresholdUsd)],
          },
        },
      },
      { parent: this, dependsOn: [policy] },
    );

    this.topic = topic;
    this.topicArn = topic.arn;
    this.registerOutputs({ topicArn: this.topicArn });
  }

  /**
   * A role that may only read Cost Explorer, for the Google service accounts with these unique ids,
   * presenting an ID token for `audience` (so no token they send elsewhere can be replayed to AWS).
   */
  allowCostExplorerRead(readers: readonly pulumi.Input<string>[], audience: string): aws.iam.Role {
    const role = new aws.iam.Role(
      childName(this.baseName, "cost-explorer-read"),
      {
        description: "Read-only Cost Explorer access for the finops billing source, from Google Cloud.",
        assumeRolePolicy: pulumi.output([...readers]).apply((ids) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: { Federated: "accounts.google.com" },
                Action: "sts:AssumeRoleWithWebIdentity",
                // A Google ID token of a service account carries its unique id as sub (and azp, which AWS reads
                // as aud); AWS reads the token's own aud as oaud.
                Condition: {
                  StringEquals: {
                    "accounts.google.com:aud": ids,
                    "accounts.google.com:sub": ids,
                    "accounts.google.com:oaud": audience,
                  },
                },
              },
            ],
          }),
        ),
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      childName(this.baseName, "cost-explorer-read-policy"),
      {
        role: role.id,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: [...COST_EXPLORER_READ_ACTIONS], Resource: "*" }],
        }),
      },
      { parent: this },
    );
    return role;
  }

  /** Subscribes an HTTPS endpoint that confirms the subscription itself (routeAwsAnomaly does). */
  deliverTo(endpoint: pulumi.Input<string>): aws.sns.TopicSubscription {
    return new aws.sns.TopicSubscription(
      childName(this.baseName, "https"),
      {
        topic: this.topic.arn,
        protocol: "https",
        endpoint,
        endpointAutoConfirms: true,
        confirmationTimeoutInMinutes: 5,
      },
      { parent: this },
    );
  }
}
