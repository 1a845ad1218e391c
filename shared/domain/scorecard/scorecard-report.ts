import { formatMoney } from "#domain/alerts/format-money.ts";
import { type ModelScorecard, modelScorecards, type TeamScorecard, teamScorecards } from "./scorecard.ts";
import {
  MONTH_SECONDS,
  observedSeconds,
  type ScorecardSegment,
  type ScorecardWindow,
  toMonthly,
} from "./scorecard-inputs.ts";
import { engineerWeekNanos, type ScorecardSettings } from "./scorecard-settings.ts";
import type { LeverContext } from "./segment-levers.ts";

/** The whole scorecard: per model and per team, with the assumptions every figure rests on. */
export interface ScorecardReport {
  generated_at: string;
  window: { from: string; to: string; observed_days: number };
  /** Where right-sizing's utilization came from, or why there was none. */
  utilization: string;
  assumptions: string[];
  models: ModelScorecard[];
  teams: TeamScorecard[];
}

export interface ScorecardReportInput {
  segments: readonly ScorecardSegment[];
  window: ScorecardWindow;
  now: Date;
  ctx: LeverContext;
  utilization: string;
}

const DAY_SECONDS = 86_400;

/**
 * The engineer-week cost as the scorecard's money: the configured amount is in the cost's currency,
 * so it reads in each currency the scorecard holds ("€5,000.00", or "$5,000.00 or €5,000.00").
 */
function engineerWeekText(settings: ScorecardSettings, currencies: readonly string[]): string {
  const nanos = engineerWeekNanos(settings);
  if (currencies.length === 0) return `${settings.engineerWeekCost} in the cost's currency`;
  return currencies.map((currency) => formatMoney(nanos, currency)).join(" or ");
}

/** Scales the window's segments to a month and builds every model's and team's scorecard. */
export function buildScorecardReport(input: ScorecardReportInput): ScorecardReport {
  const { window, ctx } = input;
  const seconds = observedSeconds(window);
  const segments = input.segments.map((s) => toMonthly(s, seconds));
  const days = Math.round((seconds / DAY_SECONDS) * 10) / 10;
  const currencies = [...new Set(segments.map((s) => s.currency))].sort();
  const assumptions = [
    `Monthly figures: the cost of the ${days} days observed in the window (${window.from.toISOString().slice(0, 10)} to ${window.to.toISOString().slice(0, 10)}), scaled to a ${MONTH_SECONDS / DAY_SECONDS}-day month.`,
    "Cost base: inference requests and training jobs in the report's one view (where an allocation import covers a namespace-hour, its cost divided among the workloads in it); allocations no workload ran in, idle and fixed costs are no model's workload and are left out.",
    "Levers compose, they do not add: each acts on what the others leave, 1 − Π(1 − sᵢ); spot and right-sizing both cut the hourly rate, so together they count once, at the smaller GPU's spot rate.",
    `Implementation cost: effort in engineer-weeks at ${engineerWeekText(ctx.settings, currencies)} each (scorecard.engineerWeekCost); ROI in weeks is that cost over the weekly savings.`,
  ];
  return {
    generated_at: input.now.toISOString(),
    window: { from: window.from.toISOString(), to: window.to.toISOString(), observed_days: days },
    utilization: input.utilization,
    assumptions,
    models: modelScorecards(segments, ctx),
    teams: teamScorecards(segments, ctx),
  };
}
