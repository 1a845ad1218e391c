import { formatMoney } from "#domain/alerts/format-money.ts";
import { divRound } from "#domain/money.ts";
import { entryKey, type GpuCatalogEntry, type PriceCatalog } from "#domain/pricing/catalog.ts";
import type { GpuRate, Pricer, PricingModel } from "#domain/pricing/pricer.ts";
import { numberToRatio, type Ratio, ratio } from "#domain/reconciliation/ratio.ts";
import type { Lever, LeverSegment } from "./compose-savings.ts";
import { type GpuSpec, gpuSpec } from "./gpu-specs.ts";
import type { ScorecardSegment } from "./scorecard-inputs.ts";
import type { ScorecardSettings } from "./scorecard-settings.ts";
import type { ModelUtilization } from "./utilization.ts";

/** What the levers need besides a segment: prices, GPU capacity, settings and measured utilization. */
export interface LeverContext {
  pricer: Pricer;
  catalog: PriceCatalog;
  settings: ScorecardSettings;
  /** DCGM utilization per model and GPU; null when there is none to read (no metrics source, or it failed). */
  utilization: ModelUtilization | null;
}

/** Why a lever saves what it does on a segment, or why it does not apply there. */
export type Finding = { keep: Ratio; note: string } | { keep?: undefined; reason: string };

/** The smaller GPU a right-sized segment would move to, and how busy and full it would be. */
export interface RightSizingMove {
  from: string;
  to: string;
  /** p95 share of the smaller GPU's compute the work would use, 0..1. */
  utilizationAfter: number;
  /** Share of the smaller GPU's memory the measured peak fills, 0..1; null when DCGM reported no memory. */
  memoryAfter: number | null;
}

export interface SegmentAssessment {
  segment: ScorecardSegment;
  levers: LeverSegment;
  findings: Record<Lever, Finding>;
  move?: RightSizingMove;
}

const GIB = 1024;

function gpuName(segment: ScorecardSegment): string | null {
  return segment.instance_type ?? segment.accelerator;
}

function rateOf(segment: ScorecardSegment, pricer: Pricer, model: PricingModel) {
  return pricer.gpuHourlyRate({
    cloud: segment.cloud ?? undefined,
    region: segment.region ?? undefined,
    instance_type: segment.instance_type ?? undefined,
    accelerator: segment.accelerator ?? undefined,
    pricing_model: model,
  });
}

/** A rate per GPU-hour as an exact ratio of nanos. */
function perGpu(rate: GpuRate): Ratio {
  const count = numberToRatio(rate.gpuCount);
  return ratio(rate.rateNanosPerHour * count.den, count.num);
}

const divide = (a: Ratio, b: Ratio): Ratio => ratio(a.num * b.den, a.den * b.num);

function money(rate: Ratio, currency: string): string {
  return formatMoney(divRound(rate.num, rate.den), currency);
}

function percentText(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function gib(mib: number): string {
  return `${(mib / GIB).toFixed(1)} GiB`;
}

const NO_GPU = "no GPU of ours: a provider's API or a cost without placement";

function spotFinding(segment: ScorecardSegment, pricer: Pricer): Finding {
  if (segment.provider || !gpuName(segment)) return { reason: NO_GPU };
  if (segment.pricing_model === "spot") return { reason: "already on spot" };
  if (!segment.interruptible)
    return { reason: "not interruptible (serving, or training without checkpoints)" };
  const onDemand = rateOf(segment, pricer, "on_demand");
  if (!onDemand.ok) return { reason: onDemand.failure.reason };
  const spot = rateOf(segment, pricer, "spot");
  if (!spot.ok) return { reason: `no spot price for ${gpuName(segment)} in catalog ${pricer.version}` };
  const from = perGpu(onDemand.rate);
  const to = perGpu(spot.rate);
  return {
    keep: divide(to, from),
    note: `${gpuName(segment)} ${money(from, pricer.currency)} → ${money(to, pricer.currency)} per GPU-hour`,
  };
}

function quantizationFinding(segment: ScorecardSegment, settings: ScorecardSettings): Finding {
  if (segment.provider || !gpuName(segment)) return { reason: NO_GPU };
  if (segment.workload === "training") return { reason: "training: 4-bit weights are for serving" };
  if (settings.quantization.excludeModels.includes(segment.model)) {
    return { reason: "excluded by scorecard.quantization.excludeModels" };
  }
  const speedup = numberToRatio(settings.quantization.speedup);
  return {
    keep: ratio(speedup.den, speedup.num),
    note: `GPU inference on ${gpuName(segment)} at an assumed ${settings.quantization.speedup}× speed-up`,
  };
}

function cachingFinding(segment: ScorecardSegment, settings: ScorecardSettings): Finding {
  if (segment.workload === "training") return { reason: "training has no requests to cache" };
  if (segment.fingerprinted === 0) return { reason: "requests carry no request_fingerprint" };
  if (segment.cost_nanos <= 0n) return { reason: "no cost" };
  // Inference costs are never negative, so the repeats' cost is a part of the segment's.
  const share = segment.repeats / segment.fingerprinted;
  return {
    keep: ratio(segment.cost_nanos - segment.repeat_cost_nanos, segment.cost_nanos),
    note: `${percentText(share)} of fingerprinted requests repeat one seen within ${settings.caching.ttlHours} h and missed the cache`,
  };
}

/** The catalog's GPU entries by key ("gcp/us-central1/nvidia-l4"). */
function gpuEntries(catalog: PriceCatalog): Map<string, GpuCatalogEntry> {
  const entries = new Map<string, GpuCatalogEntry>();
  for (const entry of catalog.entries) if (entry.kind !== "tokens") entries.set(entryKey(entry), entry);
  return entries;
}

function specOfEntry(entry: GpuCatalogEntry): GpuSpec | undefined {
  return gpuSpec(entry.kind === "accelerator" ? entry.accelerator : entry.gpu_model);
}

interface RightSizing {
  finding: Finding;
  together?: Ratio;
  move?: RightSizingMove;
}

function rightSizingFinding(
  segment: ScorecardSegment,
  ctx: LeverContext,
  entries: Map<string, GpuCatalogEntry>,
): RightSizing {
  const { pricer, settings } = ctx;
  if (segment.provider || !gpuName(segment)) return { finding: { reason: NO_GPU } };
  const pricing: PricingModel = segment.pricing_model === "spot" ? "spot" : "on_demand";
  const current = rateOf(segment, pricer, pricing);
  if (!current.ok) return { finding: { reason: current.failure.reason } };
  const entry = entries.get(current.rate.key);
  const spec = entry && specOfEntry(entry);
  if (!entry || !spec) return { finding: { reason: `${gpuName(segment)}: GPU memory and compute unknown` } };
  if (ctx.utilization === null) return { finding: { reason: "no utilization data" } };
  const used = ctx.utilization.get(segment.model)?.get(spec.name);
  if (!used) return { finding: { reason: `no DCGM samples of ${segment.model} on ${spec.name}` } };

  const { targetUtilization, memoryHeadroom } = settings.rightSizing;
  const currentRate = perGpu(current.rate);
  let best: { entry: GpuCatalogEntry; spec: GpuSpec; rate: Ratio; name: string } | undefined;
  for (const candidate of entries.values()) {
    const candidateSpec = specOfEntry(candidate);
    if (!candidateSpec || candidateSpec.name === spec.name) continue;
    if (candidate.kind !== entry.kind || candidate.cloud !== entry.cloud || candidate.region !== entry.region)
      continue;
    if (candidate.kind === "instance" && entry.kind === "instance" && candidate.gpu_count !== entry.gpu_count)
      continue;
    const memoryNeeded = used.peakMemoryMiB ?? spec.memoryMiB;
    if (memoryNeeded > candidateSpec.memoryMiB * memoryHeadroom) continue;
    if ((used.p95 * spec.fp16Tflops) / candidateSpec.fp16Tflops > targetUtilization) continue;
    const name = candidate.kind === "instance" ? candidate.instance_type : candidate.accelerator;
    const rate = pricer.gpuHourlyRate({
      cloud: candidate.cloud,
      region: candidate.region,
      ...(candidate.kind === "instance" ? { instance_type: name } : { accelerator: name }),
      pricing_model: pricing,
    });
    if (!rate.ok) continue;
    const candidateRate = perGpu(rate.rate);
    const cheaper = candidateRate.num * currentRate.den < currentRate.num * candidateRate.den;
    const cheapest = !best || candidateRate.num * best.rate.den < best.rate.num * candidateRate.den;
    if (cheaper && cheapest) best = { entry: candidate, spec: candidateSpec, rate: candidateRate, name };
  }
  const measured =
    `p95 ${percentText(used.p95)} busy` +
    (used.peakMemoryMiB === null ? ", memory not reported" : `, peak ${gib(used.peakMemoryMiB)}`);
  if (!best) return { finding: { reason: `no cheaper GPU fits on ${spec.name} (${measured})` } };

  const utilizationAfter = (used.p95 * spec.fp16Tflops) / best.spec.fp16Tflops;
  const memoryAfter = used.peakMemoryMiB === null ? null : used.peakMemoryMiB / best.spec.memoryMiB;
  const move = { from: gpuName(segment) ?? spec.name, to: best.name, utilizationAfter, memoryAfter };
  const after =
    `about ${percentText(utilizationAfter)} busy` +
    (memoryAfter === null ? "" : `, ${percentText(memoryAfter)} of its ${gib(best.spec.memoryMiB)}`);
  const result: RightSizing = {
    finding: {
      keep: divide(best.rate, currentRate),
      note: `${move.from} → ${best.name} (${measured}; there ${after}), ${money(currentRate, pricer.currency)} → ${money(best.rate, pricer.currency)} per GPU-hour`,
    },
    move,
  };
  if (segment.interruptible && pricing === "on_demand") {
    const spot = pricer.gpuHourlyRate({
      cloud: best.entry.cloud,
      region: best.entry.region,
      ...(best.entry.kind === "instance" ? { instance_type: best.name } : { accelerator: best.name }),
      pricing_model: "spot",
    });
    if (spot.ok) result.together = divide(perGpu(spot.rate), currentRate);
  }
  return result;
}

/** Each lever's share kept on a (monthly) segment, and the facts behind it. */
export function assessSegments(
  segments: readonly ScorecardSegment[],
  ctx: LeverContext,
): SegmentAssessment[] {
  const entries = gpuEntries(ctx.catalog);
  return segments.map((segment) => {
    const rightSizing = rightSizingFinding(segment, ctx, entries);
    const spot = spotFinding(segment, ctx.pricer);
    const findings: Record<Lever, Finding> = {
      spot,
      right_sizing: rightSizing.finding,
      quantization: quantizationFinding(segment, ctx.settings),
      caching: cachingFinding(segment, ctx.settings),
    };
    const keep: LeverSegment["keep"] = {};
    for (const [lever, finding] of Object.entries(findings) as [Lever, Finding][]) {
      if (finding.keep) keep[lever] = finding.keep;
    }
    return {
      segment,
      levers: {
        cost_nanos: segment.cost_nanos,
        keep,
        // Both cut the hourly rate: together they keep the smaller GPU's spot rate, or, when it has
        // none, only the better of the two can be had.
        ...(spot.keep && rightSizing.finding.keep
          ? { rateKeptTogether: rightSizing.together ?? spot.keep }
          : {}),
      },
      findings,
      ...(rightSizing.move ? { move: rightSizing.move } : {}),
    };
  });
}
