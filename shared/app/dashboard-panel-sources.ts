import type { DashboardFilters } from "#domain/dashboard/spend-series.ts";
import { currenciesBySpend } from "#domain/dashboard/spend-series.ts";
import type { Nanos } from "#domain/money.ts";
import { driftRow, topContributors } from "#domain/reconciliation/drift-table.ts";
import { formatPercent, ratio } from "#domain/reconciliation/ratio.ts";
import {
  ESTIMATE_MATCH_KEYS,
  type EstimateMatchKey,
} from "#domain/reconciliation/reconciliation-settings.ts";
import type { Clock } from "#ports/clock.ts";
import type { DriftPanel, PanelQuery, ScorecardPanel } from "./dashboard-panels.ts";
import {
  type ReconciliationView,
  ReconciliationViewError,
  type ReconciliationViewRow,
} from "./reconciliation-view.ts";
import { createRefreshingValue, type Timed } from "./refreshing-value.ts";
import type { Scorecard, ScorecardQuery, ScorecardReport } from "./scorecard.ts";

const DAY_MS = 86_400_000;
const LARGEST = 5;
const SCORECARD_MODELS = 8;

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function unfiltered(filters: DashboardFilters, kept: readonly (keyof DashboardFilters)[], what: string) {
  const ignored = (Object.keys(filters) as (keyof DashboardFilters)[]).filter((d) => !kept.includes(d));
  return ignored.length === 0
    ? undefined
    : `The ${ignored.map((d) => d.replace("_", " ")).join(" and ")} filter does not apply to the ${what}.`;
}

/** Rows of the days the range touches, by team when it can (a team filter needs it), else by what the days were reconciled on. */
async function viewRows(view: ReconciliationView, query: PanelQuery) {
  const range = { from: day(query.from.getTime()), to: day(Math.ceil(query.to.getTime() / DAY_MS) * DAY_MS) };
  const keys: readonly EstimateMatchKey[] =
    query.filters.team === undefined
      ? ["team", ...ESTIMATE_MATCH_KEYS.filter((k) => k !== "team")]
      : ["team"];
  for (const [index, by] of keys.entries()) {
    try {
      const rows = await view({ ...range, by });
      return {
        by,
        rows: by === "team" && query.filters.team ? rows.filter((r) => r.value === query.filters.team) : rows,
      };
    } catch (error) {
      // Days reconciled on other keys than this one: try the next (ReconciliationViewError says which field).
      if (!(error instanceof ReconciliationViewError && error.field === "by") || index === keys.length - 1)
        throw error;
    }
  }
  throw new Error("unreachable: ESTIMATE_MATCH_KEYS is not empty");
}

/** The reconciliation panel from the stored reconciliation (createReconciliationView). */
export function reconciliationPanel(view: ReconciliationView) {
  return async (query: PanelQuery): Promise<DriftPanel | null> => {
    const { by, rows } = await viewRows(view, query);
    const [currency, ...others] = currenciesBySpend(
      rows.map((r) => ({ group: {}, currency: r.currency, cost_nanos: r.billed })),
    );
    if (currency === undefined) return null;
    const mine = rows.filter((r) => r.currency === currency);
    const days = new Map<string, { day: string; estimated: Nanos; billed: Nanos }>();
    for (const r of mine) {
      const entry = days.get(r.day) ?? { day: r.day, estimated: 0n, billed: 0n };
      entry.estimated += r.estimated;
      entry.billed += r.billed;
      days.set(r.day, entry);
    }
    const drifts = mine.map((r: ReconciliationViewRow) =>
      driftRow(r.day, { [by]: r.value }, `${by}=${r.value ?? "-"}`, r.estimated, r.billed),
    );
    const estimated = mine.reduce((s, r) => s + r.estimated, 0n);
    const billed = mine.reduce((s, r) => s + r.billed, 0n);
    const notes = [
      unfiltered(query.filters, ["team"], "reconciliation (it matches estimates and bill by team)"),
      others.length > 0 ? `Also billed in ${others.join(", ")} (not shown).` : undefined,
    ].filter((n) => n !== undefined);
    return {
      currency,
      estimated,
      billed,
      drift: billed - estimated,
      drift_percent: billed === 0n ? null : formatPercent(ratio(billed - estimated, billed)),
      days: [...days.values()].sort((a, b) => (a.day < b.day ? -1 : 1)),
      largest: topContributors(drifts, LARGEST).map((r) => ({
        day: r.day,
        label: r.label,
        drift: r.drift,
        drift_percent: r.relativePercent,
        status: r.status,
      })),
      ...(notes.length > 0 ? { note: notes.join(" ") } : {}),
    };
  };
}

/** Scorecards kept at once (one per days, team and model asked); the oldest goes first. */
const SCORECARDS_KEPT = 32;

/**
 * The scorecard panel: the last days up to now as long as the range, for the team and model chosen.
 * A scorecard reads a month of raw events, so each one asked for serves for `freshMs` (ten minutes).
 */
export function scorecardPanel(
  scorecard: Scorecard,
  { clock, freshMs = 600_000 }: { clock: Clock; freshMs?: number },
) {
  const kept = new Map<string, () => Promise<Timed<ScorecardReport>>>();
  function report(query: ScorecardQuery) {
    const key = JSON.stringify([query.days, query.team, query.model]);
    let read = kept.get(key);
    if (read === undefined) {
      read = createRefreshingValue(() => scorecard(query), { clock, freshMs });
      kept.set(key, read);
      if (kept.size > SCORECARDS_KEPT) kept.delete(kept.keys().next().value as string);
    }
    return read();
  }
  return async (query: PanelQuery): Promise<ScorecardPanel | null> => {
    const days = Math.min(400, Math.max(1, Math.ceil((query.to.getTime() - query.from.getTime()) / DAY_MS)));
    const { team, model } = query.filters;
    const { value: card } = await report({
      days,
      ...(team === undefined ? {} : { team }),
      ...(model === undefined ? {} : { model }),
    });
    const [currency, ...others] = currenciesBySpend(
      card.models.map((m) => ({ group: {}, currency: m.currency, cost_nanos: m.monthly_cost_nanos })),
    );
    if (currency === undefined) return null;
    const models = card.models
      .filter((m) => m.currency === currency)
      .sort((a, b) =>
        a.combined.monthly_savings_nanos === b.combined.monthly_savings_nanos
          ? a.model.localeCompare(b.model)
          : a.combined.monthly_savings_nanos > b.combined.monthly_savings_nanos
            ? -1
            : 1,
      )
      .slice(0, SCORECARD_MODELS);
    const notes = [
      `Savings per month, from the last ${card.window.observed_days} day${card.window.observed_days === 1 ? "" : "s"}.`,
      unfiltered(query.filters, ["team", "model"], "scorecard"),
      others.length > 0 ? `Models costed in ${others.join(", ")} are not shown.` : undefined,
    ].filter((n) => n !== undefined);
    return {
      currency,
      window: { from: card.window.from, to: card.window.to },
      models: models.map((m) => ({
        model: m.model,
        monthly_cost: m.monthly_cost_nanos,
        combined_savings: m.combined.monthly_savings_nanos,
        combined_percent: m.combined.percent,
        levers: m.levers.map((l) => ({
          lever: l.lever.replace("_", "-"),
          monthly_savings: l.monthly_savings_nanos,
          percent: l.percent,
          risk: l.risk.level,
          roi_weeks: l.roi_weeks,
        })),
      })),
      note: notes.join(" "),
    };
  };
}
