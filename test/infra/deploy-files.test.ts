import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { readStackConfig } from "../../infra/stack-config.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Pulumi.yaml's config declarations: key → its indented lines. */
function configDeclarations(): Map<string, string> {
  const text = readFileSync(`${ROOT}/Pulumi.yaml`, "utf8");
  const section = text.slice(text.indexOf("\nconfig:\n"));
  const declarations = new Map<string, string>();
  for (const block of section.split(/\n(?= {2}[a-z]+:\w+:)/).slice(1)) {
    const key = /^ {2}([a-z]+:\w+):/.exec(block)?.[1];
    if (key) declarations.set(key, block);
  }
  return declarations;
}

describe("Pulumi.yaml", () => {
  const declared = configDeclarations();

  it("declares what a stack sets for the deployment, each with a description", () => {
    for (const key of [
      "finops:configFile",
      "finops:slackToken",
      "finops:slackChannels",
      "finops:billingAccount",
      "finops:budgetProjects",
      "finops:partitionExpirationDays",
      "finops:rejectedExpirationDays",
      "finops:awsEnabled",
      "finops:awsAnomalyThresholdUsd",
      "finops:awsMonitorArn",
      "finops:network",
      "finops:subnetwork",
    ]) {
      expect(declared.has(key), key).toBe(true);
    }
    for (const [key, block] of declared) {
      if (!block.includes("value:")) expect(block, key).toMatch(/\n {4}description: \S/);
    }
  });

  it("asks for the Slack token as a secret with no default, so a stack cannot deploy without it", () => {
    const token = declared.get("finops:slackToken") ?? "";
    expect(token).toMatch(/secret: true/);
    expect(token).not.toMatch(/default:/);
    expect(declared.get("finops:awsAnomalyThresholdUsd")).toMatch(/default: 100\b/);
    expect(declared.get("finops:awsEnabled")).toMatch(/default: false/);
  });
});

describe("npm run deploy", () => {
  it("stops with a clear message when the Pulumi CLI is not on PATH", () => {
    const result = spawnSync(process.execPath, ["infra/deploy.ts", "up"], {
      cwd: ROOT,
      env: { ...process.env, PATH: "" },
      encoding: "utf8",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/the Pulumi CLI is not on PATH\. Install it/);
  });

  it("is the script package.json runs, with a preview beside it", () => {
    const { scripts } = JSON.parse(readFileSync(`${ROOT}/package.json`, "utf8"));
    expect(scripts.deploy).toBe("node infra/deploy.ts up");
    expect(scripts.preview).toBe("node infra/deploy.ts preview");
  });
});

describe("the stack configuration", () => {
  it("accepts every default Pulumi.yaml declares, as the CLI passes them", async () => {
    const defaults = Object.fromEntries(
      [...configDeclarations()].flatMap(([key, block]) => {
        const value = /\n {4}default: (.*)/.exec(block)?.[1];
        return value === undefined ? [] : [[key, value.replace(/^"(.*)"$/, "$1")]];
      }),
    );
    await pulumi.runtime.setMocks(
      { newResource: () => ({ id: "", state: {} }), call: () => ({}) },
      "finops",
      "x",
    );
    const required = { "gcp:project": "p", "gcp:region": "europe-west1", "finops:slackToken": "xoxb-x" };
    pulumi.runtime.setAllConfig({ ...defaults, ...required }, ["finops:slackToken"]);
    const stack = readStackConfig();
    expect(stack).toMatchObject({
      configFile: undefined,
      billingAccount: undefined,
      budgetProjects: [],
      slackChannels: {},
      dataset: {
        id: "finops",
        partitionExpirationDays: 400,
        rejectedExpirationDays: 30,
        deletionProtection: true,
      },
      aws: { enabled: false, anomalyThresholdUsd: 100, monitorArn: undefined },
      invokers: { ingestHttp: [], costReport: [], dashboard: [] },
    });
    pulumi.runtime.setAllConfig({ ...defaults, ...required, "finops:billingAccount": "not-an-account" });
    expect(() => readStackConfig()).toThrow(/finops:billingAccount "not-an-account" does not match/);
  });
});
