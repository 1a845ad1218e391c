import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { FUNCTIONS } from "../../functions/registry.ts";
import { readTableSpecs } from "../../infra/bigquery-ddl.ts";
import { PUSH_DELIVERY } from "../../infra/push-subscription.ts";
import { readReportViews } from "../../infra/report-views.ts";
import { TOPICS } from "../../shared/ports/bus.ts";
import {
  deployedConfigOf,
  FUNCTION,
  functionUrl,
  grantsByMember,
  PROJECT,
  type ProgramRun,
  PUBSUB_AGENT,
  runProgram,
  runUri,
  SLACK_TOKEN,
  SUBSCRIPTION,
} from "./pulumi-program.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SENDER = "serviceAccount:sender@other-project.iam.gserviceaccount.com";
const READER = "group:finance@example.com";
const DATASET = "finops_test";
const ENFORCEMENT_TOPIC = "nlp-training-queue";

let run: ProgramRun;

beforeAll(async () => {
  run = await runProgram(
    {
      "gcp:project": PROJECT,
      "gcp:region": "europe-west1",
      "finops:dataset": DATASET,
      "finops:datasetLocation": "EU",
      "finops:partitionExpirationDays": "90",
      "finops:ingestInvokers": JSON.stringify([SENDER]),
      "finops:reportReaders": JSON.stringify([READER]),
      "finops:configFile": "test/infra/fixtures/finops.config.json",
      "finops:slackToken": SLACK_TOKEN,
      "finops:slackChannels": JSON.stringify({
        teams: { "nlp-team": "#nlp-spend" },
        severities: { critical: "#finops-oncall" },
      }),
      "finops:billingAccount": "012345-6789AB-CDEF01",
      "finops:budgetProjects": JSON.stringify(["ml-serving-prod"]),
    },
    ["finops:slackToken"],
  );
});

const spec = (target: string) => FUNCTIONS.find((f) => f.target === target);
const fnOf = (target: string) =>
  run.ofType(FUNCTION).find((f) => (f.inputs.buildConfig as { entryPoint?: string }).entryPoint === target);
const serviceOf = (target: string) => fnOf(target)?.inputs.serviceConfig as Record<string, unknown>;
const fnName = (folder: string) => `finops-${folder}`;
const sa = (id: string) => `serviceAccount:${id}@${PROJECT}.iam.gserviceaccount.com`;
const topicFunctions = FUNCTIONS.filter((f) => f.trigger.kind === "topic");
const scheduledFunctions = FUNCTIONS.filter((f) => f.trigger.kind === "schedule");

describe("topics and subscriptions", () => {
  it("creates every topic of TOPICS and each budget's enforcement topic, with message retention", () => {
    const topics = run.ofType("gcp:pubsub/topic:Topic");
    expect(topics.map((t) => t.inputs.name).sort()).toEqual(
      [...Object.values(TOPICS), ENFORCEMENT_TOPIC].sort(),
    );
    for (const topic of topics) {
      const retention = String(topic.inputs.name).endsWith("dead-letter") ? "2678400s" : "604800s";
      expect(topic.inputs.messageRetentionDuration).toBe(retention);
    }
  });

  it("gives every subscription a retry policy and a dead-letter topic that bounds its attempts", () => {
    const subscriptions = run.ofType(SUBSCRIPTION);
    expect(subscriptions).toHaveLength(topicFunctions.length);
    for (const subscription of subscriptions) {
      const topic = String(subscription.inputs.topic).split("/").pop();
      expect(subscription.inputs).toMatchObject({
        retryPolicy: { minimumBackoff: "10s", maximumBackoff: "600s" },
        deadLetterPolicy: {
          deadLetterTopic: `projects/${PROJECT}/topics/${topic}-dead-letter`,
          maxDeliveryAttempts: PUSH_DELIVERY.maxDeliveryAttempts,
        },
        expirationPolicy: { ttl: "" },
      });
      expect(Object.values(TOPICS)).toContain(`${topic}-dead-letter`);
    }
  });

  it("pushes each topic-triggered function's topic to its Cloud Run URL with OIDC, instead of an Eventarc trigger", () => {
    for (const f of topicFunctions) {
      if (f.trigger.kind !== "topic") continue;
      const subscription = run.ofType(SUBSCRIPTION).find((s) => s.inputs.name === fnName(f.folder));
      const uri = runUri(fnName(f.folder));
      expect(subscription?.inputs).toMatchObject({
        topic: `projects/${PROJECT}/topics/${f.trigger.topic}`,
        pushConfig: {
          pushEndpoint: `${uri}/projects/${PROJECT}/topics/${f.trigger.topic}`,
          oidcToken: {
            serviceAccountEmail: `${fnName(f.folder)}-push@${PROJECT}.iam.gserviceaccount.com`,
            audience: uri,
          },
        },
      });
      expect(subscription?.inputs.ackDeadlineSeconds).toBe(serviceOf(f.target).timeoutSeconds);
    }
    for (const fn of run.ofType(FUNCTION)) expect(fn.inputs.eventTrigger).toBeUndefined();
  });

  it("lets the Pub/Sub service agent publish dead letters, acknowledge them, and sign push tokens", () => {
    const agent = grantsByMember(run).get(PUBSUB_AGENT) ?? [];
    const deadLetters = [
      ...new Set(topicFunctions.map((f) => (f.trigger.kind === "topic" ? f.trigger.topic : ""))),
    ];
    expect(agent).toEqual(
      [
        ...deadLetters.map((t) => `topic:${t}-dead-letter roles/pubsub.publisher`),
        ...topicFunctions.map((f) => `subscription:${fnName(f.folder)} roles/pubsub.subscriber`),
        ...topicFunctions.map(
          (f) =>
            `serviceAccount:${fnName(f.folder)}-push@${PROJECT}.iam.gserviceaccount.com roles/iam.serviceAccountTokenCreator`,
        ),
      ].sort(),
    );
  });
});

describe("functions", () => {
  it("deploys every registry function with its entry point, nodejs22 and the source archive", () => {
    const functions = run.ofType(FUNCTION);
    expect(functions).toHaveLength(FUNCTIONS.length);
    const object = run.ofType("gcp:storage/bucketObject:BucketObject");
    expect(object).toHaveLength(1);
    for (const f of FUNCTIONS) {
      const fn = fnOf(f.target);
      expect(fn?.inputs.name).toBe(fnName(f.folder));
      expect(fn?.inputs.buildConfig).toMatchObject({
        runtime: "nodejs22",
        entryPoint: f.target,
        source: { storageSource: { bucket: "finops-sources-4f2a9c1", object: object[0]?.inputs.name } },
      });
    }
  });

  it("gives every function its configuration file, the warehouse and bus environment, and no secret value", () => {
    for (const f of FUNCTIONS) {
      expect(serviceOf(f.target).environmentVariables).toEqual({
        FINOPS_CONFIG: "finops.config.json",
        FINOPS_WAREHOUSE: "bigquery",
        FINOPS_BUS: "pubsub",
        FINOPS_BQ_DATASET: DATASET,
        FINOPS_BQ_LOCATION: "EU",
        FINOPS_LOG_FORMAT: "json",
        GOOGLE_CLOUD_PROJECT: PROJECT,
        ...(f.public?.check === "bearer-token"
          ? { FINOPS_INGEST_TOKEN_FILE: "/etc/secrets/ingest-token/latest" }
          : {}),
      });
    }
  });

  it("gives no function Direct VPC egress when the stack names no network", () => {
    for (const fn of run.ofType(FUNCTION)) {
      expect(fn.inputs.serviceConfig).not.toHaveProperty("directVpcNetworkInterfaces");
      expect(fn.inputs.serviceConfig).not.toHaveProperty("directVpcEgress");
    }
  });

  it("sizes each function for its load", () => {
    expect(serviceOf("ingestEvents")).toMatchObject({
      availableMemory: "512Mi",
      availableCpu: "1",
      maxInstanceRequestConcurrency: 8,
      timeoutSeconds: 60,
      ingressSettings: "ALLOW_INTERNAL_ONLY",
    });
    expect(serviceOf("ingestHttp")).toMatchObject({ ingressSettings: "ALLOW_ALL" });
    expect(serviceOf("refreshRollups")).toMatchObject({
      maxInstanceCount: 1,
      maxInstanceRequestConcurrency: 1,
    });
    expect(serviceOf("notifySlack")).toMatchObject({ maxInstanceRequestConcurrency: 4, maxInstanceCount: 3 });
    expect(serviceOf("costReport")).toMatchObject({ availableMemory: "1Gi" });
    if (spec("dashboard")) expect(serviceOf("dashboard")).toMatchObject({ availableMemory: "1Gi" });
  });

  it("runs every scheduled function from Cloud Scheduler with OIDC as the one scheduler account", () => {
    const jobs = run.ofType("gcp:cloudscheduler/job:Job");
    expect(jobs).toHaveLength(scheduledFunctions.length);
    for (const f of scheduledFunctions) {
      if (f.trigger.kind !== "schedule") continue;
      const job = jobs.find((j) => j.inputs.name === fnName(f.folder));
      const url = functionUrl(fnName(f.folder));
      expect(job?.inputs).toMatchObject({
        schedule: f.trigger.cron,
        timeZone: "Etc/UTC",
        httpTarget: {
          uri: url,
          httpMethod: "POST",
          oidcToken: {
            serviceAccountEmail: `finops-scheduler@${PROJECT}.iam.gserviceaccount.com`,
            audience: url,
          },
        },
      });
    }
  });

  it("schedules budgets and anomalies hourly, and the digests weekly, as the issue asks", () => {
    const cron = (target: string) => {
      const trigger = spec(target)?.trigger;
      return trigger?.kind === "schedule" ? trigger.cron : undefined;
    };
    expect(cron("evaluateBudgets")).toMatch(/^\d+ \* \* \* \*$/);
    expect(cron("detectAnomalies")).toMatch(/^\d+ \* \* \* \*$/);
    for (const weekly of ["sendBudgetDigest", "sendScorecardDigest"]) {
      if (spec(weekly)) expect(cron(weekly)).toMatch(/^\d+ \d+ \* \* \d$/);
    }
    if (spec("reconcileDaily")) expect(cron("reconcileDaily")).toMatch(/^\d+ \d+ \* \* \*$/);
  });
});

describe("the Slack token", () => {
  it("is a Secret Manager secret whose version holds the configured token, marked secret", () => {
    const secrets = run.ofType("gcp:secretmanager/secret:Secret");
    expect(secrets.map((s) => s.inputs.secretId).sort()).toEqual([
      "finops-ingest-token",
      "finops-slack-bot-token",
    ]);
    const versions = run.ofType("gcp:secretmanager/secretVersion:SecretVersion");
    expect(versions.map((v) => v.inputs.secretData)).toEqual([
      { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value: SLACK_TOKEN },
    ]);
  });

  it("reaches notifySlack alone, as SLACK_BOT_TOKEN pinned to the version, and nothing else holds it", () => {
    for (const f of FUNCTIONS) {
      const secretEnv = serviceOf(f.target).secretEnvironmentVariables;
      if (f.target === "notifySlack") {
        expect(secretEnv).toEqual([
          { key: "SLACK_BOT_TOKEN", projectId: PROJECT, secret: "finops-slack-bot-token", version: "1" },
        ]);
      } else {
        expect(secretEnv).toBeUndefined();
      }
    }
    const accessors = run
      .ofType("gcp:secretmanager/secretIamMember:SecretIamMember")
      .filter((a) => a.inputs.secretId === "finops-slack-bot-token");
    expect(accessors.map((a) => [a.inputs.member, a.inputs.role])).toEqual([
      [sa("finops-notify-slack"), "roles/secretmanager.secretAccessor"],
    ]);
    const holders = run.recorded.filter((r) => JSON.stringify(r.inputs).includes(SLACK_TOKEN));
    expect(holders.map((r) => r.type)).toEqual(["gcp:secretmanager/secretVersion:SecretVersion"]);
  });
});

describe("the ingest token", () => {
  const tokenChecked = FUNCTIONS.filter((f) => f.public?.check === "bearer-token");

  it("is a secret the stack creates without a version: the operator adds them, so no value is in the stack", () => {
    const secret = run
      .ofType("gcp:secretmanager/secret:Secret")
      .find((s) => s.inputs.secretId === "finops-ingest-token");
    expect(secret?.inputs).toMatchObject({ project: PROJECT, replication: { auto: {} } });
    const versions = run.ofType("gcp:secretmanager/secretVersion:SecretVersion");
    expect(versions.map((v) => v.name)).toEqual(["finops-secret-slack-bot-token-version"]);
  });

  it("is mounted at its latest version in every token-checked receiver, which alone may read it", () => {
    expect(tokenChecked.map((f) => f.target)).toEqual(["ingestTraces", "ingestLiteLlm"]);
    for (const f of FUNCTIONS) {
      const volumes = serviceOf(f.target).secretVolumes;
      if (f.public?.check === "bearer-token") {
        expect(volumes).toEqual([
          {
            mountPath: "/etc/secrets/ingest-token",
            projectId: PROJECT,
            secret: "finops-ingest-token",
            versions: [{ path: "latest", version: "latest" }],
          },
        ]);
      } else {
        expect(volumes).toBeUndefined();
      }
    }
    const accessors = run
      .ofType("gcp:secretmanager/secretIamMember:SecretIamMember")
      .filter((a) => a.inputs.secretId === "finops-ingest-token");
    expect(accessors.map((a) => [a.inputs.member, a.inputs.role])).toEqual(
      tokenChecked.map((f) => [sa(fnName(f.folder)), "roles/secretmanager.secretAccessor"]),
    );
  });

  it("makes the receivers that check it invocable by anyone, with ingress from anywhere", () => {
    for (const f of tokenChecked) {
      expect(serviceOf(f.target).ingressSettings).toBe("ALLOW_ALL");
      const invokers = run
        .ofType("gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
        .filter((b) => b.inputs.name === fnName(f.folder));
      expect(invokers.map((b) => [b.inputs.member, b.inputs.role])).toEqual([
        ["allUsers", "roles/run.invoker"],
      ]);
    }
  });
});

describe("the warehouse", () => {
  const tables = () => run.ofType("gcp:bigquery/table:Table").filter((t) => t.inputs.view === undefined);

  it("partitions cost_events by HOUR on event_time, clusters by model and business_unit, requires a partition filter", () => {
    expect(tables().find((t) => t.inputs.tableId === "cost_events")?.inputs).toMatchObject({
      datasetId: DATASET,
      timePartitioning: { type: "HOUR", field: "event_time", expirationMs: 90 * 86_400_000 },
      clusterings: ["event_type", "model", "business_unit"],
      requirePartitionFilter: true,
    });
    expect(tables().find((t) => t.inputs.tableId === "cost_hourly")?.inputs).toMatchObject({
      timePartitioning: { type: "DAY", field: "hour" },
      clusterings: ["team", "model"],
      requirePartitionFilter: true,
    });
    expect(tables().find((t) => t.inputs.tableId === "rejected_events")?.inputs).toMatchObject({
      timePartitioning: { type: "DAY", field: "rejected_at", expirationMs: 30 * 86_400_000 },
    });
  });

  it("enables the Storage Write API, which ingest streams raw rows through, beside BigQuery's own", () => {
    const services = run.ofType("gcp:projects/service:Service").map((api) => api.inputs.service);
    expect(services).toEqual(
      expect.arrayContaining(["bigquery.googleapis.com", "bigquerystorage.googleapis.com"]),
    );
  });

  it("creates every table the DDL in sql/bigquery creates, with its partitioning, clustering and filter", () => {
    const specs = readTableSpecs(join(ROOT, "sql", "bigquery"));
    expect(
      tables()
        .map((t) => t.inputs.tableId)
        .sort(),
    ).toEqual(specs.map((s) => s.tableId).sort());
    for (const s of specs) {
      const table = tables().find((t) => t.inputs.tableId === s.tableId);
      expect(table?.inputs.requirePartitionFilter).toBe(s.requirePartitionFilter);
      expect(table?.inputs.clusterings).toEqual(s.clustering.length > 0 ? s.clustering : undefined);
      expect((table?.inputs.timePartitioning as { field?: string } | undefined)?.field).toBe(
        s.partitioning?.field,
      );
      expect(JSON.parse(String(table?.inputs.schema))).toHaveLength(s.columns.length);
      expect(table?.inputs.deletionProtection).toBe(true);
    }
  });

  it("creates one view per file in sql/bigquery/views, over this project's dataset", () => {
    const views = run.ofType("gcp:bigquery/table:Table").filter((t) => t.inputs.view !== undefined);
    const files = readReportViews(join(ROOT, "sql", "bigquery", "views"));
    expect(views.map((v) => v.inputs.tableId).sort()).toEqual(files.map((f) => f.viewId).sort());
    for (const view of views) {
      const { query, useLegacySql } = view.inputs.view as { query: string; useLegacySql: boolean };
      expect(useLegacySql).toBe(false);
      expect(query).not.toContain("{{");
      expect(query).toContain(`${PROJECT}.${DATASET}`);
    }
  });
});

describe("identities", () => {
  const runtime = (folder: string) => sa(fnName(folder));
  const editor = [
    `dataset:${DATASET} roles/bigquery.dataEditor`,
    `project:${PROJECT} roles/bigquery.jobUser`,
  ];
  const viewer = [
    `dataset:${DATASET} roles/bigquery.dataViewer`,
    `project:${PROJECT} roles/bigquery.jobUser`,
  ];
  const publish = (topic: string) => `topic:${topic} roles/pubsub.publisher`;
  /** Each function's runtime grants, by target. A function without an entry here fails the test. */
  const RUNTIME_GRANTS: Record<string, string[]> = {
    ingestEvents: [...editor, publish(TOPICS.eventsDeadLetter)],
    ingestHttp: [...editor, publish(TOPICS.eventsDeadLetter)],
    ingestTraces: [
      ...editor,
      publish(TOPICS.eventsDeadLetter),
      "secret:finops-ingest-token roles/secretmanager.secretAccessor",
    ],
    ingestLiteLlm: [
      ...editor,
      publish(TOPICS.eventsDeadLetter),
      "secret:finops-ingest-token roles/secretmanager.secretAccessor",
    ],
    refreshRollups: editor,
    costReport: viewer,
    dashboard: viewer,
    syncTrainingCosts: viewer,
    importMlflowRuns: [...editor, publish(TOPICS.eventsDeadLetter)],
    collectAllocations: [publish(TOPICS.events)],
    evaluateBudgets: [...editor, publish(TOPICS.alerts), publish(ENFORCEMENT_TOPIC)],
    sendBudgetDigest: [...editor, publish(TOPICS.alerts)],
    detectAnomalies: [...editor, publish(TOPICS.alerts)],
    reconcileDaily: [...editor, publish(TOPICS.alerts), "dataset:billing_export roles/bigquery.dataViewer"],
    sendScorecardDigest: [...editor, publish(TOPICS.alerts)],
    notifySlack: [...editor, "secret:finops-slack-bot-token roles/secretmanager.secretAccessor"],
    routeGcpBudget: [publish(TOPICS.alerts), publish(TOPICS.gcpBudgetsDeadLetter)],
    routeAwsAnomaly: [publish(TOPICS.alerts), publish(TOPICS.gcpBudgetsDeadLetter)],
  };
  const invoker = (folder: string) => `function:${fnName(folder)} roles/run.invoker`;

  it("has expected grants for every function in the registry", () => {
    expect(FUNCTIONS.map((f) => f.target).filter((t) => RUNTIME_GRANTS[t] === undefined)).toEqual([]);
  });

  it("gives each service account exactly its roles, and nothing public but the SNS endpoint and the token-checked receivers", () => {
    const expected = new Map<string, string[]>();
    for (const f of FUNCTIONS) expected.set(runtime(f.folder), [...(RUNTIME_GRANTS[f.target] ?? [])].sort());
    for (const f of topicFunctions) expected.set(sa(`${fnName(f.folder)}-push`), [invoker(f.folder)]);
    expected.set(sa("finops-scheduler"), scheduledFunctions.map((f) => invoker(f.folder)).sort());
    expected.set(SENDER, [invoker("ingest-http")]);
    expected.set(
      READER,
      FUNCTIONS.filter((f) => ["costReport", "dashboard"].includes(f.target))
        .map((f) => invoker(f.folder))
        .sort(),
    );
    expected.set("allUsers", [
      invoker("ingest-lite-llm"),
      invoker("ingest-traces"),
      invoker("route-aws-anomaly"),
    ]);
    expected.set("serviceAccount:billing-budget-alert@system.gserviceaccount.com", [
      publish(TOPICS.gcpBudgets),
    ]);
    const grants = grantsByMember(run);
    grants.delete(PUBSUB_AGENT);
    expect(grants).toEqual(expected);
    const accounts = run
      .ofType("gcp:serviceaccount/account:Account")
      .map((a) => sa(String(a.inputs.accountId)));
    expect(accounts.sort()).toEqual(
      [...expected.keys()].filter((m) => m.endsWith(`@${PROJECT}.iam.gserviceaccount.com`)).sort(),
    );
  });

  it("makes only the functions the registry says why public, and only to invoke them", () => {
    const publicOnes = run.recorded.filter((r) =>
      /allUsers|allAuthenticatedUsers/.test(JSON.stringify(r.inputs)),
    );
    expect(publicOnes.map((b) => b.name).sort()).toEqual(
      FUNCTIONS.filter((f) => f.public !== undefined)
        .map((f) => `finops-${f.folder}-invoker-public`)
        .sort(),
    );
    expect(FUNCTIONS.filter((f) => f.public !== undefined).map((f) => [f.target, f.public?.check])).toEqual([
      ["ingestTraces", "bearer-token"],
      ["ingestLiteLlm", "bearer-token"],
      ["routeAwsAnomaly", "message-signature"],
    ]);
    for (const binding of publicOnes)
      expect(binding.inputs).toMatchObject({ member: "allUsers", role: "roles/run.invoker" });
  });
});

describe("Cloud Billing budgets", () => {
  const budgets = () => run.ofType("gcp:billing/budget:Budget");
  const budget = (name: string) => budgets().find((b) => b.inputs.displayName === name)?.inputs;
  const current = (...percents: number[]) =>
    percents.map((p) => ({ thresholdPercent: p, spendBasis: "CURRENT_SPEND" }));
  const forecast = (...percents: number[]) =>
    percents.map((p) => ({ thresholdPercent: p, spendBasis: "FORECASTED_SPEND" }));

  it("creates one for each configured budget that maps to a Google Cloud scope", () => {
    expect(
      budgets()
        .map((b) => b.inputs.displayName)
        .sort(),
    ).toEqual(["all-ai-monthly", "nlp-monthly", "research-quarterly"]);
  });

  it("alerts at 50/80/100/125% of current spend and, with forecast, at the forecast's 100 and 125%", () => {
    expect(budget("nlp-monthly")).toMatchObject({
      billingAccount: "012345-6789AB-CDEF01",
      amount: { specifiedAmount: { currencyCode: "USD", units: "20000", nanos: 0 } },
      budgetFilter: {
        calendarPeriod: "MONTH",
        labels: { team: "nlp-team" },
        projects: ["projects/number-of-ml-serving-prod"],
      },
      thresholdRules: [...current(0.5, 0.8, 1, 1.25), ...forecast(1, 1.25)],
    });
    expect(budget("research-quarterly")).toMatchObject({
      amount: { specifiedAmount: { units: "150000", nanos: 500_000_000 } },
      budgetFilter: { calendarPeriod: "QUARTER", labels: { business_unit: "research" } },
      thresholdRules: current(0.8, 1),
    });
    expect(budget("all-ai-monthly")?.budgetFilter).not.toHaveProperty("labels");
  });

  it("sends every update to the billing-notification topic, which Cloud Billing may publish to", () => {
    for (const b of budgets()) {
      expect(b.inputs.allUpdatesRule).toEqual({
        pubsubTopic: `projects/${PROJECT}/topics/${TOPICS.gcpBudgets}`,
        schemaVersion: "1.0",
      });
    }
    expect(run.ofType("pulumi:providers:gcp")[0]?.inputs).toMatchObject({
      billingProject: PROJECT,
      userProjectOverride: "true",
    });
  });

  it("skips the budgets no Cloud Billing filter can express, saying why", () => {
    const skipped = run.logs.filter((line) => line.includes("no Cloud Billing budget"));
    expect(skipped).toEqual([
      expect.stringMatching(/vision-weekly: .*period weekly/),
      expect.stringMatching(/speech-aws: .*scope\.cloud is aws/),
      expect.stringMatching(/nlp-llama: .*team and model: .* one label/),
      expect.stringMatching(/notebooks: .*namespace/),
      expect.stringMatching(/shouting: .*"NLP Team" is not a Google Cloud label value/),
    ]);
  });
});

describe("the deployed configuration", () => {
  let config: Record<string, Record<string, unknown>>;

  beforeAll(async () => {
    config = await deployedConfigOf(run);
  });

  it("is the stack's file with the warehouse, bus, Slack channel map and budget owners laid over it", () => {
    expect(config.warehouse).toMatchObject({
      kind: "bigquery",
      bigquery: { dataset: DATASET, location: "EU", partitionExpirationDays: 90 },
    });
    expect(config.bus).toEqual({ kind: "pubsub" });
    expect(config.alerts?.routing).toEqual({
      fallbackChannel: "#finops-alerts",
      teams: { vision: "#vision-spend", "nlp-team": "#nlp-spend" },
      severities: { critical: "#finops-oncall" },
    });
    expect(config.gcpBudgets?.teams).toEqual({
      "nlp-monthly": "nlp-team",
      "all-ai-monthly": "finops",
      "research-quarterly": "research-leads",
    });
    expect(config.pricing).toEqual({ catalog: "config/price-catalog.json" });
    expect(config.awsAnomalies).toBeUndefined();
    expect(JSON.stringify(config)).not.toContain(SLACK_TOKEN);
  });
});

describe("the stack", () => {
  it("creates nothing on AWS when the AWS part is off", () => {
    expect(run.recorded.filter((r) => r.type.startsWith("aws:"))).toEqual([]);
  });

  it("names every child after the component", () => {
    for (const child of run.recorded.filter((r) => !r.type.startsWith("finops:index:"))) {
      expect(child.name.startsWith("finops-")).toBe(true);
    }
  });

  it("exports topic names, the dataset id, function URLs and budget names, and no secret", () => {
    expect(run.outputs).toEqual({
      topicNames: { ...TOPICS },
      enforcementTopicNames: [ENFORCEMENT_TOPIC],
      datasetId: DATASET,
      functionUrls: Object.fromEntries(FUNCTIONS.map((f) => [f.target, functionUrl(fnName(f.folder))])),
      billingBudgetNames: ["nlp-monthly", "research-quarterly", "all-ai-monthly"],
      awsAnomalyTopicArn: undefined,
      costExplorerRoleArn: undefined,
    });
    const text = JSON.stringify(run.outputs);
    expect(text).not.toContain(SLACK_TOKEN);
    expect(text).not.toMatch(
      /secret|token|password|private[_-]?key|BEGIN [A-Z ]*PRIVATE|xox[abpr]-|AKIA[0-9A-Z]{16}/i,
    );
  });
});
