import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { FUNCTIONS } from "../../functions/registry.ts";
import { TOPICS } from "../../shared/ports/bus.ts";

// Runs infra/index.ts under Pulumi mocks: every resource is recorded with its inputs; any provider
// function call is an error (the program must not look anything up), so a new one has to be added
// here on purpose.

const PROJECT = "finops-test-project";
const SENDER = "serviceAccount:sender@other-project.iam.gserviceaccount.com";

interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  state: Record<string, unknown>;
}

const recorded: Recorded[] = [];

/** What a provider computes and the program reads back (emails, URLs, ids). */
function computed(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "gcp:serviceaccount/account:Account":
      return { email: `${inputs.accountId}@${PROJECT}.iam.gserviceaccount.com` };
    case "gcp:cloudfunctionsv2/function:Function":
      return { url: `https://${inputs.name}-abc123-uc.a.run.app` };
    case "gcp:pubsub/topic:Topic":
      return { id: `projects/${PROJECT}/topics/${inputs.name}` };
    case "gcp:storage/bucket:Bucket":
      return { name: `${name}-4f2a9c1` };
    default:
      return {};
  }
}

async function settled(): Promise<void> {
  let stableTurns = 0;
  let seen = -1;
  while (stableTurns < 3) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    stableTurns = recorded.length === seen ? stableTurns + 1 : 0;
    seen = recorded.length;
  }
}

function outputValue<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

const ofType = (type: string) => recorded.filter((r) => r.type === type);
const FUNCTION = "gcp:cloudfunctionsv2/function:Function";
const IAM_TYPES = [
  "gcp:projects/iAMMember:IAMMember",
  "gcp:bigquery/datasetIamMember:DatasetIamMember",
  "gcp:pubsub/topicIAMMember:TopicIAMMember",
  "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
];

function scopeOf(binding: Recorded): string {
  switch (binding.type) {
    case "gcp:projects/iAMMember:IAMMember":
      return `project:${binding.inputs.project}`;
    case "gcp:bigquery/datasetIamMember:DatasetIamMember":
      return `dataset:${binding.inputs.datasetId}`;
    case "gcp:pubsub/topicIAMMember:TopicIAMMember":
      return `topic:${binding.inputs.topic}`;
    default:
      return `function:${binding.inputs.name}`;
  }
}

/** Every member's grants as "scope role" strings. */
function grantsByMember(): Map<string, string[]> {
  const grants = new Map<string, string[]>();
  for (const binding of recorded.filter((r) => IAM_TYPES.includes(r.type))) {
    const member = String(binding.inputs.member);
    grants.set(member, [...(grants.get(member) ?? []), `${scopeOf(binding)} ${binding.inputs.role}`].sort());
  }
  return grants;
}

let outputs: Record<string, unknown>;

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const state = { ...args.inputs, ...computed(args.type, args.name, args.inputs) };
        recorded.push({ type: args.type, name: args.name, inputs: args.inputs, state });
        return { id: typeof state.id === "string" ? state.id : `${args.name}-id`, state };
      },
      call(args) {
        throw new Error(`unexpected provider call ${args.token}`);
      },
    },
    "finops",
    "test",
    false,
  );
  pulumi.runtime.setAllConfig({
    "gcp:project": PROJECT,
    "gcp:region": "europe-west1",
    "finops:dataset": "finops_test",
    "finops:datasetLocation": "EU",
    "finops:partitionExpirationDays": "90",
    "finops:ingestInvokers": JSON.stringify([SENDER]),
  });
  const program = await import("../../infra/index.ts");
  outputs = {
    topicNames: await outputValue(program.topicNames),
    datasetId: await outputValue(program.datasetId),
    functionUrls: await outputValue(program.functionUrls),
  };
  await settled();
});

describe("EventPipeline", () => {
  it("is one component of type finops:index:EventPipeline named after the project", () => {
    expect(ofType("finops:index:EventPipeline").map((r) => r.name)).toEqual(["finops"]);
  });

  it("creates the three topics of TOPICS with message retention", () => {
    const topics = ofType("gcp:pubsub/topic:Topic");
    expect(topics.map((t) => t.inputs.name).sort()).toEqual(Object.values(TOPICS).sort());
    for (const topic of topics) expect(topic.inputs.messageRetentionDuration).toMatch(/^\d+s$/);
  });

  it("deploys every registry function with its entry point, nodejs22 and its trigger", () => {
    const functions = ofType(FUNCTION);
    expect(functions).toHaveLength(FUNCTIONS.length);
    for (const spec of FUNCTIONS) {
      const fn = functions.find(
        (f) => (f.inputs.buildConfig as { entryPoint?: string }).entryPoint === spec.target,
      );
      if (!fn) throw new Error(`no Function for ${spec.target}`);
      const build = fn.inputs.buildConfig as Record<string, unknown>;
      expect(build.runtime).toBe("nodejs22");
      expect(fn.inputs.name).toBe(`finops-${spec.folder}`);
      const trigger = fn.inputs.eventTrigger as Record<string, unknown> | undefined;
      if (spec.trigger.kind === "topic") {
        expect(trigger).toMatchObject({
          eventType: "google.cloud.pubsub.topic.v1.messagePublished",
          pubsubTopic: `projects/${PROJECT}/topics/${spec.trigger.topic}`,
          retryPolicy: "RETRY_POLICY_RETRY",
        });
      } else {
        expect(trigger).toBeUndefined();
      }
      if (spec.trigger.kind === "schedule") {
        const job = ofType("gcp:cloudscheduler/job:Job").find((j) => j.inputs.name === fn.inputs.name);
        const url = `https://finops-${spec.folder}-abc123-uc.a.run.app`;
        expect(job?.inputs).toMatchObject({
          schedule: spec.trigger.cron,
          timeZone: "Etc/UTC",
          httpTarget: { uri: url, httpMethod: "POST", oidcToken: { audience: url } },
        });
      }
    }
  });

  it("gives the functions the warehouse and bus environment, and no secret", () => {
    for (const fn of ofType(FUNCTION)) {
      const service = fn.inputs.serviceConfig as Record<string, unknown>;
      expect(service.environmentVariables).toEqual({
        FINOPS_WAREHOUSE: "bigquery",
        FINOPS_BUS: "pubsub",
        FINOPS_BQ_DATASET: "finops_test",
        FINOPS_BQ_LOCATION: "EU",
        FINOPS_LOG_FORMAT: "json",
        GOOGLE_CLOUD_PROJECT: PROJECT,
      });
      expect(service.secretEnvironmentVariables).toBeUndefined();
    }
  });

  it("sizes ingest at 512Mi, one vCPU, 60 s, and keeps refresh to one instance", () => {
    const service = (target: string) =>
      ofType(FUNCTION).find((f) => (f.inputs.buildConfig as { entryPoint: string }).entryPoint === target)
        ?.inputs.serviceConfig as Record<string, unknown>;
    expect(service("ingestEvents")).toMatchObject({
      availableMemory: "512Mi",
      availableCpu: "1",
      timeoutSeconds: 60,
      ingressSettings: "ALLOW_INTERNAL_ONLY",
    });
    expect(service("ingestHttp")).toMatchObject({ ingressSettings: "ALLOW_ALL" });
    expect(service("refreshRollups")).toMatchObject({
      maxInstanceCount: 1,
      maxInstanceRequestConcurrency: 1,
    });
  });

  it("partitions cost_events by DAY on event_time, clusters by model and business_unit, requires a partition filter", () => {
    const table = ofType("gcp:bigquery/table:Table").find((t) => t.inputs.tableId === "cost_events");
    expect(table?.inputs).toMatchObject({
      datasetId: "finops_test",
      timePartitioning: { type: "DAY", field: "event_time", expirationMs: 90 * 86_400_000 },
      clusterings: ["model", "business_unit"],
      requirePartitionFilter: true,
    });
  });

  it("partitions cost_hourly on hour clustered by team and model, and creates rejected_events", () => {
    const tables = ofType("gcp:bigquery/table:Table");
    expect(tables.map((t) => t.inputs.tableId).sort()).toEqual([
      "cost_events",
      "cost_hourly",
      "rejected_events",
    ]);
    expect(tables.find((t) => t.inputs.tableId === "cost_hourly")?.inputs).toMatchObject({
      timePartitioning: { type: "DAY", field: "hour" },
      clusterings: ["team", "model"],
      requirePartitionFilter: true,
    });
    const schema = JSON.parse(String(tables.find((t) => t.inputs.tableId === "cost_events")?.inputs.schema));
    expect(schema).toContainEqual({ name: "cost", type: "NUMERIC", mode: "REQUIRED" });
  });

  it("grants nothing to allUsers or allAuthenticatedUsers but the invoking of the functions the registry says why", () => {
    const bindings = recorded.filter((r) => IAM_TYPES.includes(r.type) || /iam/i.test(r.type));
    expect(bindings.length).toBeGreaterThan(0);
    const publicOnes = bindings.filter((b) =>
      /allUsers|allAuthenticatedUsers/.test(JSON.stringify(b.inputs)),
    );
    const allowed = FUNCTIONS.filter((f) => f.public !== undefined).map(
      (f) => `finops-${f.folder}-invoker-public`,
    );
    expect(publicOnes.map((b) => b.name).sort()).toEqual(allowed.sort());
    for (const binding of publicOnes) {
      expect(binding.inputs).toMatchObject({ member: "allUsers", role: "roles/run.invoker" });
    }
  });

  it("gives each service account exactly its roles", () => {
    const sa = (id: string) => `serviceAccount:${id}@${PROJECT}.iam.gserviceaccount.com`;
    const ingest = [
      `dataset:finops_test roles/bigquery.dataEditor`,
      `project:${PROJECT} roles/bigquery.jobUser`,
      `topic:${TOPICS.eventsDeadLetter} roles/pubsub.publisher`,
    ];
    const router = [
      `topic:${TOPICS.alerts} roles/pubsub.publisher`,
      `topic:${TOPICS.gcpBudgetsDeadLetter} roles/pubsub.publisher`,
    ];
    const expected = new Map<string, string[]>([
      [sa("finops-ingest-events"), ingest],
      [sa("finops-ingest-http"), ingest],
      [
        sa("finops-refresh-rollups"),
        [`dataset:finops_test roles/bigquery.dataEditor`, `project:${PROJECT} roles/bigquery.jobUser`],
      ],
      [
        sa("finops-cost-report"),
        [`dataset:finops_test roles/bigquery.dataViewer`, `project:${PROJECT} roles/bigquery.jobUser`],
      ],
      [sa("finops-collect-allocations"), [`topic:${TOPICS.events} roles/pubsub.publisher`]],
      [sa("finops-collect-allocations-sch"), ["function:finops-collect-allocations roles/run.invoker"]],
      [
        sa("finops-sync-training-costs"),
        [`dataset:finops_test roles/bigquery.dataViewer`, `project:${PROJECT} roles/bigquery.jobUser`],
      ],
      [sa("finops-sync-training-costs-sch"), ["function:finops-sync-training-costs roles/run.invoker"]],
      [
        sa("finops-evaluate-budgets"),
        [
          `dataset:finops_test roles/bigquery.dataEditor`,
          `project:${PROJECT} roles/bigquery.jobUser`,
          `topic:${TOPICS.alerts} roles/pubsub.publisher`,
        ],
      ],
      [sa("finops-evaluate-budgets-sch"), ["function:finops-evaluate-budgets roles/run.invoker"]],
      [
        sa("finops-send-budget-digest"),
        [
          `dataset:finops_test roles/bigquery.dataEditor`,
          `project:${PROJECT} roles/bigquery.jobUser`,
          `topic:${TOPICS.alerts} roles/pubsub.publisher`,
        ],
      ],
      [sa("finops-send-budget-digest-sch"), ["function:finops-send-budget-digest roles/run.invoker"]],
      [
        sa("finops-detect-anomalies"),
        [
          `dataset:finops_test roles/bigquery.dataEditor`,
          `project:${PROJECT} roles/bigquery.jobUser`,
          `topic:${TOPICS.alerts} roles/pubsub.publisher`,
        ],
      ],
      [sa("finops-detect-anomalies-sch"), ["function:finops-detect-anomalies roles/run.invoker"]],
      [
        sa("finops-notify-slack"),
        [`dataset:finops_test roles/bigquery.dataEditor`, `project:${PROJECT} roles/bigquery.jobUser`],
      ],
      [sa("finops-notify-slack-trg"), ["function:finops-notify-slack roles/run.invoker"]],
      [sa("finops-route-aws-anomaly"), router],
      [sa("finops-route-gcp-budget"), router],
      [sa("finops-route-gcp-budget-trg"), ["function:finops-route-gcp-budget roles/run.invoker"]],
      [sa("finops-ingest-events-trg"), ["function:finops-ingest-events roles/run.invoker"]],
      [sa("finops-refresh-rollups-sch"), ["function:finops-refresh-rollups roles/run.invoker"]],
      [SENDER, ["function:finops-ingest-http roles/run.invoker"]],
      ["allUsers", ["function:finops-route-aws-anomaly roles/run.invoker"]],
    ]);
    expect(grantsByMember()).toEqual(expected);
    const accounts = ofType("gcp:serviceaccount/account:Account").map((a) => sa(String(a.inputs.accountId)));
    const people = new Set([SENDER, "allUsers"]);
    expect(accounts.sort()).toEqual([...expected.keys()].filter((m) => !people.has(m)).sort());
  });

  it("uploads one source archive, named by content, that every function builds from", () => {
    const objects = ofType("gcp:storage/bucketObject:BucketObject");
    expect(objects).toHaveLength(1);
    expect(objects[0]?.inputs.name).toMatch(/^finops\/source-[0-9a-f]{20}\.zip$/);
    for (const fn of ofType(FUNCTION)) {
      expect((fn.inputs.buildConfig as { source: unknown }).source).toEqual({
        storageSource: { bucket: "finops-sources-4f2a9c1", object: objects[0]?.inputs.name },
      });
    }
    const bucket = ofType("gcp:storage/bucket:Bucket")[0];
    expect(bucket?.inputs).toMatchObject({
      uniformBucketLevelAccess: true,
      publicAccessPrevention: "enforced",
    });
  });

  it("names every child after the component", () => {
    const children = recorded.filter((r) => r.type !== "finops:index:EventPipeline");
    expect(children.length).toBeGreaterThan(20);
    for (const child of children) expect(child.name.startsWith("finops-")).toBe(true);
  });

  it("exports topic names, the dataset id and function URLs, nothing secret-looking", () => {
    expect(outputs).toEqual({
      topicNames: { ...TOPICS },
      datasetId: "finops_test",
      functionUrls: Object.fromEntries(
        FUNCTIONS.map((f) => [f.target, `https://finops-${f.folder}-abc123-uc.a.run.app`]),
      ),
    });
    const text = JSON.stringify(outputs);
    expect(text).not.toMatch(
      /secret|token|password|private[_-]?key|BEGIN [A-Z ]*PRIVATE|xox[abpr]-|AKIA[0-9A-Z]{16}/i,
    );
  });

  it("refuses a public invoker before declaring anything", async () => {
    const { EventPipeline } = await import("../../infra/components/event-pipeline.ts");
    const before = recorded.length;
    expect(
      () =>
        new EventPipeline("public", {
          project: PROJECT,
          region: "europe-west1",
          dataset: { id: "x", location: "EU", partitionExpirationDays: 1, rejectedExpirationDays: 1 },
          sourceDir: fileURLToPath(new URL("../..", import.meta.url)),
          invokers: { ingestHttp: ["allUsers"] },
        }),
    ).toThrow(/allUsers may not invoke/);
    await settled();
    expect(recorded.slice(before).filter((r) => r.type !== "finops:index:EventPipeline")).toEqual([]);
  });
});
