import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { TOPICS } from "#ports/bus.ts";
import { FUNCTIONS, type FunctionSpec } from "../../functions/registry.ts";
import { REQUIRED_APIS } from "../apis.ts";
import { daysToMs, TABLES, type TableSpec, tableSchemaJson } from "../bigquery-schemas.ts";
import {
  type FunctionSettings,
  functionEnvironment,
  type Ingress,
  resolveSettings,
} from "../function-settings.ts";
import {
  checkInvokerMembers,
  FUNCTION_ROLES,
  grantsOf,
  ROLES,
  type RoleSet,
  roleSetFor,
  type TopicKey,
} from "../iam-roles.ts";
import { accountId, childName, functionName } from "../names.ts";
import { schedulerSettings } from "../schedule.ts";
import { createSourceArchive } from "../source-archive.ts";
import { TOPIC_KEYS, TOPIC_RETENTION, topicKeyOf } from "../topics.ts";

export interface PipelineDatasetArgs {
  /** Dataset id; the functions get it as FINOPS_BQ_DATASET. */
  id: string;
  /** BigQuery location ("US", "EU", a region); query jobs run there (FINOPS_BQ_LOCATION). */
  location: string;
  /** Days cost_events partitions are kept. */
  partitionExpirationDays: number;
  /** Days rejected_events partitions are kept. */
  rejectedExpirationDays: number;
  /** Refuse to delete the tables with the stack (default true: they hold the cost history). */
  deletionProtection?: boolean;
}

export interface EventPipelineArgs {
  /** Project that holds everything; GOOGLE_CLOUD_PROJECT for the functions. */
  project: string;
  /** Region of the functions, their triggers and scheduler jobs. */
  region: string;
  dataset: PipelineDatasetArgs;
  /** Repository root the function source is taken from (functions/, shared/, sql/, config/, manifests). */
  sourceDir: string;
  /** Existing bucket for the source archive; a private bucket is created when absent. */
  sourceBucket?: pulumi.Input<string>;
  /** The functions to deploy; the registry's by default. Each needs a role set. */
  functions?: readonly FunctionSpec[];
  /** Members allowed to invoke an HTTP function, by target (ingestHttp: the event senders). Never public. */
  invokers?: Readonly<Record<string, readonly string[]>>;
  /** Ingress of HTTP functions that outside callers reach (default ALLOW_ALL, IAM still required). */
  httpIngress?: Ingress;
  /** Per-target changes to the sizing defaults of infra/function-settings.ts. */
  settings?: Readonly<Record<string, Partial<FunctionSettings>>>;
  /** Role sets by target (default infra/iam-roles.ts FUNCTION_ROLES). */
  roles?: Readonly<Record<string, RoleSet>>;
  /** Message retention per topic, as a duration ("604800s"). */
  topicRetention?: Partial<Record<TopicKey, string>>;
  /** Service account Cloud Build runs function builds as; the project's default when absent. */
  buildServiceAccount?: pulumi.Input<string>;
  /** Enable the APIs the pipeline uses (default true); never disabled on destroy. */
  enableApis?: boolean;
  labels?: Readonly<Record<string, string>>;
}

const EVENT_TYPE_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished";

/**
 * The ingest path: topics, the warehouse dataset and tables, one least-privilege identity per
 * function, the functions and their triggers. A later stage (budgets, alerts) adds its functions to
 * the registry and their role sets to infra/iam-roles.ts and reads `topics` and `dataset` from here.
 *
 * Dead letters: the events subscription is Eventarc's, which has no dead-letter policy of ours. The
 * function itself publishes refused input to the dead-letter topic (and the rejected_events table) and
 * acknowledges; it throws only on transient faults, which Eventarc retries (RETRY_POLICY_RETRY) with
 * backoff for the subscription's retention. Dedupe is by (source, id), so redelivery is harmless.
 */
export class EventPipeline extends pulumi.ComponentResource {
  readonly topics: Readonly<Record<TopicKey, gcp.pubsub.Topic>>;
  readonly dataset: gcp.bigquery.Dataset;
  readonly tables: Readonly<Record<string, gcp.bigquery.Table>>;
  readonly sourceObject: gcp.storage.BucketObject;
  readonly functions: Readonly<Record<string, gcp.cloudfunctionsv2.Function>>;
  readonly serviceAccounts: Readonly<Record<string, gcp.serviceaccount.Account>>;
  readonly schedulerJobs: Readonly<Record<string, gcp.cloudscheduler.Job>>;
  readonly topicNames: pulumi.Output<Record<TopicKey, string>>;
  readonly datasetId: pulumi.Output<string>;
  readonly functionUrls: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: EventPipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("finops:index:EventPipeline", name, {}, opts);

    const { project, region } = args;
    const specs = args.functions ?? FUNCTIONS;
    const roles = args.roles ?? FUNCTION_ROLES;
    const labels = { app: "finops", component: name, ...args.labels };

    // Everything that can be wrong in the arguments fails here, before any resource is declared.
    const plans = specs.map((spec) => {
      const overrides = {
        ...(spec.trigger.kind === "http" ? { ingress: args.httpIngress ?? "ALLOW_ALL" } : {}),
        ...args.settings?.[spec.target],
      };
      const settings = resolveSettings(spec, overrides);
      return {
        spec,
        settings,
        roles: roleSetFor(spec.target, roles),
        invokers: checkInvokerMembers(spec.target, args.invokers?.[spec.target] ?? []),
        topic: spec.trigger.kind === "topic" ? topicKeyOf(spec.trigger.topic) : undefined,
        schedule:
          spec.trigger.kind === "schedule"
            ? schedulerSettings(spec.trigger.cron, settings.timeoutSeconds)
            : undefined,
      };
    });
    const unknownInvokers = Object.keys(args.invokers ?? {}).filter(
      (target) => !specs.some((s) => s.target === target && s.trigger.kind === "http"),
    );
    if (unknownInvokers.length > 0) {
      throw new Error(`invokers given for ${unknownInvokers.join(", ")}, which are not HTTP functions`);
    }
    const source = createSourceArchive(args.sourceDir, specs);

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
    const child: pulumi.CustomResourceOptions = { parent: this, dependsOn: apis };

    const topics = Object.fromEntries(
      TOPIC_KEYS.map((key) => [
        key,
        new gcp.pubsub.Topic(
          childName(name, "topic", key),
          {
            project,
            name: TOPICS[key],
            messageRetentionDuration: args.topicRetention?.[key] ?? TOPIC_RETENTION[key],
            labels,
          },
          child,
        ),
      ]),
    ) as Record<TopicKey, gcp.pubsub.Topic>;

    const dataset = new gcp.bigquery.Dataset(
      childName(name, "dataset"),
      {
        project,
        datasetId: args.dataset.id,
        location: args.dataset.location,
        description: "AI cost attribution: raw cost events, hourly rollups, refused input.",
        deleteContentsOnDestroy: false,
        labels,
      },
      child,
    );
    const expirationMs = (spec: TableSpec): number | undefined =>
      spec.expiration === "events"
        ? daysToMs(args.dataset.partitionExpirationDays)
        : spec.expiration === "rejected"
          ? daysToMs(args.dataset.rejectedExpirationDays)
          : undefined;
    const tables = Object.fromEntries(
      TABLES.map((spec) => [
        spec.tableId,
        new gcp.bigquery.Table(
          childName(name, "table", spec.tableId.replaceAll("_", "-")),
          {
            project,
            datasetId: dataset.datasetId,
            tableId: spec.tableId,
            description: spec.description,
            schema: tableSchemaJson(spec),
            timePartitioning: { type: "DAY", field: spec.partitionField, expirationMs: expirationMs(spec) },
            clusterings: spec.clustering.length > 0 ? [...spec.clustering] : undefined,
            requirePartitionFilter: spec.requirePartitionFilter,
            deletionProtection: args.dataset.deletionProtection ?? true,
            labels,
          },
          child,
        ),
      ]),
    );

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
        child,
      ).name;
    // Named by content: a change uploads a new object, and the new object name redeploys the functions.
    const sourceObject = new gcp.storage.BucketObject(
      childName(name, "source"),
      {
        bucket: bucketName,
        name: `${name}/source-${source.hash.slice(0, 20)}.zip`,
        source: source.archive,
        contentType: "application/zip",
      },
      child,
    );

    const env = functionEnvironment({ project, dataset: args.dataset.id, location: args.dataset.location });
    const member = (account: gcp.serviceaccount.Account) =>
      pulumi.interpolate`serviceAccount:${account.email}`;
    const functions: Record<string, gcp.cloudfunctionsv2.Function> = {};
    const serviceAccounts: Record<string, gcp.serviceaccount.Account> = {};
    const schedulerJobs: Record<string, gcp.cloudscheduler.Job> = {};

    for (const plan of plans) {
      const { spec, settings } = plan;
      const fnName = functionName(name, spec.folder);
      const runtimeAccount = new gcp.serviceaccount.Account(
        childName(name, spec.folder, "sa"),
        {
          project,
          accountId: accountId(name, spec.folder),
          displayName: `finops ${spec.target} runtime`,
          description: `Runs the ${spec.target} function; roles from infra/iam-roles.ts only.`,
        },
        child,
      );
      serviceAccounts[spec.target] = runtimeAccount;

      const grants = grantsOf(plan.roles).map((grant) => {
        const grantName = childName(
          name,
          spec.folder,
          grant.scope.replace(":", "-"),
          grant.role.split("/")[1] ?? grant.role,
        );
        const who = member(runtimeAccount);
        if (grant.scope === "project") {
          return new gcp.projects.IAMMember(grantName, { project, role: grant.role, member: who }, child);
        }
        if (grant.scope === "dataset") {
          return new gcp.bigquery.DatasetIamMember(
            grantName,
            { project, datasetId: dataset.datasetId, role: grant.role, member: who },
            child,
          );
        }
        const topic = topics[grant.scope.slice("topic:".length) as TopicKey];
        return new gcp.pubsub.TopicIAMMember(
          grantName,
          { project, topic: topic.name, role: grant.role, member: who },
          child,
        );
      });

      // Eventarc pushes as its own identity, which may invoke this function and nothing else.
      const triggerAccount =
        plan.topic === undefined
          ? undefined
          : new gcp.serviceaccount.Account(
              childName(name, spec.folder, "trigger-sa"),
              {
                project,
                accountId: accountId(name, spec.folder, "trg"),
                displayName: `finops ${spec.target} Eventarc trigger`,
                description: `Eventarc pushes ${TOPICS[plan.topic]} messages to ${spec.target} as this account.`,
              },
              child,
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
            environmentVariables: env,
          },
          eventTrigger:
            plan.topic === undefined || triggerAccount === undefined
              ? undefined
              : {
                  triggerRegion: region,
                  eventType: EVENT_TYPE_PUBLISHED,
                  pubsubTopic: topics[plan.topic].id,
                  retryPolicy: "RETRY_POLICY_RETRY",
                  serviceAccountEmail: triggerAccount.email,
                },
        },
        // The function starts only once its identity holds its roles.
        { parent: this, dependsOn: [...apis, ...grants] },
      );
      functions[spec.target] = fn;

      const invoke = (suffix: string, who: pulumi.Input<string>) =>
        new gcp.cloudrunv2.ServiceIamMember(
          childName(name, spec.folder, "invoker", suffix),
          { project, location: region, name: fn.name, role: ROLES.runInvoker, member: who },
          child,
        );
      if (triggerAccount !== undefined) invoke("trigger", member(triggerAccount));
      plan.invokers.forEach((who, index) => {
        invoke(`member-${index}`, who);
      });
      // The registry says why this one is public (its caller cannot authenticate; it checks itself).
      if (spec.public !== undefined) invoke("public", "allUsers");

      if (plan.schedule !== undefined) {
        const schedulerAccount = new gcp.serviceaccount.Account(
          childName(name, spec.folder, "scheduler-sa"),
          {
            project,
            accountId: accountId(name, spec.folder, "sch"),
            displayName: `finops ${spec.target} scheduler`,
            description: `Cloud Scheduler calls ${spec.target} with an OIDC token of this account.`,
          },
          child,
        );
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
          { parent: this, dependsOn: [...apis, schedulerInvoker] },
        );
      }
    }

    this.topics = topics;
    this.dataset = dataset;
    this.tables = tables;
    this.sourceObject = sourceObject;
    this.functions = functions;
    this.serviceAccounts = serviceAccounts;
    this.schedulerJobs = schedulerJobs;
    this.topicNames = pulumi.output(
      Object.fromEntries(TOPIC_KEYS.map((key) => [key, topics[key].name])) as Record<
        TopicKey,
        pulumi.Output<string>
      >,
    );
    this.datasetId = dataset.datasetId;
    this.functionUrls = pulumi.output(
      Object.fromEntries(Object.entries(functions).map(([target, fn]) => [target, fn.url])),
    );

    this.registerOutputs({
      topicNames: this.topicNames,
      datasetId: this.datasetId,
      functionUrls: this.functionUrls,
    });
  }
}
