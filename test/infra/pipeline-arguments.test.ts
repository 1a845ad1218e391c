import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { FunctionSpec } from "../../functions/registry.ts";
import { EventPipeline, type EventPipelineArgs } from "../../infra/components/event-pipeline.ts";
import { PROJECT, type Recorded, recordResources, settled } from "./pulumi-program.ts";

// The component refuses what cannot be deployed safely before it declares any resource.

const ARGS: EventPipelineArgs = {
  project: PROJECT,
  region: "europe-west1",
  dataset: { id: "x", location: "EU", partitionExpirationDays: 1, rejectedExpirationDays: 1 },
  sourceDir: fileURLToPath(new URL("../..", import.meta.url)),
  configFile: "{}",
  secrets: { slackBotToken: "xoxb-test" },
};

let recorded: Recorded[];

beforeAll(async () => {
  recorded = await recordResources();
});

async function refuses(name: string, args: Partial<EventPipelineArgs>, message: RegExp): Promise<void> {
  const before = recorded.length;
  expect(() => new EventPipeline(name, { ...ARGS, ...args })).toThrow(message);
  await settled(recorded);
  expect(recorded.slice(before).filter((r) => r.type !== "finops:index:EventPipeline")).toEqual([]);
}

describe("EventPipeline arguments", () => {
  it("refuses a public invoker", async () => {
    await refuses("public", { invokers: { ingestHttp: ["allUsers"] } }, /allUsers may not invoke/);
  });

  it("refuses invokers of a function that is not HTTP", async () => {
    await refuses(
      "topic-invoker",
      { invokers: { notifySlack: ["group:g@example.com"] } },
      /not HTTP functions/,
    );
  });

  it("refuses to deploy a function that reads a secret without its value", async () => {
    await refuses(
      "no-token",
      { secrets: {} },
      /notifySlack reads the secret slackBotToken, which has no value/,
    );
  });

  it("refuses a public function that stores what it is sent without checking the bearer token", async () => {
    const spec: FunctionSpec = {
      target: "ingestHttp",
      folder: "ingest-http",
      trigger: { kind: "http" },
      public: { reason: "test", check: "message-signature" },
    };
    await refuses(
      "public-receiver",
      { functions: [spec] },
      /ingestHttp is public and stores what it is sent, so it must check the bearer token/,
    );
  });

  it("refuses invokers of a function anyone may invoke", async () => {
    await refuses(
      "public-invokers",
      { invokers: { ingestTraces: ["serviceAccount:sender@p.iam.gserviceaccount.com"] } },
      /invokers given for ingestTraces, which anyone may invoke \(bearer-token checks its callers\)/,
    );
  });

  it("refuses a public function that is not HTTP", async () => {
    const spec: FunctionSpec = {
      target: "ingestEvents",
      folder: "ingest-events",
      trigger: { kind: "topic", topic: "finops-events" },
      public: { reason: "test", check: "bearer-token" },
    };
    await refuses(
      "public-topic",
      { functions: [spec] },
      /ingestEvents is public, but only an HTTP function can be/,
    );
  });

  it("refuses a topic-triggered function whose topic has no dead-letter topic", async () => {
    const spec: FunctionSpec = {
      target: "ingestEvents",
      folder: "ingest-events",
      trigger: { kind: "topic", topic: "finops-alerts-dead-letter" },
    };
    await refuses("no-dlq", { functions: [spec] }, /finops-alerts-dead-letter has no dead-letter topic/);
  });

  it("refuses a function without a role set", async () => {
    const spec: FunctionSpec = { target: "mystery", folder: "ingest-http", trigger: { kind: "http" } };
    await refuses("no-roles", { functions: [spec] }, /no role set for function mystery/);
  });
});
