import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { EventPipeline } from "./components/event-pipeline.ts";
import type { Ingress } from "./function-settings.ts";

/**
 * The cloud deployment (`pulumi up` from the repository root, Node >= 22.18 on PATH). Reads the stack's
 * configuration (Pulumi.yaml declares every key), builds the ingest pipeline, and exports only names
 * and URLs: nothing secret goes to the stack outputs.
 */
const gcpConfig = new pulumi.Config("gcp");
const config = new pulumi.Config("finops");

const INGRESS: readonly Ingress[] = ["ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"];

/** `finops:ingestInvokers`, `finops:reportReaders`: lists of IAM members (serviceAccount:..., group:...). */
function memberList(key: string): string[] {
  const value = config.getObject<unknown>(key) ?? [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new Error(
      `finops:${key} must be a list of IAM members, like ["serviceAccount:sender@p.iam.gserviceaccount.com"]`,
    );
  }
  return value;
}

const pipeline = new EventPipeline(pulumi.getProject(), {
  project: gcpConfig.require("project"),
  region: gcpConfig.require("region"),
  dataset: {
    id: config.get("dataset", { pattern: /^\w{1,1024}$/ }) ?? "finops",
    location: config.get("datasetLocation") ?? "US",
    partitionExpirationDays: config.getNumber("partitionExpirationDays", { min: 1, max: 3650 }) ?? 400,
    rejectedExpirationDays: config.getNumber("rejectedExpirationDays", { min: 1, max: 3650 }) ?? 30,
    deletionProtection: config.getBoolean("deletionProtection") ?? true,
  },
  sourceDir: fileURLToPath(new URL("..", import.meta.url)),
  // Pulumi.yaml defaults it to "" (a declared key without a default would be required).
  sourceBucket: config.get("sourceBucket") || undefined,
  invokers: { ingestHttp: memberList("ingestInvokers"), costReport: memberList("reportReaders") },
  httpIngress: config.get<Ingress>("ingestIngress", { allowedValues: [...INGRESS] }) ?? "ALLOW_ALL",
  enableApis: config.getBoolean("enableApis") ?? true,
});

export const topicNames = pipeline.topicNames;
export const datasetId = pipeline.datasetId;
export const functionUrls = pipeline.functionUrls;
