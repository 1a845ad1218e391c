/**
 * A realistic, fixed organisation for demos and tests: who owns which model, where it is served,
 * and what its requests look like. Placement values are exactly the pricing catalog's keys:
 * GCP → cloud "gcp", region "us-central1", accelerator; AWS → cloud "aws", region "us-east-1", instance_type.
 */

export const BUSINESS_UNITS = ["consumer", "enterprise", "research"] as const;
export type BusinessUnit = (typeof BUSINESS_UNITS)[number];

export const GCP_REGION = "us-central1";
export const AWS_REGION = "us-east-1";
export const GCP_ACCELERATORS = [
  "nvidia-tesla-a100",
  "nvidia-a100-80gb",
  "nvidia-l4",
  "nvidia-tesla-v100",
] as const;
export const AWS_INSTANCE_TYPES = ["p3.2xlarge", "g4dn.xlarge"] as const;
export type GcpAccelerator = (typeof GCP_ACCELERATORS)[number];
export type AwsInstanceType = (typeof AWS_INSTANCE_TYPES)[number];

export type Placement =
  | { cloud: "gcp"; region: typeof GCP_REGION; accelerator: GcpAccelerator }
  | { cloud: "aws"; region: typeof AWS_REGION; instanceType: AwsInstanceType };

/**
 * The node pool a placement's workloads run on in its cluster: one per accelerator or instance
 * type ("nvidia-l4-pool", "g4dn-xlarge-pool"), a name GKE, EKS and AKS all accept.
 */
export function nodePoolOf(placement: Placement): string {
  const machine = placement.cloud === "gcp" ? placement.accelerator : placement.instanceType;
  return `${machine.replaceAll(".", "-")}-pool`;
}

export interface OrgTeam {
  /** Slack-ish handle, also the Kubernetes namespace. */
  name: string;
  /** Absent for a shared platform team whose costs are split across the business units. */
  businessUnit?: BusinessUnit;
  costCenter: string;
  slackChannel: string;
}

export interface ServingFleet {
  cluster: string;
  deployment: string;
  placement: Placement;
  /** GPUs one request occupies: 1, or 0.5 on a time-sliced (shared) L4. */
  gpuCount: number;
  /** Share of the model's traffic this fleet serves. */
  weight: number;
}

export interface TokenProfile {
  input: { min: number; max: number };
  output?: { min: number; max: number };
}

export interface OrgModel {
  name: string;
  team: string;
  versions: ReadonlyArray<{ version: string; weight: number }>;
  fleets: readonly ServingFleet[];
  /** GPU-seconds one request consumes, before jitter. */
  gpuSecondsPerRequest: { min: number; max: number };
  tokens?: TokenProfile;
  /** Share of the org's inference requests. */
  trafficWeight: number;
  /** Traffic at the quietest hour relative to the busiest (0..1): batch-ish or global traffic is flatter. */
  troughRatio: number;
  /** Business units calling the model, when not only the owner's (a shared model serves several). */
  callers?: ReadonlyArray<{ businessUnit: BusinessUnit; weight: number }>;
}

/** A team calling a provider's API, priced per token. */
export interface ProviderUsage {
  team: string;
  provider: string;
  model: string;
  modelVersion: string;
  cluster: string;
  deployment: string;
  tokens: Required<TokenProfile>;
  trafficWeight: number;
  troughRatio: number;
  /** Share of requests that repeat one of a few hot prompts (a caching opportunity), and how many. */
  repeatedShare: number;
  hotPrompts: number;
}

/**
 * A burst of one team's provider API traffic over the last hours of a demo range, for the hourly
 * anomaly detection to catch: a support agent stuck in a retry loop re-sends a few whole
 * conversations (their 100k-token context each time) many times a minute, whatever the hour.
 */
export interface InferenceSpike {
  /** The team whose provider usage loops (its model, deployment and owners). */
  team: string;
  /** The burst covers the range's last `hours` hours. */
  hours: number;
  /** Looping requests per hour on top of the team's usual traffic, at the demo's default rate (scaled with it). */
  requestsPerHour: number;
  /** Conversations in the loop, each re-sent unchanged (same fingerprint, same tokens). */
  conversations: number;
  tokens: Required<TokenProfile>;
}

export interface TrainingPipeline {
  name: string;
  team: string;
  model: string;
  cluster: string;
  placement: Placement;
  gpuCount: number;
  epochs: number;
  epochMinutes: number;
  /** The model version a run of this pipeline produces. */
  targetVersion: string;
}

export interface FixedCostItem {
  /** Who pays the invoice (the event's team; the `payer` label of its rows). */
  team: string;
  description: string;
  /** Whole US dollars per calendar month, amortized over the month's hours. */
  monthlyUsd: number;
  vendor: string;
  labels?: Record<string, string>;
  /**
   * How it reaches owners (ai.cost.fixed.v1's `allocate`): `usage` shares each hour's part among the
   * workloads that used something that hour, in proportion to their cost; absent, the payer bears it.
   */
  allocate?: "usage";
}

/** List prices of a machine family's vCPUs and memory (GCP prices them apart from the GPUs). */
export interface MachineFamilyRates {
  /** USD per vCPU-hour, as a decimal string. */
  vcpuUsdPerHour: string;
  /** USD per GB-hour of memory, as a decimal string. */
  memoryGbUsdPerHour: string;
}

export interface ClusterNode {
  name: string;
  machineType: string;
  family: string;
  accelerator: GcpAccelerator;
  gpus: number;
  vcpus: number;
  memoryGb: number;
}

/** How busy a pod keeps its GPU: a diurnal curve like the inference traffic it serves. */
export interface GpuLoad {
  /** Share of the GPU's time it is busy at the busiest hour of a weekday (0..1). */
  peak: number;
  /** Load at the quietest hour relative to the busiest (0..1). */
  troughRatio: number;
  /** Occasional bursts on top (a notebook someone runs a cell in): chance per sample and height. */
  bursts?: { chance: number; utilization: number };
}

export interface ClusterPod {
  namespace: string;
  pod: string;
  controller: string;
  /** As OpenCost reports it. */
  controllerKind: "deployment" | "statefulset" | "daemonset";
  node: string;
  /** Device indexes of the node's GPUs this pod holds; several pods on one index time-slice it. */
  gpus: readonly number[];
  gpuLoad?: GpuLoad;
  cpuMillicores: number;
  memoryMiB: number;
  /** Pod labels as Prometheus exports them (keys sanitized). */
  labels: Readonly<Record<string, string>>;
}

/**
 * A Kubernetes cluster as the allocation import sees it: nodes with their list prices, the pods on
 * them, and the namespace labels that name owners. A namespace missing here has no labels at all.
 */
export interface GpuCluster {
  name: string;
  cloud: "gcp";
  region: typeof GCP_REGION;
  /** GPU list prices, USD per GPU-hour as decimal strings: the pricing catalog's on-demand accelerator rates. */
  gpuUsdPerHour: Readonly<Partial<Record<GcpAccelerator, string>>>;
  machineFamilies: Readonly<Record<string, MachineFamilyRates>>;
  nodes: readonly ClusterNode[];
  pods: readonly ClusterPod[];
  namespaceLabels: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** DCGM exporter scrape interval. */
  dcgmStepSeconds: number;
}

export interface SyntheticOrg {
  businessUnits: readonly BusinessUnit[];
  teams: readonly OrgTeam[];
  models: readonly OrgModel[];
  providerUsage: readonly ProviderUsage[];
  inferenceSpike: InferenceSpike;
  trainingPipelines: readonly TrainingPipeline[];
  fixedCosts: readonly FixedCostItem[];
  /** The serving cluster whose allocations (OpenCost + DCGM) the demo reports each hour. */
  gpuCluster: GpuCluster;
}

const gcp = (accelerator: GcpAccelerator): Placement => ({ cloud: "gcp", region: GCP_REGION, accelerator });
const aws = (instanceType: AwsInstanceType): Placement => ({
  cloud: "aws",
  region: AWS_REGION,
  instanceType,
});

const SERVING_GKE = "gke-prod-us-central1";
const SERVING_EKS = "eks-prod-us-east-1";
const TRAINING_GKE = "gke-train-us-central1";
const TRAINING_EKS = "eks-train-us-east-1";

const A100_NODE = "gke-prod-us-central1-a100-80gb-pool-5f1c2e7a-k8w2";
const L4_NODE = "gke-prod-us-central1-l4-pool-9b3d4a61-x7qm";

const SYSTEM_DAEMONS = [
  { name: "kube-proxy", cpuMillicores: 100, memoryMiB: 128 },
  { name: "nvidia-gpu-device-plugin", cpuMillicores: 50, memoryMiB: 64 },
  { name: "fluentbit-gke", cpuMillicores: 100, memoryMiB: 256 },
] as const;

/** kube-system daemons on every node: the cluster's overhead, owned by the platform team. */
const systemPods = (node: string, suffix: string): ClusterPod[] =>
  SYSTEM_DAEMONS.map((daemon) => ({
    namespace: "kube-system",
    pod: `${daemon.name}-${suffix}`,
    controller: daemon.name,
    controllerKind: "daemonset",
    node,
    gpus: [],
    cpuMillicores: daemon.cpuMillicores,
    memoryMiB: daemon.memoryMiB,
    labels: { k8s_app: daemon.name },
  }));

/**
 * The GCP serving cluster: chat-assistant on two A100 80GB, and an L4 node whose first GPU is
 * time-sliced by the embedder (doc-intelligence) and chat's retriever (chat-experience), and whose
 * second GPU a forgotten notebook in an unlabelled namespace holds. Namespaces are the ones the
 * inference events of those deployments name, and no training job uses them: the report matches
 * allocations to workload estimates by namespace and hour, not cluster, so a namespace that also
 * trains on gke-train-us-central1 (search-ranking, vision-lab) would have its training estimates
 * folded into this cluster's cost. Rates are config/price-catalog.json's (2026-11-01):
 * GPUs its on-demand accelerator rates; A2 and G2 vCPU and memory rates are what is left of its
 * a2-highgpu-1g and g2-standard-4 instance prices once their GPU is taken out.
 */
const SERVING_GPU_CLUSTER: GpuCluster = {
  name: SERVING_GKE,
  cloud: "gcp",
  region: GCP_REGION,
  gpuUsdPerHour: { "nvidia-a100-80gb": "3.92808", "nvidia-l4": "0.56" },
  machineFamilies: {
    a2: { vcpuUsdPerHour: "0.031611", memoryGbUsdPerHour: "0.004237" },
    g2: { vcpuUsdPerHour: "0.025", memoryGbUsdPerHour: "0.002927" },
  },
  nodes: [
    {
      name: A100_NODE,
      machineType: "a2-ultragpu-2g",
      family: "a2",
      accelerator: "nvidia-a100-80gb",
      gpus: 2,
      vcpus: 24,
      memoryGb: 340,
    },
    {
      name: L4_NODE,
      machineType: "g2-standard-24",
      family: "g2",
      accelerator: "nvidia-l4",
      gpus: 2,
      vcpus: 24,
      memoryGb: 96,
    },
  ],
  pods: [
    ...["7d9f8c6b5-2xkqp", "7d9f8c6b5-hm4tz"].map(
      (suffix, gpu): ClusterPod => ({
        namespace: "chat-experience",
        pod: `chat-assistant-${suffix}`,
        controller: "chat-assistant",
        controllerKind: "deployment",
        node: A100_NODE,
        gpus: [gpu],
        gpuLoad: { peak: 0.82, troughRatio: 0.12 },
        cpuMillicores: 10_000,
        memoryMiB: 144 * 1024,
        labels: { app: "chat-assistant", model: "chat-assistant" },
      }),
    ),
    {
      namespace: "doc-intelligence",
      pod: "embedder-l4-6c5b7f9d8-q2vnl",
      controller: "embedder-l4",
      controllerKind: "deployment",
      node: L4_NODE,
      gpus: [0],
      gpuLoad: { peak: 0.5, troughRatio: 0.15 },
      cpuMillicores: 6_000,
      memoryMiB: 24 * 1024,
      labels: { app: "embedder", model: "embedder" },
    },
    {
      namespace: "chat-experience",
      pod: "chat-retriever-58d4c7b6f-w9rzs",
      controller: "chat-retriever",
      controllerKind: "deployment",
      node: L4_NODE,
      gpus: [0],
      gpuLoad: { peak: 0.3, troughRatio: 0.12 },
      cpuMillicores: 4_000,
      memoryMiB: 16 * 1024,
      labels: { app: "chat-retriever", model: "chat-retriever" },
    },
    {
      namespace: "scratch-notebooks",
      pod: "jupyter-rkumar-0",
      controller: "jupyter-rkumar",
      controllerKind: "statefulset",
      node: L4_NODE,
      gpus: [1],
      gpuLoad: { peak: 0.04, troughRatio: 0.5, bursts: { chance: 0.04, utilization: 0.7 } },
      cpuMillicores: 4_000,
      memoryMiB: 32 * 1024,
      labels: { app: "jupyterlab" },
    },
    ...systemPods(A100_NODE, "k8w2"),
    ...systemPods(L4_NODE, "x7qm"),
  ],
  namespaceLabels: {
    "chat-experience": { team: "chat-experience", business_unit: "consumer", cost_center: "CC-1020" },
    "doc-intelligence": { team: "doc-intelligence", business_unit: "enterprise", cost_center: "CC-2020" },
    "kube-system": { team: "ml-platform", cost_center: "CC-9000" },
  },
  dcgmStepSeconds: 60,
};

const ORG: SyntheticOrg = {
  businessUnits: BUSINESS_UNITS,
  teams: [
    {
      name: "search-ranking",
      businessUnit: "consumer",
      costCenter: "CC-1010",
      slackChannel: "#search-ranking",
    },
    { name: "chat-experience", businessUnit: "consumer", costCenter: "CC-1020", slackChannel: "#chat-exp" },
    {
      name: "trust-safety",
      businessUnit: "enterprise",
      costCenter: "CC-2010",
      slackChannel: "#trust-safety",
    },
    {
      name: "doc-intelligence",
      businessUnit: "enterprise",
      costCenter: "CC-2020",
      slackChannel: "#doc-intel",
    },
    {
      name: "support-automation",
      businessUnit: "enterprise",
      costCenter: "CC-2030",
      slackChannel: "#support-automation",
    },
    { name: "applied-nlp", businessUnit: "research", costCenter: "CC-3010", slackChannel: "#applied-nlp" },
    { name: "vision-lab", businessUnit: "research", costCenter: "CC-3020", slackChannel: "#vision-lab" },
    { name: "ml-platform", costCenter: "CC-9000", slackChannel: "#ml-platform" },
  ],
  models: [
    {
      name: "ranker",
      team: "search-ranking",
      versions: [
        { version: "v3.2", weight: 0.3 },
        { version: "v3.3", weight: 0.7 },
      ],
      fleets: [
        {
          cluster: SERVING_GKE,
          deployment: "ranker-v3",
          placement: gcp("nvidia-tesla-a100"),
          gpuCount: 1,
          weight: 1,
        },
      ],
      gpuSecondsPerRequest: { min: 0.01, max: 0.04 },
      trafficWeight: 0.34,
      troughRatio: 0.1,
    },
    {
      name: "chat-assistant",
      team: "chat-experience",
      versions: [
        { version: "2024-10", weight: 0.25 },
        { version: "2025-02", weight: 0.75 },
      ],
      fleets: [
        {
          cluster: SERVING_GKE,
          deployment: "chat-assistant",
          placement: gcp("nvidia-a100-80gb"),
          gpuCount: 1,
          weight: 1,
        },
      ],
      gpuSecondsPerRequest: { min: 0.15, max: 0.4 },
      tokens: { input: { min: 150, max: 2400 }, output: { min: 40, max: 700 } },
      trafficWeight: 0.16,
      troughRatio: 0.12,
    },
    {
      name: "embedder",
      team: "doc-intelligence",
      versions: [
        { version: "v2.1", weight: 0.4 },
        { version: "v2.2", weight: 0.6 },
      ],
      fleets: [
        {
          cluster: SERVING_GKE,
          deployment: "embedder-l4",
          placement: gcp("nvidia-l4"),
          gpuCount: 0.5,
          weight: 1,
        },
      ],
      gpuSecondsPerRequest: { min: 0.01, max: 0.05 },
      tokens: { input: { min: 32, max: 512 } },
      trafficWeight: 0.22,
      troughRatio: 0.15,
      callers: [
        { businessUnit: "enterprise", weight: 0.6 },
        { businessUnit: "consumer", weight: 0.3 },
        { businessUnit: "research", weight: 0.1 },
      ],
    },
    {
      name: "fraud-detector",
      team: "trust-safety",
      versions: [
        { version: "v1.8", weight: 0.5 },
        { version: "v1.9", weight: 0.5 },
      ],
      fleets: [
        {
          cluster: SERVING_EKS,
          deployment: "fraud-detector",
          placement: aws("g4dn.xlarge"),
          gpuCount: 1,
          weight: 0.8,
        },
        {
          cluster: SERVING_EKS,
          deployment: "fraud-detector-burst",
          placement: aws("p3.2xlarge"),
          gpuCount: 1,
          weight: 0.2,
        },
      ],
      gpuSecondsPerRequest: { min: 0.01, max: 0.03 },
      trafficWeight: 0.14,
      troughRatio: 0.2,
    },
    {
      name: "vision-tagger",
      team: "vision-lab",
      versions: [
        { version: "v0.9", weight: 0.2 },
        { version: "v1.0", weight: 0.8 },
      ],
      fleets: [
        {
          cluster: SERVING_GKE,
          deployment: "vision-tagger",
          placement: gcp("nvidia-tesla-v100"),
          gpuCount: 1,
          weight: 1,
        },
      ],
      gpuSecondsPerRequest: { min: 0.05, max: 0.2 },
      trafficWeight: 0.06,
      troughRatio: 0.12,
    },
  ],
  providerUsage: [
    {
      team: "support-automation",
      provider: "openai",
      model: "gpt-4o-mini",
      modelVersion: "2024-07-18",
      cluster: SERVING_GKE,
      deployment: "support-bot-gateway",
      tokens: { input: { min: 300, max: 3000 }, output: { min: 60, max: 500 } },
      trafficWeight: 0.08,
      troughRatio: 0.08,
      repeatedShare: 0.6,
      hotPrompts: 24,
    },
  ],
  // About 30 USD an hour (1,800 × ~110k input tokens of gpt-4o-mini): 20-100× the team's usual spend.
  inferenceSpike: {
    team: "support-automation",
    hours: 4,
    requestsPerHour: 1_800,
    conversations: 3,
    tokens: { input: { min: 96_000, max: 124_000 }, output: { min: 300, max: 900 } },
  },
  trainingPipelines: [
    {
      name: "ranker-nightly",
      team: "search-ranking",
      model: "ranker",
      cluster: TRAINING_GKE,
      placement: gcp("nvidia-tesla-a100"),
      gpuCount: 4,
      epochs: 5,
      epochMinutes: 35,
      targetVersion: "v3.4",
    },
    {
      name: "chat-finetune",
      team: "applied-nlp",
      model: "chat-assistant",
      cluster: TRAINING_GKE,
      placement: gcp("nvidia-a100-80gb"),
      gpuCount: 8,
      epochs: 4,
      epochMinutes: 70,
      targetVersion: "2025-05",
    },
    {
      name: "vision-tagger-train",
      team: "vision-lab",
      model: "vision-tagger",
      cluster: TRAINING_GKE,
      placement: gcp("nvidia-tesla-v100"),
      gpuCount: 4,
      epochs: 8,
      epochMinutes: 20,
      targetVersion: "v1.1",
    },
    {
      name: "fraud-retrain",
      team: "trust-safety",
      model: "fraud-detector",
      cluster: TRAINING_EKS,
      placement: aws("p3.2xlarge"),
      gpuCount: 1,
      epochs: 6,
      epochMinutes: 25,
      targetVersion: "v2.0",
    },
  ],
  fixedCosts: [
    {
      team: "ml-platform",
      description: "Model-serving platform licence (monthly, amortized)",
      monthlyUsd: 18_000,
      vendor: "serving-platform",
      labels: { cost_kind: "licence", shared: "true" },
      // Shared by usage: each hour's part lands on the workloads of that hour, in proportion to their
      // cost (the one view), never on one team with no model.
      allocate: "usage",
    },
  ],
  gpuCluster: SERVING_GPU_CLUSTER,
};

/** The demo organisation. Returns the same frozen description every time. */
export function syntheticOrg(): SyntheticOrg {
  return ORG;
}

export function findTeam(org: SyntheticOrg, name: string): OrgTeam {
  const team = org.teams.find((t) => t.name === name);
  if (!team) throw new RangeError(`synthetic org has no team ${JSON.stringify(name)}`);
  return team;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
deepFreeze(ORG);
