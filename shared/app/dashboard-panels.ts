import type { DashboardFilters } from "#domain/dashboard/spend-series.ts";
import { type Nanos, nanosToDecimal } from "#domain/money.ts";
import { type Logger, silentLogger } from "#ports/logger.ts";
import type { TimeRange } from "#ports/warehouse.ts";

/** What a panel is asked for: the page's range and filters. */
export interface PanelQuery extends TimeRange {
  filters: DashboardFilters;
}

/** Estimates against the bill over the range (the reconciliation's drift). */
export interface DriftPanel {
  currency: string;
  estimated: Nanos;
  billed: Nanos;
  /** billed − estimated. */
  drift: Nanos;
  /** drift / billed as a percentage with two decimals; null when nothing was billed. */
  drift_percent: string | null;
  days: { day: string; estimated: Nanos; billed: Nanos }[];
  /** The rows that move the total most. */
  largest: { day: string; label: string; drift: Nanos; drift_percent: string | null; status: string }[];
  /** What the panel could not take into account (a filter the reconciliation has no key for). */
  note?: string;
}

/** The optimization scorecard: per model, each lever's monthly savings, and the levers combined. */
export interface ScorecardPanel {
  currency: string;
  /** The days the scorecard observed (it reads the last days up to now). */
  window: { from: string; to: string };
  models: {
    model: string;
    monthly_cost: Nanos;
    combined_savings: Nanos;
    /** Percent of the monthly cost, two decimals. */
    combined_percent: number;
    /** Highest return first. */
    levers: {
      lever: string;
      monthly_savings: Nanos;
      percent: number;
      risk: string;
      roi_weeks: number | null;
    }[];
  }[];
  note?: string;
}

/** The panels other use cases fill; one absent is "not available here", one answering null "nothing yet". */
export interface PanelSources {
  reconciliation?: (query: PanelQuery) => Promise<DriftPanel | null>;
  scorecard?: (query: PanelQuery) => Promise<ScorecardPanel | null>;
}

/** A panel's data as JSON: money (bigint nanos) as exact decimal strings. */
type Json<T> = T extends bigint
  ? string
  : T extends readonly (infer U)[]
    ? Json<U>[]
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;

export type PanelJson<T = DriftPanel | ScorecardPanel> =
  | { status: "unavailable" | "empty" | "failed"; note: string }
  | ({ status: "ok" } & Json<T>);

const NOTES = {
  reconciliation: {
    unavailable: "No reconciliation yet: estimates are not checked against the bill in this deployment.",
    empty: "No reconciliation yet for this range: no bill has been compared with the estimates.",
    failed: "The reconciliation could not be read; the other panels are unaffected.",
  },
  scorecard: {
    unavailable: "No scorecard yet: the optimization scorecard is not available in this deployment.",
    empty: "No scorecard yet for this selection: not enough data to estimate savings.",
    failed: "The scorecard could not be read; the other panels are unaffected.",
  },
} as const;

function toJson<T>(value: T): Json<T> {
  return JSON.parse(JSON.stringify(value, (_, v) => (typeof v === "bigint" ? nanosToDecimal(v) : v)));
}

/** One panel's answer: its data, or a note saying why there is none (a fault is logged, not thrown). */
export async function panel<T>(
  name: keyof typeof NOTES,
  source: ((query: PanelQuery) => Promise<T | null>) | undefined,
  query: PanelQuery,
  logger: Logger = silentLogger,
): Promise<PanelJson<T>> {
  if (source === undefined) return { status: "unavailable", note: NOTES[name].unavailable };
  try {
    const data = await source(query);
    if (data === null) return { status: "empty", note: NOTES[name].empty };
    return { status: "ok", ...(toJson(data) as object) } as PanelJson<T>;
  } catch (error) {
    // The panel says it failed and the log keeps the cause; the rest of the page stands.
    logger.error(`dashboard ${name} panel failed`, { error: String(error) });
    return { status: "failed", note: NOTES[name].failed };
  }
}
