import type { InferenceWireData } from "./demo-cloud-event.ts";
import { type SeededRandom, weightedPicker } from "./seeded-random.ts";
import {
  type BusinessUnit,
  findTeam,
  type InferenceSpike,
  nodePoolOf,
  type OrgModel,
  type OrgTeam,
  type ProviderUsage,
  type ServingFleet,
  type SyntheticOrg,
} from "./synthetic-org.ts";

/** One request's emitter and payload. */
export interface InferenceRequest {
  source: string;
  data: InferenceWireData;
}

/** A model (or provider API) whose requests can be drawn one at a time, fast. */
export interface TrafficSource {
  readonly model: string;
  readonly trafficWeight: number;
  readonly troughRatio: number;
  request(rng: SeededRandom): InferenceRequest;
}

export function inferenceSource(cluster: string, deployment: string): string {
  return `//inference/${cluster}/${deployment}`;
}

/**
 * Share of a day's peak traffic at a given UTC hour (0..24, fractional): the trough is at 03:00 UTC
 * (night on both sides of the Atlantic), the peak at 15:00 UTC (EU afternoon, US morning).
 */
export function diurnalFactor(hourOfDayUtc: number, troughRatio: number): number {
  const bump = (1 - Math.cos((2 * Math.PI * (hourOfDayUtc - 3)) / 24)) / 2;
  return troughRatio + (1 - troughRatio) * bump ** 1.5;
}

/** Weekends carry less interactive traffic. */
export function weekdayFactor(ms: number): number {
  const day = new Date(ms).getUTCDay();
  return day === 0 || day === 6 ? 0.65 : 1;
}

function businessUnitOf(team: OrgTeam): BusinessUnit {
  if (team.businessUnit === undefined) {
    throw new RangeError(`team ${team.name} serves traffic but belongs to no business unit`);
  }
  return team.businessUnit;
}

const round5 = (x: number): number => Math.round(x * 100_000) / 100_000;

/** Compiles the org's models and provider usage into sources that build requests without lookups. */
export function compileTraffic(org: SyntheticOrg, rng: SeededRandom): TrafficSource[] {
  return [
    ...org.models.map((model) => compileModel(org, model)),
    ...org.providerUsage.map((usage) => compileProvider(org, usage, rng.fork(`prompts:${usage.team}`))),
  ];
}

function compileModel(org: SyntheticOrg, model: OrgModel): TrafficSource {
  const team = findTeam(org, model.team);
  const ownerUnit = businessUnitOf(team);
  const pickVersion = weightedPicker(
    model.versions.map((v) => v.version),
    model.versions.map((v) => v.weight),
  );
  const pickFleet = weightedPicker(
    model.fleets.map((f) => compileFleet(f)),
    model.fleets.map((f) => f.weight),
  );
  const callers = model.callers ?? [{ businessUnit: ownerUnit, weight: 1 }];
  const pickUnit = weightedPicker(
    callers.map((c) => c.businessUnit),
    callers.map((c) => c.weight),
  );
  const { min, max } = model.gpuSecondsPerRequest;
  const input = model.tokens?.input;
  const output = model.tokens?.output;

  return {
    model: model.name,
    trafficWeight: model.trafficWeight,
    troughRatio: model.troughRatio,
    request(rng: SeededRandom): InferenceRequest {
      const fleet = pickFleet(rng.next());
      // Long generations take longer: GPU time follows the output length where there is one.
      const size = rng.next() ** 2;
      const gpuSeconds = Math.max(min / 2, (min + (max - min) * size) * (1 + 0.08 * rng.normalish()));
      const data: InferenceWireData = {
        team: model.team,
        model: model.name,
        model_version: pickVersion(rng.next()),
        business_unit: pickUnit(rng.next()),
        cost_center: team.costCenter,
        environment: "prod",
        namespace: team.name,
        cloud: fleet.cloud,
        region: fleet.region,
        gpu_count: fleet.gpuCount,
        gpu_seconds: round5(gpuSeconds),
        currency: "USD",
        labels: fleet.labels,
      };
      if (fleet.accelerator !== undefined) data.accelerator = fleet.accelerator;
      if (fleet.instanceType !== undefined) data.instance_type = fleet.instanceType;
      if (input) data.input_tokens = input.min + Math.floor((input.max - input.min) * rng.next() ** 2);
      if (output) data.output_tokens = output.min + Math.floor((output.max - output.min) * size);
      return { source: fleet.source, data };
    },
  };
}

interface CompiledFleet {
  source: string;
  cloud: "gcp" | "aws";
  region: string;
  accelerator?: string;
  instanceType?: string;
  gpuCount: number;
  /** Where the fleet runs: its cluster and node pool. */
  labels: { cluster: string; node_pool: string };
}

function compileFleet(fleet: ServingFleet): CompiledFleet {
  const source = inferenceSource(fleet.cluster, fleet.deployment);
  const p = fleet.placement;
  const on = { gpuCount: fleet.gpuCount, labels: { cluster: fleet.cluster, node_pool: nodePoolOf(p) } };
  return p.cloud === "gcp"
    ? { source, cloud: p.cloud, region: p.region, accelerator: p.accelerator, ...on }
    : { source, cloud: p.cloud, region: p.region, instanceType: p.instanceType, ...on };
}

/** Who calls a provider API: the usage, its team and business unit, and the emitting deployment. */
interface ProviderCaller {
  usage: ProviderUsage;
  team: OrgTeam;
  businessUnit: BusinessUnit;
  source: string;
}

function providerCaller(org: SyntheticOrg, usage: ProviderUsage): ProviderCaller {
  const team = findTeam(org, usage.team);
  const source = inferenceSource(usage.cluster, usage.deployment);
  return { usage, team, businessUnit: businessUnitOf(team), source };
}

/** A provider API request of `caller` sending `prompt`. */
function providerRequest(
  { usage, team, businessUnit, source }: ProviderCaller,
  prompt: { fingerprint: string; inputTokens: number; outputTokens: number },
): InferenceRequest {
  const data: InferenceWireData = {
    team: usage.team,
    model: usage.model,
    model_version: usage.modelVersion,
    business_unit: businessUnit,
    cost_center: team.costCenter,
    environment: "prod",
    namespace: team.name,
    provider: usage.provider,
    input_tokens: prompt.inputTokens,
    cached_input_tokens: 0,
    output_tokens: prompt.outputTokens,
    cache_hit: false,
    request_fingerprint: prompt.fingerprint,
    currency: "USD",
  };
  return { source, data };
}

function compileProvider(org: SyntheticOrg, usage: ProviderUsage, promptRng: SeededRandom): TrafficSource {
  const caller = providerCaller(org, usage);
  // The same few prompts (FAQ answers, canned summaries) sent over and over with no cache in front.
  const hot = Array.from({ length: usage.hotPrompts }, () => ({
    fingerprint: `sha256:${promptRng.hex(16)}`,
    inputTokens: promptRng.int(usage.tokens.input.min, usage.tokens.input.max),
  }));
  // Popular prompts are much more popular: weight 1/rank.
  const pickHot = weightedPicker(
    hot,
    hot.map((_, i) => 1 / (i + 1)),
  );
  const { input, output } = usage.tokens;

  return {
    model: usage.model,
    trafficWeight: usage.trafficWeight,
    troughRatio: usage.troughRatio,
    request(rng: SeededRandom): InferenceRequest {
      const repeated = rng.next() < usage.repeatedShare;
      const prompt = repeated
        ? pickHot(rng.next())
        : {
            fingerprint: `sha256:${rng.hex(16)}`,
            inputTokens: input.min + Math.floor((input.max - input.min) * rng.next() ** 2),
          };
      const outputTokens = output.min + Math.floor((output.max - output.min) * rng.next() ** 2);
      return providerRequest(caller, { ...prompt, outputTokens });
    },
  };
}

/** Requests of the demo's inference spike: its team's provider usage, looping over a few conversations. */
export interface SpikeSource {
  readonly spike: InferenceSpike;
  request(rng: SeededRandom): InferenceRequest;
}

export function compileSpike(org: SyntheticOrg, spike: InferenceSpike, rng: SeededRandom): SpikeSource {
  const usage = org.providerUsage.find((u) => u.team === spike.team);
  if (!usage) throw new RangeError(`the inference spike's team ${spike.team} calls no provider API`);
  const caller = providerCaller(org, usage);
  const { input, output } = spike.tokens;
  const loops = Array.from({ length: spike.conversations }, () => ({
    fingerprint: `sha256:${rng.hex(16)}`,
    inputTokens: rng.int(input.min, input.max),
    outputTokens: rng.int(output.min, output.max),
  }));
  const pickLoop = weightedPicker(
    loops,
    loops.map(() => 1),
  );
  return { spike, request: (r) => providerRequest(caller, pickLoop(r.next())) };
}
