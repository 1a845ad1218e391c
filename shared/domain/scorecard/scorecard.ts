import { formatMoney } from "#domain/alerts/format-money.ts";
import { divRound, type Nanos } from "#domain/money.ts";
import {
  appliesTo,
  LEVERS,
  type Lever,
  type LeverSegment,
  savingsOf,
  savingsSteps,
} from "./compose-savings.ts";
import {
  compareNanosDesc,
  type InputSummary,
  type ScorecardSegment,
  summarizeInputs,
} from "./scorecard-inputs.ts";
import { engineerWeekNanos, type ScorecardSettings } from "./scorecard-settings.ts";
import { assessSegments, type Finding, type LeverContext, type SegmentAssessment } from "./segment-levers.ts";

/**
 * The optimization scorecard of one model: the four levers with their monthly savings, percent,
 * risk, implementation cost and ROI in weeks, in the order to pick them (quickest payback first),
 * and the combined saving, which composes (see compose-savings.ts). Pure: the app reads the inputs.
 */

export type RiskLevel = "low" | "medium" | "high";

export const LEVER_TITLES: Readonly<Record<Lever, string>> = {
  spot: "spot instances",
  right_sizing: "right-sizing",
  quantization: "4-bit quantization",
  caching: "query caching",
};

export interface LeverResult {
  lever: Lever;
  monthly_savings_nanos: Nanos;
  /** Of the model's monthly cost, percent, two decimals. */
  percent: number;
  /** The monthly cost the lever acts on. */
  applies_to_nanos: Nanos;
  /** Where the figure comes from: measured data, catalog prices, configuration, or nothing. */
  basis: "measured" | "catalog prices" | "configured speed-up" | "not assessed";
  detail: string;
  risk: { level: RiskLevel; text: string };
  implementation: { effort_weeks: number; cost_nanos: Nanos };
  /** Weeks of savings that pay for the implementation; null when the lever saves nothing. */
  roi_weeks: number | null;
}

export interface CombinedSavings {
  monthly_savings_nanos: Nanos;
  percent: number;
  /** What the levers' percents add to: the wrong figure, shown to say why it is wrong. */
  sum_of_percents: number;
  /** The levers in ROI order: what each adds on what the ones before it left. */
  steps: { lever: Lever; added_nanos: Nanos; cumulative_nanos: Nanos; cumulative_percent: number }[];
}

export interface ModelScorecard {
  model: string;
  teams: string[];
  currency: string;
  monthly_cost_nanos: Nanos;
  inputs: InputSummary;
  /** Highest ROI (shortest payback) first; levers that save nothing last. */
  levers: LeverResult[];
  combined: CombinedSavings;
  /** Why the levers are in this order. */
  order: string;
  assumptions: string[];
}

export interface TeamScorecard {
  team: string;
  currency: string;
  monthly_cost_nanos: Nanos;
  monthly_savings_nanos: Nanos;
  percent: number;
  /** The team's own workloads, per model, most savings first. */
  models: ModelScorecard[];
}

const WEEKS_PER_YEAR = 52n;
const MONTHS_PER_YEAR = 12n;

/** Percent of `whole`, two decimals, exact until the final rounding. */
export function percentOf(part: Nanos, whole: Nanos): number {
  return whole > 0n ? Number(divRound(part * 10_000n, whole)) / 100 : 0;
}

/** Weeks until `monthlySavings` pay `cost` back (a week is 12/52 of a month), one decimal. */
export function roiWeeks(cost: Nanos, monthlySavings: Nanos): number | null {
  if (monthlySavings <= 0n) return null;
  return Number(divRound(cost * WEEKS_PER_YEAR * 10n, monthlySavings * MONTHS_PER_YEAR)) / 10;
}

/** Highest ROI first: shortest payback, then the larger saving; levers that save nothing last, in LEVERS order. */
export function roiOrder(levers: readonly LeverResult[]): LeverResult[] {
  const rank = (l: LeverResult) => LEVERS.indexOf(l.lever);
  return [...levers].sort((a, b) => {
    if (a.roi_weeks === null || b.roi_weeks === null) {
      return a.roi_weeks === b.roi_weeks ? rank(a) - rank(b) : a.roi_weeks === null ? 1 : -1;
    }
    return (
      a.roi_weeks - b.roi_weeks ||
      compareNanosDesc(a.monthly_savings_nanos, b.monthly_savings_nanos) ||
      rank(a) - rank(b)
    );
  });
}

/** The notes of the costliest segments a lever applies to, or the reason it applies nowhere. */
function detailOf(lever: Lever, assessed: readonly SegmentAssessment[]): string {
  const byCost = [...assessed].sort((a, b) => compareNanosDesc(a.segment.cost_nanos, b.segment.cost_nanos));
  const notes = [
    ...new Set(
      byCost.flatMap(({ findings }) => {
        const f: Finding = findings[lever];
        return f.keep ? [f.note] : [];
      }),
    ),
  ];
  if (notes.length > 0) return notes.slice(0, 2).join("; ") + (notes.length > 2 ? "; …" : "");
  const reasons = byCost.flatMap(({ findings }) => {
    const f: Finding = findings[lever];
    return f.keep ? [] : [f.reason];
  });
  return `no saving: ${[...new Set(reasons)].slice(0, 2).join("; ") || "no cost"}`;
}

function riskOf(lever: Lever, assessed: readonly SegmentAssessment[], settings: ScorecardSettings) {
  const applied = assessed.filter((a) => a.findings[lever].keep);
  switch (lever) {
    case "spot": {
      const training = applied.some((a) => a.segment.workload === "training");
      return training || applied.length === 0
        ? {
            level: "medium" as const,
            text: "a preemption (30 s notice on GCP, 2 min on AWS) loses the work since the last checkpoint: jobs must resume from it, and capacity can run out",
          }
        : {
            level: "low" as const,
            text: "batch work is retried after a preemption; only its completion time grows",
          };
    }
    case "right_sizing": {
      const moves = applied.flatMap((a) => (a.move ? [a.move] : []));
      if (moves.length === 0) {
        return {
          level: "medium" as const,
          text: "without measured utilization and memory a smaller GPU may be too slow or too small",
        };
      }
      const tight = moves.some((m) => m.utilizationAfter > 0.5 || (m.memoryAfter ?? 1) > 0.6);
      return {
        level: tight ? ("medium" as const) : ("low" as const),
        text: tight
          ? "little headroom left on the smaller GPU: load-test at peak traffic before moving, and watch growth"
          : "ample headroom on the smaller GPU; load-test before moving",
      };
    }
    case "quantization":
      return {
        level: "medium" as const,
        text: `4-bit weights can cost accuracy, more on some tasks than others: compare on the model's evaluation set before serving it; the ${settings.quantization.speedup}× speed-up is assumed, not measured`,
      };
    case "caching":
      return {
        level: "low" as const,
        text: `an exact-match cache answers a repeated request as before: stale only if answers must change within ${settings.caching.ttlHours} h; never cache personalised or sampled answers`,
      };
  }
}

const BASIS: Readonly<Record<Lever, LeverResult["basis"]>> = {
  spot: "catalog prices",
  right_sizing: "measured",
  quantization: "configured speed-up",
  caching: "measured",
};

function leverResult(
  lever: Lever,
  assessed: readonly SegmentAssessment[],
  segments: readonly LeverSegment[],
  cost: Nanos,
  settings: ScorecardSettings,
): LeverResult {
  const savings = savingsOf(segments, [lever]);
  const applies = appliesTo(segments, lever);
  const effort = settings[lever === "right_sizing" ? "rightSizing" : lever].effortWeeks;
  const implementation = divRound(engineerWeekNanos(settings) * BigInt(Math.round(effort * 100)), 100n);
  return {
    lever,
    monthly_savings_nanos: savings,
    percent: percentOf(savings, cost),
    applies_to_nanos: applies,
    basis: assessed.some((a) => a.findings[lever].keep) ? BASIS[lever] : "not assessed",
    detail: detailOf(lever, assessed),
    risk: riskOf(lever, assessed, settings),
    implementation: { effort_weeks: effort, cost_nanos: implementation },
    roi_weeks: roiWeeks(implementation, savings),
  };
}

/** Payback slower than this is called out: the lever costs more than it returns within a year. */
export const YEAR_WEEKS = 52;

/**
 * A payback for people: "3.5 weeks", or "over a year" past YEAR_WEEKS, where the exact figure (which
 * grows without bound as the savings shrink) says nothing more. JSON keeps the number.
 */
export function paybackText(weeks: number): string {
  if (weeks > YEAR_WEEKS) return "over a year";
  return `${weeks} week${weeks === 1 ? "" : "s"}`;
}

/** "a", "a and b", "a, b and c". */
function listText(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

function orderText(levers: readonly LeverResult[], combined: CombinedSavings, currency: string): string {
  const paying = levers.filter((l) => l.roi_weeks !== null);
  if (paying.length === 0)
    return "No lever saves anything on this data, so there is no order to pick them in.";
  const money = (n: Nanos) => formatMoney(n, currency);
  const ranked = paying
    .map(
      (l) =>
        `${LEVER_TITLES[l.lever]} (${paybackText(l.roi_weeks ?? 0)}, for ${money(l.monthly_savings_nanos)}/month)`,
    )
    .join(", then ");
  const overlap = combined.sum_of_percents - combined.percent >= 0.01;
  const together =
    paying.length < 2
      ? ""
      : overlap
        ? ` Each later lever acts on what the earlier ones left, so it adds less than it saves alone: together ${money(combined.monthly_savings_nanos)} (${combined.percent}%), not the ${combined.sum_of_percents}% the percents add to.`
        : ` They act on different parts of the cost, so together they save ${money(combined.monthly_savings_nanos)} (${combined.percent}%).`;
  const idle = levers.filter((l) => l.roi_weeks === null).map((l) => LEVER_TITLES[l.lever]);
  const none = idle.length > 0 ? ` Nothing to save on this data with ${listText(idle)}.` : "";
  return `Quickest payback first (implementation cost over weekly savings): ${ranked}.${together}${none}`;
}

function assumptionsOf(assessed: readonly SegmentAssessment[], ctx: LeverContext): string[] {
  const out: string[] = [];
  const applied = (lever: Lever) => assessed.some((a) => a.findings[lever].keep);
  if (assessed.some((a) => a.segment.workload === "training" && a.segment.interruptible)) {
    out.push(
      "Training jobs that report epochs are taken to checkpoint every epoch, so they survive a preemption (label checkpointing=false or interruptible=false says otherwise); batch inference is environment=batch or label workload=batch.",
    );
  }
  if (applied("quantization")) {
    out.push(
      `4-bit quantization divides GPU inference time by ${ctx.settings.quantization.speedup} (scorecard.quantization.speedup: configured, not measured).`,
    );
  }
  if (assessed.some((a) => a.segment.fingerprinted > 0)) {
    out.push(
      `A request whose fingerprint was seen within ${ctx.settings.caching.ttlHours} h before, and that was not a cache hit, is one a cache would have answered.`,
    );
  }
  if (ctx.utilization === null) {
    out.push("No utilization data: right-sizing is not assessed and no saving is claimed for it.");
  } else if (applied("right_sizing")) {
    const { targetUtilization, memoryHeadroom } = ctx.settings.rightSizing;
    out.push(
      `Right-sizing moves a workload one GPU to one GPU when its p95 load would stay under ${Math.round(targetUtilization * 100)}% of the smaller GPU's compute (dense FP16 TFLOPS from datasheets) and its peak memory under ${Math.round(memoryHeadroom * 100)}% of its memory.`,
    );
  }
  return out;
}

function buildCard(assessed: readonly SegmentAssessment[], ctx: LeverContext): ModelScorecard {
  const first = assessed[0]?.segment;
  if (!first) throw new RangeError("a scorecard needs at least one segment");
  const segments = assessed.map((a) => a.levers);
  const cost = segments.reduce((sum, s) => sum + s.cost_nanos, 0n);
  const levers = roiOrder(LEVERS.map((lever) => leverResult(lever, assessed, segments, cost, ctx.settings)));
  const steps = savingsSteps(
    segments,
    levers.map((l) => l.lever),
  ).map((s) => ({ ...s, cumulative_percent: percentOf(s.cumulative_nanos, cost) }));
  const total = steps.at(-1)?.cumulative_nanos ?? 0n;
  const combined: CombinedSavings = {
    monthly_savings_nanos: total,
    percent: percentOf(total, cost),
    sum_of_percents: Math.round(levers.reduce((sum, l) => sum + l.percent, 0) * 100) / 100,
    steps,
  };
  return {
    model: first.model,
    teams: [...new Set(assessed.map((a) => a.segment.team))].sort(),
    currency: first.currency,
    monthly_cost_nanos: cost,
    inputs: summarizeInputs(assessed.map((a) => a.segment)),
    levers,
    combined,
    order: orderText(levers, combined, first.currency),
    assumptions: assumptionsOf(assessed, ctx),
  };
}

const bySavings = (a: { combined: CombinedSavings; model: string }, b: typeof a) =>
  compareNanosDesc(a.combined.monthly_savings_nanos, b.combined.monthly_savings_nanos) ||
  (a.model < b.model ? -1 : a.model > b.model ? 1 : 0);

/** One scorecard per model and currency over monthly segments, most savings first. */
export function modelScorecards(segments: readonly ScorecardSegment[], ctx: LeverContext): ModelScorecard[] {
  const assessed = assessSegments(segments, ctx);
  return [...Map.groupBy(assessed, (a) => `${a.segment.model}\u0000${a.segment.currency}`).values()]
    .map((group) => buildCard(group, ctx))
    .sort(bySavings);
}

/** Per team and currency: the scorecards of the team's own workloads and their total, most savings first. */
export function teamScorecards(segments: readonly ScorecardSegment[], ctx: LeverContext): TeamScorecard[] {
  return [...Map.groupBy(segments, (s) => `${s.team}\u0000${s.currency}`).values()]
    .map((group) => {
      const models = modelScorecards(group, ctx);
      const cost = models.reduce((sum, m) => sum + m.monthly_cost_nanos, 0n);
      const savings = models.reduce((sum, m) => sum + m.combined.monthly_savings_nanos, 0n);
      const { team, currency } = group[0] as ScorecardSegment;
      return {
        team,
        currency,
        monthly_cost_nanos: cost,
        monthly_savings_nanos: savings,
        percent: percentOf(savings, cost),
        models,
      };
    })
    .sort(
      (a, b) =>
        compareNanosDesc(a.monthly_savings_nanos, b.monthly_savings_nanos) ||
        (a.team < b.team ? -1 : a.team > b.team ? 1 : 0),
    );
}
