import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  billingExportDataset,
  checkSlackChannels,
  deployedConfig,
  readConfigSource,
} from "../../infra/deployed-config.ts";

function repo(files: Record<string, unknown>): string {
  const root = mkdtempSync(join(tmpdir(), "finops-config-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), typeof content === "string" ? content : JSON.stringify(content));
  }
  return root;
}

const SETTINGS = {
  dataset: "finops_prod",
  location: "US",
  partitionExpirationDays: 400,
  gcpBudgetTeams: {},
  awsTopicArns: [],
};

describe("the deployed configuration", () => {
  it("runs on defaults, over BigQuery and Pub/Sub, when the stack names no file", () => {
    const config = JSON.parse(deployedConfig(readConfigSource("/nowhere", undefined), SETTINGS));
    expect(config).toEqual({
      version: 1,
      warehouse: {
        kind: "bigquery",
        bigquery: {
          dataset: "finops_prod",
          location: "US",
          partitionExpirationDays: 400,
          createTables: false,
        },
      },
      bus: { kind: "pubsub" },
      alerts: { routing: {} },
      gcpBudgets: { teams: {} },
    });
  });

  it("adds this stack's SNS topic to the file's own, once", () => {
    const arn = "arn:aws:sns:us-east-1:123456789012:finops-aws-cost-anomalies";
    const other = "arn:aws:sns:eu-west-1:123456789012:other";
    const root = repo({
      "f.json": { version: 1, awsAnomalies: { topicArns: [other, arn], maxAgeSeconds: 600 } },
    });
    const config = JSON.parse(
      deployedConfig(readConfigSource(root, "f.json"), { ...SETTINGS, awsTopicArns: [arn] }),
    );
    expect(config.awsAnomalies).toEqual({ topicArns: [other, arn], maxAgeSeconds: 600 });
  });

  it("has the file's Cost Explorer sources assume the stack's role, unless they name their own", () => {
    const own = "arn:aws:iam::123456789012:role/finops-own";
    const root = repo({
      "f.json": {
        version: 1,
        reconciliation: {
          windowDays: 5,
          sources: [
            { kind: "aws-cost-explorer", billingAccountId: "210987654321" },
            {
              kind: "aws-cost-explorer",
              name: "other",
              billingAccountId: "123456789012",
              assumeRoleArn: own,
            },
            { kind: "focus-file", path: "bill.csv" },
          ],
        },
      },
    });
    const role = {
      roleArn: "arn:aws:iam::210987654321:role/finops-aws-cost-explorer-read",
      audience: "sts.amazonaws.com",
    };
    const config = JSON.parse(
      deployedConfig(readConfigSource(root, "f.json"), { ...SETTINGS, costExplorerRole: role }),
    );
    expect(config.reconciliation).toEqual({
      windowDays: 5,
      sources: [
        {
          kind: "aws-cost-explorer",
          billingAccountId: "210987654321",
          assumeRoleArn: role.roleArn,
          audience: "sts.amazonaws.com",
        },
        { kind: "aws-cost-explorer", name: "other", billingAccountId: "123456789012", assumeRoleArn: own },
        { kind: "focus-file", path: "bill.csv" },
      ],
    });
    const withoutRole = JSON.parse(deployedConfig(readConfigSource(root, "f.json"), SETTINGS));
    expect(withoutRole.reconciliation.sources[0]).toEqual({
      kind: "aws-cost-explorer",
      billingAccountId: "210987654321",
    });
  });

  it("refuses a file the functions would refuse, naming the field", () => {
    const root = repo({
      "bad.json": {
        version: 1,
        budgets: [{ name: "x", scope: { team: "a" }, period: "yearly", amount: "1" }],
      },
      "worse.json": { version: 1, warehouse: { kind: "sqlite" } },
    });
    expect(() => readConfigSource(root, "bad.json")).toThrow(/budgets\[0\] \(x\)\.period/);
    expect(() => readConfigSource(root, "worse.json")).toThrow(/warehouse\.kind/);
    expect(() => readConfigSource(root, "missing.json")).toThrow(/finops:configFile missing\.json/);
  });

  it("keeps a price catalog the archive carries, and refuses one it would not", () => {
    const root = repo({
      "deploy/prod.json": { version: 1, pricing: { catalog: "../config/prices.json" } },
      "deploy/local.json": { version: 1, pricing: { catalog: "prices.json" } },
    });
    expect(readConfigSource(root, "deploy/prod.json").raw.pricing).toEqual({ catalog: "config/prices.json" });
    expect(() => readConfigSource(root, "deploy/local.json")).toThrow(
      /pricing\.catalog prices\.json is not in/,
    );
  });

  it("finds the billing export datasets reconciliation reads, in this project when the table names none", () => {
    const root = repo({
      "f.json": {
        version: 1,
        reconciliation: {
          sources: [
            { kind: "gcp-billing-export", table: "admin:export.gcp_billing_export_v1_X" },
            { kind: "gcp-billing-export", name: "local", table: "export_here.gcp_billing_export_v1_Y" },
            { kind: "focus-file", path: "bill.csv" },
          ],
        },
      },
    });
    const tables = readConfigSource(root, "f.json").billingExportTables;
    expect(tables.map((t) => billingExportDataset(t, "finops-prod"))).toEqual([
      { project: "admin", datasetId: "export" },
      { project: "finops-prod", datasetId: "export_here" },
    ]);
  });

  it("checks the Slack channel map as the notifier reads it", () => {
    expect(checkSlackChannels(undefined)).toBeUndefined();
    expect(checkSlackChannels({ teams: { nlp: "#nlp-spend" } })).toEqual({ teams: { nlp: "#nlp-spend" } });
    expect(() => checkSlackChannels({ teams: { nlp: "nlp spend" } })).toThrow(
      /finops:slackChannels\.teams\.nlp/,
    );
  });
});
