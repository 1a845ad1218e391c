import { join } from "node:path";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { TOPICS } from "#ports/bus.ts";
import { FUNCTIONS, type FunctionSpec } from "../../functions/registry.ts";
import { REQUIRED_APIS } from "../apis.ts";
import { readTableSpecs } from "../bigquery-ddl.ts";
import { after, type ChildOptions } from "../child-options.ts";
import { planFunctions } from "../function-plan.ts";
import {
  DEPLOYED_CONFIG_FILE,
  type FunctionSettings,
  functionEnvironment,
  type Ingress,
} from "../function-settings.ts";
import { type BillingExportDataset, declareGrant } from "../grants.ts";
import { FUNCTION_ROLES, ROLES, type RoleSet, type TopicKey } from "../iam-roles.ts";
import { accountId, childName, functionName, kebab } from "../names.ts";
import { declarePushSubscription, pushAckDeadline } from "../push-subscription.ts";
import { readReportViews } from "../report-views.ts";
import { declareSecrets, secretEnvironment, secretFileEnvironment, secretVolumes } from "../secret-store.ts";
import { type SecretKey, valueFromStack } from "../secrets.ts";
import { createSourceArchive, sourceFiles } from "../source-archive.ts";
import { TOPIC_KEYS, topicKeyOf, topicRetention, WORKING_TOPIC_RETENTION } from "../topics.ts";
import type { VpcEgress } from "../vpc-egress.ts";
import { declareWarehouse, planWarehouse } from "../warehouse.ts";

export interface PipelineDatasetArgs {
  /** Dataset id; the functions get it as FINOPS_BQ_DATASET. */
  id: string;
  /** BigQuery location ("US", "EU", a region); query jobs run there (FINOPS_BQ_LOCATION). */
  location: string;
  /** Days cost_events partitions are kept (`{{partition_expiration_days}}` in the DDL). */
  partitionExpirationDays: number;
  /** Days rejected_events partitions are kept (`{{rejected_expiration_days}}`). */
  rejectedExpirationDays: number;
  /** Refuse to delete the tables with the stack (default true: they hold the cost history). */
  deletionProtection?: boolean;
}

export interface EventPipelineArgs {
  /** Project that holds everything; GOOGLE_CLOUD_PROJECT for the functions. */
  project: string;
  /** Region of the functions and scheduler jobs. */
  region: string;
  dataset: PipelineDatasetArgs;
  /** Repository root the function source is taken from (functions/, shared/, sql/, config/, manifests). */
  sourceDir: string;
  /** The configuration file the functions run with: written into the source archive, named by FINOPS_CONFIG. */
  configFile: pulumi.Input<string>;
  /**
   * Values of the stack-held secrets by key (infra/secrets.ts); each function whose role set reads one
   * gets it. The operator-filled ones are created empty when a function reads them.
   */
  secrets?: Readonly<Partial<Record<SecretKey, pulumi.Input<string>>>>;
  /** Topics the budgets publish enforcement events on (budgets[].enforcement.topic). */
  enforcementTopics?: readonly string[];
  /** Datasets of the Cloud Billing exports reconciliation reads (reconciliation.sources[].table). */
  billingExports?: readonly BillingExportDataset[];
  /** Existing bucket for the source archive; a private bucket is created when absent. */
  sourceBucket?: pulumi.Input<string>;
  /** The functions to deploy; the registry's by default. Each needs a role set. */
  functions?: readonly FunctionSpec[];
  /** Members allowed to invoke an HTTP function, by target (ingestHttp: the event senders). Never public. */
  invokers?: Readonly<Record<string, readonly string[]>>;
  /** Ingress of HTTP functions that outside callers reach (default ALLOW_ALL, IAM still required). */
  httpIngress?: Ingress;
  /** Direct VPC egress of the functions that call private endpoints (infra/vpc-egress.ts); none when absent. */
  vpcEgress?: VpcEgress;
  /** Per-target changes to the sizing of infra/function-settings.ts. */
  settings?: Readonly<Record<string, Partial<FunctionSettings>>>;
  /** Role sets by target (default infra/iam-roles.ts FUNCTION_ROLES). */
  roles?: Readonly<Record<string, RoleSet>>;
  /** Service account Cloud Build runs function builds as; the project's default when absent. */
  buildServiceAccount?: pulumi.Input<string>;
  /** Enable the APIs the pipeline uses (default true); never disabled on destroy. */
  enableApis?: boolean;
  labels?: Readonly<Record<string, string>>;
}

/**
 * The whole Google Cloud side: topics with dead-letter topics, the warehouse dataset, tables and report
 * views, the Slack and ingest token secrets, one least-privilege identity per function, the functions, the push
 * subscriptions that feed the topic-triggered ones, and the scheduler jobs. Everything is derived from
 * functions/registry.ts, infra/iam-roles.ts and sql/bigquery, so a new function or table needs no
 * change here.
 */
export class EventPipeline extends pulumi.ComponentResource {
  /** The Google APIs the pipeline enabled: whatever else the stack declares in the project waits for them. */
  readonly apis: readonly gcp.projects.Service[];
  readonly topics: Readonly<Record<TopicKey, gcp.pubsub.Topic>>;
  readonly enforcementTopics: Readonly<Record<string, gcp.pubsub.Topic>>;
  readonly dataset: gcp.bigquery.Dataset;
  readonly tables: Readonly<Record<string, gcp.bigquery.Table>>;
  readonly views: Readonly<Record<string, gcp.bigquery.Table>>;
  readonly secrets: Readonly<Partial<Record<SecretKey, gcp.secretmanager.Secret>>>;
  readonly sourceObject: gcp.storage.BucketObject;
  readonly functions: Readonly<Record<string, gcp.cloudfunctionsv2.Function>>;
  readonly serviceAccounts: Readonly<Record<string, gcp.serviceaccount.Account>>;
  readonly subscriptions: Readonly<Record<string, gcp.pubsub.Subscription>>;
  readonly schedulerJobs: Readonly<Record<string, gcp.cloudscheduler.Job>>;
  readonly topicNames: pulumi.Output<Record<TopicKey, string>>;
  readonly enforcementTopicNames: pulumi.Output<string[]>;
  readonly datasetId: pulumi.Output<string>;
  readonly functionUrls: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: EventPipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("finops:index:EventPipeline", name, {}, opts);

    const { project, region } = args;
    const specs = args.functions ?? FUNCTIONS;
    const roles = args.roles ?? FUNCTION_ROLES;
    const labels = { app: "finops", component: name, ...args.labels };
    const secretValues = args.secrets ?? {};

    // Everything that can be wrong in the arguments or the repository fails here, before any resource.
    const plans = planFunctions(specs, {
      roles,
      settings: args.settings,
      invokers: args.invokers,
      httpIngress: args.httpIngress,
      secrets: Object.keys(secretValues) as SecretKey[],
      vpcEgress: args.vpcEgress,
    });
    const files = sourceFiles(args.sourceDir, specs);
    const warehouse = planWarehouse({
      project,
      datasetId: args.dataset.id,
      location: args.dataset.location,
      tables: readTableSpecs(join(args.sourceDir, "sql", "bigquery")),
      views: readReportViews(join(args.sourceDir, "sql", "bigquery", "views")),
      expirationDays: {
        partition_expiration_days: args.dataset.partitionExpirationDays,
        rejected_expiration_days: args.dataset.rejectedExpirationDays,
      },
      deletionProtection: args.dataset.deletionProtection ?? true,
      labels,
    });

    const apis =
      args.enableApis === false
        ? []
        : REQUIRED_APIS.map(
            (service) =>
              new gcp.projects.Service(
                childName(name, "api", service.split(".")[0] ?? service),
                { project, service, disableOnDestroy: false, disableDependentServices: false },
                { parent: this },
              ),
          );
    const child: ChildOptions = { parent: this, dependsOn: apis };

    const topic = (topicName: string, retention: string, key: string) =>
      new gcp.pubsub.Topic(
        childName(name, "topic", key),
        { project, name: topicName, messageRetentionDuration: retention, labels },
        after(child),
      );
    const topics = Object.fromEntries(
      TOPIC_KEYS.map((key) => [key, topic(TOPICS[key], topicRetention(key), key)]),
    ) as Record<TopicKey, gcp.pubsub.Topic>;
    const ownTopicNames: readonly string[] = Object.values(TOPICS);
    const enforcementTopics = Object.fromEntries(
      [...new Set(args.enforcementTopics ?? [])]
        .sort()
        .map((topicName) => [
          topicName,
          ownTopicNames.includes(topicName)
            ? topics[topicKeyOf(topicName)]
            : topic(topicName, WORKING_TOPIC_RETENTION, `enforcement-${kebab(topicName)}`),
        ]),
    );

    const { dataset, tables, views } = declareWarehouse(name, warehouse, child);

    const operated = [...new Set(plans.flatMap((p) => p.reads))].filter((key) => !valueFromStack(key));
    const stored = declareSecrets(name, { project, values: secretValues, operated, labels }, child);
    const secrets = Object.fromEntries(
      Object.entries(stored).map(([key, entry]) => [key, entry.secret]),
    ) as Partial<Record<SecretKey, gcp.secretmanager.Secret>>;

    const bucketName =
      args.sourceBucket ??
      new gcp.storage.Bucket(
        childName(name, "sources"),
        {
          project,
          location: region,
          uniformBucketLevelAccess: true,
          publicAccessPrevention: "enforced",
          forceDestroy: false,
          labels,
        },
        after(child),
      ).name;
    const source = pulumi
      .output(args.configFile)
      .apply((text) => createSourceArchive(args.sourceDir, files, specs, { [DEPLOYED_CONFIG_FILE]: text }));
    // Named by content: a change uploads a new object, and the new object name redeploys the functions.
    const sourceObject = new gcp.storage.BucketObject(
      childName(name, "source"),
      {
        bucket: bucketName,
        name: source.apply((s) => `${name}/source-${s.hash.slice(0, 20)}.zip`),
        source: source.apply((s) => s.archive),
        contentType: "application/zip",
      },
      after(child),
    );

    const pubsubAgent = new gcp.projects.ServiceIdentity(
      childName(name, "pubsub-agent"),
      { project, service: "pubsub.googleapis.com" },
      after(child),
    ).member;
    // The Pub/Sub service agent moves undeliverable messages to the dead-letter topics.
    const deadLetterPublishers = Object.fromEntries(
      [...new Set(plans.flatMap((p) => (p.delivery ? [p.delivery.deadLetter] : [])))].map((key) => [
        key,
        new gcp.pubsub.TopicIAMMember(
          childName(name, "topic", key, "agent-publisher"),
          { project, topic: topics[key].name, role: ROLES.pubsubPublisher, member: pubsubAgent },
          after(child),
        ),
      ]),
    ) as Partial<Record<TopicKey, gcp.pubsub.TopicIAMMember>>;

    const env = functionEnvironment({ project, dataset: args.dataset.id, location: args.dataset.location });
    const member = (account: gcp.serviceaccount.Account) =>
      pulumi.interpolate`serviceAccount:${account.email}`;
    const serviceAccount = (parts: readonly string[], displayName: string, description: string) =>
      new gcp.serviceaccount.Account(
        childName(name, ...parts, "sa"),
        { project, accountId: accountId(name, ...parts), displayName, description },
        after(child),
      );
    const targets = {
      project,
      dataset,
      topics,
      enforcementTopics,
      secrets,
      billingExports: args.billingExports ?? [],
    };

    const scheduled = plans.filter((p) => p.schedule !== undefined);
    // One identity for every job: it may invoke the scheduled functions and nothing else.
    const schedulerAccount =
      scheduled.length === 0
        ? undefined
        : serviceAccount(
            ["scheduler"],
            "finops Cloud Scheduler",
            `Cloud Scheduler calls ${scheduled.map((p) => p.spec.target).join(", ")} with an OIDC token of this account.`,
          );

    const functions: Record<string, gcp.cloudfunctionsv2.Function> = {};
    const serviceAccounts: Record<string, gcp.serviceaccount.Account> = {};
    const subscriptions: Record<string, gcp.pubsub.Subscription> = {};
    const schedulerJobs: Record<string, gcp.cloudscheduler.Job> = {};

    for (const plan of plans) {
      const { spec, settings } = plan;
      const fnName = functionName(name, spec.folder);
      const runtimeAccount = serviceAccount(
        [spec.folder],
        `finops ${spec.target} runtime`,
        `Runs the ${spec.target} function; roles from infra/iam-roles.ts only.`,
      );
      serviceAccounts[spec.target] = runtimeAccount;
      const grants = plan.grants.flatMap((g) =>
        declareGrant(childName(name, spec.folder), member(runtimeAccount), g, targets, child),
      );

      const fn = new gcp.cloudfunctionsv2.Function(
        childName(name, spec.folder),
        {
          project,
          location: region,
          name: fnName,
          description: `finops ${spec.target} (${spec.trigger.kind} trigger)`,
          labels,
          buildConfig: {
            runtime: "nodejs22",
            entryPoint: spec.target,
            source: { storageSource: { bucket: sourceObject.bucket, object: sourceObject.name } },
            // Security patches of the nodejs22 base image (Node 22.x) roll out without a redeploy.
            automaticUpdatePolicy: {},
            serviceAccount: args.buildServiceAccount,
          },
          serviceConfig: {
            availableMemory: settings.availableMemory,
            availableCpu: settings.availableCpu,
            maxInstanceRequestConcurrency: settings.concurrency,
            timeoutSeconds: settings.timeoutSeconds,
            minInstanceCount: settings.minInstances,
            maxInstanceCount: settings.maxInstances,
            ingressSettings: settings.ingress,
            allTrafficOnLatestRevision: true,
            serviceAccountEmail: runtimeAccount.email,
            environmentVariables: { ...env, ...secretFileEnvironment(plan.reads) },
            secretEnvironmentVariables: secretEnvironment(plan.reads, stored, project),
            secretVolumes: secretVolumes(plan.reads, stored, project),
            ...plan.egress,
          },
        },
        // The function starts only once its identity holds its roles.
        after(child, ...grants),
      );
      functions[spec.target] = fn;
      const serviceUrl = fn.serviceConfig.apply((config) => config?.uri ?? "");

      const invoke = (suffix: string, who: pulumi.Input<string>) =>
        new gcp.cloudrunv2.ServiceIamMember(
          childName(name, spec.folder, "invoker", suffix),
          { project, location: region, name: fn.name, role: ROLES.runInvoker, member: who },
          after(child),
        );
      plan.invokers.forEach((who, index) => {
        invoke(`member-${index}`, who);
      });
      // The registry says why this one is public (its caller cannot authenticate) and how it checks callers.
      if (spec.public !== undefined) invoke("public", "allUsers");

      if (plan.delivery !== undefined) {
        const { topic: topicKey, deadLetter } = plan.delivery;
        const pushAccount = serviceAccount(
          [spec.folder, "push"],
          `finops ${spec.target} push`,
          `Pub/Sub pushes ${TOPICS[topicKey]} messages to ${spec.target} as this account.`,
        );
        const pushInvoker = invoke("push", member(pushAccount));
        subscriptions[spec.target] = declarePushSubscription(
          childName(name, spec.folder),
          {
            project,
            subscriptionName: fnName,
            topic: topics[topicKey],
            deadLetterTopic: topics[deadLetter],
            serviceUrl,
            pushAccount,
            ackDeadlineSeconds: pushAckDeadline(settings.timeoutSeconds),
            pubsubAgent,
            labels,
          },
          {
            parent: this,
            dependsOn: [...apis, pushInvoker, deadLetterPublishers[deadLetter] as pulumi.Resource],
          },
        );
      }

      if (plan.schedule !== undefined && schedulerAccount !== undefined) {
        const schedulerInvoker = invoke("scheduler", member(schedulerAccount));
        schedulerJobs[spec.target] = new gcp.cloudscheduler.Job(
          childName(name, spec.folder, "schedule"),
          {
            project,
            region,
            name: fnName,
            description: `Runs ${spec.target} on ${plan.schedule.schedule} (${plan.schedule.timeZone}).`,
            schedule: plan.schedule.schedule,
            timeZone: plan.schedule.timeZone,
            attemptDeadline: plan.schedule.attemptDeadline,
            retryConfig: { retryCount: plan.schedule.retryCount },
            httpTarget: {
              uri: fn.url,
              httpMethod: "POST",
              oidcToken: { serviceAccountEmail: schedulerAccount.email, audience: fn.url },
            },
          },
          after(child, schedulerInvoker),
        );
      }
    }

    this.apis = apis;
    this.topics = topics;
    this.enforcementTopics = enforcementTopics;
    this.dataset = dataset;
    this.tables = tables;
    this.views = views;
    this.secrets = secrets;
    this.sourceObject = sourceObject;
    this.functions = functions;
    this.serviceAccounts = serviceAccounts;
    this.subscriptions = subscriptions;
    this.schedulerJobs = schedulerJobs;
    this.topicNames = pulumi.output(
      Object.fromEntries(TOPIC_KEYS.map((key) => [key, topics[key].name])) as Record<
        TopicKey,
        pulumi.Output<string>
      >,
    );
    this.enforcementTopicNames = pulumi.output(Object.values(enforcementTopics).map((t) => t.name));
    this.datasetId = dataset.datasetId;
    this.functionUrls = pulumi.output(
      Object.fromEntries(Object.entries(functions).map(([target, fn]) => [target, fn.url])),
    );

    this.registerOutputs({
      topicNames: this.topicNames,
      enforcementTopicNames: this.enforcementTopicNames,
      datasetId: this.datasetId,
      functionUrls: this.functionUrls,
    });
  }
}
