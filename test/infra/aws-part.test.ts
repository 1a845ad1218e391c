import { beforeAll, describe, expect, it } from "vitest";
import { FUNCTIONS } from "../../functions/registry.ts";
import { AwsCostAnomalies, COST_EXPLORER_READ_ACTIONS } from "../../infra/components/aws-cost-anomalies.ts";
import { AWS_ACCOUNT, deployedConfigOf, functionUrl, type ProgramRun, runStack } from "./pulumi-program.ts";

// The stack with finops:awsEnabled: the AWS side exists, wired to routeAwsAnomaly.

const TOPIC_ARN = `arn:aws:sns:us-east-1:${AWS_ACCOUNT}:finops-aws-cost-anomalies`;

let run: ProgramRun;

beforeAll(async () => {
  run = await runStack({
    "finops:awsEnabled": "true",
    "finops:configFile": "test/infra/fixtures/finops.aws.config.json",
  });
});

const one = (type: string) => {
  const found = run.ofType(type);
  expect(found).toHaveLength(1);
  return (found[0] as { inputs: Record<string, unknown> }).inputs;
};

describe("the AWS side", () => {
  it("lets only Cost Anomaly Detection, for this account, publish to the SNS topic", () => {
    expect(one("aws:sns/topic:Topic").name).toBe("finops-aws-cost-anomalies");
    const policy = one("aws:sns/topicPolicy:TopicPolicy");
    expect(policy.arn).toBe(TOPIC_ARN);
    expect(JSON.parse(String(policy.policy)).Statement).toEqual([
      {
        Sid: "CostAnomalyDetectionPublishes",
        Effect: "Allow",
        Principal: { Service: "costalerts.amazonaws.com" },
        Action: "SNS:Publish",
        Resource: TOPIC_ARN,
        Condition: { StringEquals: { "aws:SourceAccount": AWS_ACCOUNT } },
      },
    ]);
  });

  it("monitors spend by service and notifies at once from $100 of impact, through SNS", () => {
    expect(one("aws:costexplorer/anomalyMonitor:AnomalyMonitor")).toMatchObject({
      monitorType: "DIMENSIONAL",
      monitorDimension: "SERVICE",
    });
    expect(one("aws:costexplorer/anomalySubscription:AnomalySubscription")).toMatchObject({
      frequency: "IMMEDIATE",
      monitorArnLists: [`arn:aws:ce::${AWS_ACCOUNT}:anomalymonitor/finops-aws-monitor`],
      subscribers: [{ type: "SNS", address: TOPIC_ARN }],
      thresholdExpression: {
        dimension: {
          key: "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
          matchOptions: ["GREATER_THAN_OR_EQUAL"],
          values: ["100"],
        },
      },
    });
  });

  it("delivers the topic over HTTPS to routeAwsAnomaly, which confirms the subscription itself", () => {
    expect(one("aws:sns/topicSubscription:TopicSubscription")).toMatchObject({
      topic: TOPIC_ARN,
      protocol: "https",
      endpoint: functionUrl("finops-route-aws-anomaly"),
      endpointAutoConfirms: true,
    });
  });

  it("tells routeAwsAnomaly to accept the topic, in the deployed configuration", async () => {
    const config = await deployedConfigOf(run);
    expect(config.awsAnomalies).toEqual({ topicArns: [TOPIC_ARN] });
  });

  it("lets the Cost Explorer readers assume a role that reads Cost Explorer only", () => {
    const roles = run.ofType("aws:iam/role:Role");
    if (!FUNCTIONS.some((f) => f.target === "reconcileDaily")) {
      expect(roles).toEqual([]);
      expect(run.logs).toContainEqual(expect.stringMatching(/no deployed function reads Cost Explorer/));
      return;
    }
    const trust = JSON.parse(String(roles[0]?.inputs.assumeRolePolicy)).Statement[0];
    expect(trust).toMatchObject({
      Principal: { Federated: "accounts.google.com" },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: {
          "accounts.google.com:sub": ["uid-finops-reconcile-daily"],
          "accounts.google.com:oaud": "sts.amazonaws.com",
        },
      },
    });
    const policy = JSON.parse(String(one("aws:iam/rolePolicy:RolePolicy").policy));
    expect(policy.Statement).toEqual([
      { Effect: "Allow", Action: COST_EXPLORER_READ_ACTIONS, Resource: "*" },
    ]);
  });

  it("has the Cost Explorer billing source assume that role, with a token for the audience it trusts", async () => {
    const { reconciliation } = await deployedConfigOf(run);
    const [source] = (reconciliation?.sources ?? []) as Record<string, unknown>[];
    const [role] = run.ofType("aws:iam/role:Role");
    if (role === undefined) {
      expect(source).not.toHaveProperty("assumeRoleArn");
      return;
    }
    expect(source).toEqual({
      kind: "aws-cost-explorer",
      billingAccountId: AWS_ACCOUNT,
      groupByTag: "team",
      assumeRoleArn: role.state.arn,
      audience: "sts.amazonaws.com",
    });
    expect(run.outputs.costExplorerRoleArn).toBe(role.state.arn);
    const trust = JSON.parse(String(role.inputs.assumeRolePolicy)).Statement[0];
    expect(trust.Condition.StringEquals["accounts.google.com:oaud"]).toBe(source?.audience);
  });

  it("exports the topic ARN and stores no AWS key anywhere", () => {
    expect(run.outputs.awsAnomalyTopicArn).toBe(TOPIC_ARN);
    expect(run.recorded.filter((r) => r.type.startsWith("aws:iam/accessKey"))).toEqual([]);
    expect(JSON.stringify(run.outputs)).not.toMatch(/AKIA[0-9A-Z]{16}|xox[abpr]-/);
  });

  it("subscribes to an existing monitor instead of creating one, at the configured threshold", async () => {
    const before = run.recorded.length;
    const monitorArn = `arn:aws:ce::${AWS_ACCOUNT}:anomalymonitor/existing`;
    new AwsCostAnomalies("other", { thresholdUsd: 250, monitorArn });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const added = run.recorded.slice(before);
    expect(added.filter((r) => r.type === "aws:costexplorer/anomalyMonitor:AnomalyMonitor")).toEqual([]);
    expect(
      added.find((r) => r.type === "aws:costexplorer/anomalySubscription:AnomalySubscription")?.inputs,
    ).toMatchObject({
      monitorArnLists: [monitorArn],
      thresholdExpression: { dimension: { values: ["250"] } },
    });
    expect(() => new AwsCostAnomalies("zero", { thresholdUsd: 0 })).toThrow(/above 0/);
  });
});
