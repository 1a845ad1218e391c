import * as pulumi from "@pulumi/pulumi";

// Runs infra/index.ts under Pulumi mocks: every resource is recorded with its inputs. The only
// provider function the program may call is the project lookup the budget filters need; any other
// call is an error (the program must not look anything up), so a new one has to be added here on
// purpose. Each test file runs the program once, in its own module graph.

export const PROJECT = "finops-test-project";
export const PROJECT_NUMBER = "123456789012";
export const AWS_ACCOUNT = "210987654321";
export const PUBSUB_AGENT = `serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com`;
export const SLACK_TOKEN = "xoxb-1111-2222-test-token-not-real";

export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  state: Record<string, unknown>;
}

export const FUNCTION = "gcp:cloudfunctionsv2/function:Function";
export const SUBSCRIPTION = "gcp:pubsub/subscription:Subscription";

/** The URL and Cloud Run URI the mock gives a function of that name. */
export const functionUrl = (fnName: string) => `https://europe-west1-${PROJECT}.cloudfunctions.net/${fnName}`;
export const runUri = (fnName: string) => `https://${fnName}-abc123-ew.a.run.app`;

/** What a provider computes and the program reads back (emails, URLs, ids, versions). */
function computed(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "gcp:serviceaccount/account:Account":
      return {
        email: `${inputs.accountId}@${PROJECT}.iam.gserviceaccount.com`,
        name: `projects/${PROJECT}/serviceAccounts/${inputs.accountId}@${PROJECT}.iam.gserviceaccount.com`,
        uniqueId: `uid-${inputs.accountId}`,
      };
    case FUNCTION:
      return {
        url: functionUrl(String(inputs.name)),
        serviceConfig: { ...(inputs.serviceConfig as object), uri: runUri(String(inputs.name)) },
      };
    case "gcp:pubsub/topic:Topic":
      return { id: `projects/${PROJECT}/topics/${inputs.name}` };
    case "gcp:storage/bucket:Bucket":
      return { name: `${name}-4f2a9c1` };
    case "gcp:secretmanager/secret:Secret":
      return { id: `projects/${PROJECT}/secrets/${inputs.secretId}` };
    case "gcp:secretmanager/secretVersion:SecretVersion":
      return { version: "1" };
    case "gcp:projects/serviceIdentity:ServiceIdentity":
      return { member: PUBSUB_AGENT, email: PUBSUB_AGENT.slice("serviceAccount:".length) };
    case "aws:sns/topic:Topic":
      return { arn: `arn:aws:sns:us-east-1:${AWS_ACCOUNT}:${inputs.name}` };
    case "aws:costexplorer/anomalyMonitor:AnomalyMonitor":
      return { arn: `arn:aws:ce::${AWS_ACCOUNT}:anomalymonitor/${name}` };
    case "aws:iam/role:Role":
      return { arn: `arn:aws:iam::${AWS_ACCOUNT}:role/${name}` };
    default:
      return {};
  }
}

export async function settled(recorded: readonly Recorded[]): Promise<void> {
  let stableTurns = 0;
  let seen = -1;
  while (stableTurns < 3) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    stableTurns = recorded.length === seen ? stableTurns + 1 : 0;
    seen = recorded.length;
  }
}

function outputValue(output: unknown): Promise<unknown> {
  return pulumi.Output.isInstance(output)
    ? new Promise((resolve) => output.apply(resolve))
    : Promise.resolve(output);
}

export interface ProgramRun {
  recorded: Recorded[];
  /** Every stack output, resolved. */
  outputs: Record<string, unknown>;
  /** Pulumi log messages the program wrote (info and warn). */
  logs: string[];
  ofType(type: string): Recorded[];
}

/** Puts Pulumi under mocks that record every resource declared from now on. */
export async function recordResources(): Promise<Recorded[]> {
  const recorded: Recorded[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const state = { ...args.inputs, ...computed(args.type, args.name, args.inputs) };
        recorded.push({ type: args.type, name: args.name, inputs: args.inputs, state });
        return { id: typeof state.id === "string" ? state.id : `${args.name}-id`, state };
      },
      call(args) {
        if (args.token === "gcp:organizations/getProject:getProject") {
          return { number: `number-of-${args.inputs.projectId}`, projectId: args.inputs.projectId };
        }
        throw new Error(`unexpected provider call ${args.token}`);
      },
    },
    "finops",
    "test",
    false,
  );
  return recorded;
}

/** Runs the Pulumi program with this stack configuration; `secretKeys` are set as secrets. */
export async function runProgram(
  config: Record<string, string>,
  secretKeys: string[] = [],
): Promise<ProgramRun> {
  const recorded = await recordResources();
  const logs: string[] = [];
  pulumi.runtime.setAllConfig(config, secretKeys);
  for (const level of ["info", "warn"] as const) {
    const write = pulumi.log[level];
    pulumi.log[level] = (message: string, ...rest) => {
      logs.push(`${level}: ${message}`);
      return write(message, ...rest);
    };
  }
  const program: Record<string, unknown> = await import("../../infra/index.ts");
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(program)) outputs[key] = await outputValue(value);
  await settled(recorded);
  return { recorded, outputs, logs, ofType: (type) => recorded.filter((r) => r.type === type) };
}

/** Runs the program in the test project in europe-west1 with a Slack token and `config` laid over them. */
export function runStack(config: Record<string, string>): Promise<ProgramRun> {
  return runProgram(
    {
      "gcp:project": PROJECT,
      "gcp:region": "europe-west1",
      "finops:slackToken": SLACK_TOKEN,
      ...config,
    },
    ["finops:slackToken"],
  );
}

/** The finops.config.json the source archive carries to the functions. */
export async function deployedConfigOf(run: ProgramRun): Promise<Record<string, Record<string, unknown>>> {
  const [object] = run.ofType("gcp:storage/bucketObject:BucketObject");
  if (object === undefined) throw new Error("no source archive was uploaded");
  const assets = (await (object.inputs.source as pulumi.asset.AssetArchive).assets) as Record<
    string,
    pulumi.asset.StringAsset
  >;
  return JSON.parse(String(await assets["finops.config.json"]?.text));
}

export const IAM_TYPES = [
  "gcp:projects/iAMMember:IAMMember",
  "gcp:bigquery/datasetIamMember:DatasetIamMember",
  "gcp:pubsub/topicIAMMember:TopicIAMMember",
  "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember",
  "gcp:secretmanager/secretIamMember:SecretIamMember",
  "gcp:serviceaccount/iAMMember:IAMMember",
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
    case "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember":
      return `subscription:${binding.inputs.subscription}`;
    case "gcp:secretmanager/secretIamMember:SecretIamMember":
      return `secret:${binding.inputs.secretId}`;
    case "gcp:serviceaccount/iAMMember:IAMMember":
      return `serviceAccount:${String(binding.inputs.serviceAccountId).split("/").pop()}`;
    default:
      return `function:${binding.inputs.name}`;
  }
}

/** Every member's grants as sorted "scope role" strings. */
export function grantsByMember(run: ProgramRun): Map<string, string[]> {
  const grants = new Map<string, string[]>();
  for (const binding of run.recorded.filter((r) => IAM_TYPES.includes(r.type))) {
    const member = String(binding.inputs.member);
    grants.set(member, [...(grants.get(member) ?? []), `${scopeOf(binding)} ${binding.inputs.role}`].sort());
  }
  return grants;
}
