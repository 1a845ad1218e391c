import * as pulumi from "@pulumi/pulumi";
import { MAX_PARTITION_EXPIRATION_DAYS } from "#runtime/config.ts";
import type { Ingress } from "./function-settings.ts";
import { checkVpcEgress, type VpcEgress } from "./vpc-egress.ts";

/** The stack's configuration, as Pulumi.yaml declares it (every key has a description there). */
export interface StackConfig {
  project: string;
  region: string;
  dataset: {
    id: string;
    location: string;
    partitionExpirationDays: number;
    rejectedExpirationDays: number;
    deletionProtection: boolean;
  };
  configFile: string | undefined;
  slackToken: pulumi.Output<string>;
  slackChannels: unknown;
  billingAccount: string | undefined;
  budgetProjects: string[];
  sourceBucket: string | undefined;
  /** Invoker members by HTTP function target; the report readers read both costReport and the dashboard. */
  invokers: Readonly<Record<string, string[]>>;
  httpIngress: Ingress;
  /** Direct VPC egress of the functions that call private endpoints; empty when neither key is set. */
  vpcEgress: VpcEgress;
  enableApis: boolean;
  aws: { enabled: boolean; anomalyThresholdUsd: number; monitorArn: string | undefined };
}

const INGRESS: readonly Ingress[] = ["ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"];
const BILLING_ACCOUNT = /^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$/;

/** Pulumi.yaml declares these with a "" default (a declared key without one would be required). */
function optional(config: pulumi.Config, key: string, pattern?: RegExp): string | undefined {
  const value = config.get(key) || undefined;
  if (value !== undefined && pattern !== undefined && !pattern.test(value)) {
    throw new Error(`finops:${key} ${JSON.stringify(value)} does not match ${pattern}`);
  }
  return value;
}

function stringList(config: pulumi.Config, key: string, example: string): string[] {
  const value = config.getObject<unknown>(key) ?? [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new Error(`finops:${key} must be a list of strings, like ${example}`);
  }
  return value;
}

export function readStackConfig(): StackConfig {
  const gcpConfig = new pulumi.Config("gcp");
  const config = new pulumi.Config("finops");
  const members = (key: string) =>
    stringList(
      config,
      key,
      '["serviceAccount:sender@p.iam.gserviceaccount.com", "group:finance@example.com"]',
    );
  const reportReaders = members("reportReaders");
  const region = gcpConfig.require("region");
  const network = optional(config, "network");
  const subnetwork = optional(config, "subnetwork");
  return {
    project: gcpConfig.require("project"),
    region,
    dataset: {
      id: config.get("dataset", { pattern: /^\w{1,1024}$/ }) ?? "finops",
      location: config.get("datasetLocation") ?? "US",
      partitionExpirationDays:
        config.getNumber("partitionExpirationDays", { min: 1, max: MAX_PARTITION_EXPIRATION_DAYS }) ?? 400,
      rejectedExpirationDays: config.getNumber("rejectedExpirationDays", { min: 1, max: 3650 }) ?? 30,
      deletionProtection: config.getBoolean("deletionProtection") ?? true,
    },
    configFile: optional(config, "configFile"),
    slackToken: config.requireSecret("slackToken"),
    slackChannels: config.getObject<unknown>("slackChannels"),
    billingAccount: optional(config, "billingAccount", BILLING_ACCOUNT),
    budgetProjects: stringList(config, "budgetProjects", '["ml-serving-prod", "ml-training-prod"]'),
    sourceBucket: optional(config, "sourceBucket"),
    invokers: {
      ingestHttp: members("ingestInvokers"),
      costReport: reportReaders,
      dashboard: reportReaders,
    },
    httpIngress: config.get<Ingress>("ingestIngress", { allowedValues: [...INGRESS] }) ?? "ALLOW_ALL",
    vpcEgress: checkVpcEgress(
      { ...(network === undefined ? {} : { network }), ...(subnetwork === undefined ? {} : { subnetwork }) },
      region,
    ),
    enableApis: config.getBoolean("enableApis") ?? true,
    aws: {
      enabled: config.getBoolean("awsEnabled") ?? false,
      anomalyThresholdUsd: config.getNumber("awsAnomalyThresholdUsd", { min: 1 }) ?? 100,
      monitorArn: optional(config, "awsMonitorArn", /^arn:aws:ce::\d{12}:anomalymonitor\/[\w-]+$/),
    },
  };
}
