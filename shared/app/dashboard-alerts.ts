import type { AlertKind, Severity } from "#domain/alerts/alert.ts";
import type { Budget } from "#domain/budgets/budget-config.ts";
import type { Dimension } from "#domain/cost-row.ts";
import {
  dimensionWords,
  notNarrowedNote,
  type Scope,
  scopeStanding,
  scopeWords,
  selectionSpendIn,
} from "#domain/dashboard/selection-scope.ts";
import {
  DASHBOARD_DIMENSIONS,
  type DashboardFilters,
  type GroupedCost,
} from "#domain/dashboard/spend-series.ts";
import type { AlertDelivery } from "#ports/alert-log.ts";

/** One line of the dashboard's recent alerts. */
export interface AlertItem {
  delivered_at: string;
  kind: AlertKind;
  severity: Severity;
  /**
   * What it is about, as a sentence: the alert's title with its scope in words ("Budget
   * demo-nlp-monthly reached 80%, for team nlp-team."); for an alert logged before titles were
   * kept, its kind and scope ("Spend anomaly for team search and model ranker.").
   */
  about: string;
  /** The budget a budget alert is about; null for other kinds. */
  budget: string | null;
  /**
   * Null when nothing is filtered, the alert's scope names every filtered value, or all of its
   * scope's spend over the range is the selection's; else why its figures are not the selection's
   * ("team budget: not narrowed by model"): the page shows it greyed.
   */
  not_narrowed: string | null;
  channel: string;
  action: AlertDelivery["action"];
}

/** How many alerts the page lists. */
export const ALERTS_SHOWN = 15;

/** `budget:<name>:<period start>:[forecast:]<threshold>` (evaluate-budget.ts's keys). */
const BUDGET_KEY = /^budget:([^:]+):\d{4}-\d{2}-\d{2}:(forecast:)?(\d+)$/;
/** `name=value` pairs, as anomaly keys and titles write a scope. */
const PAIRS = /\b([a-z_]+)=([^,:\s]+)/g;

const KIND_WORDS: Readonly<Record<AlertKind, string>> = {
  "budget.threshold": "Budget threshold passed",
  "budget.forecast": "Budget forecast to be exceeded",
  "budget.digest": "Weekly budget digest",
  "gcp.budget": "Cloud Billing budget threshold",
  "aws.anomaly": "AWS cost anomaly",
  "spend.runaway": "Runaway training job",
  "spend.anomaly": "Spend anomaly",
  "reconciliation.drift": "Drift against the bill",
  "scorecard.digest": "Weekly optimization scorecard",
};

/** "team=a,model=b" in a text → "team a, model b". */
function pairsInWords(text: string): string {
  return text.replace(PAIRS, (_, d: string, v: string) => `${dimensionWords(d)} ${v}`);
}

/** The scope a delivery speaks for: its logged scope, else what its key names. */
function deliveryScope(delivery: AlertDelivery): Scope {
  if (Object.keys(delivery.scope).length > 0) return { ...delivery.scope };
  const scope: Scope = {};
  for (const [, d, v] of delivery.idempotency_key.matchAll(PAIRS)) {
    if ((DASHBOARD_DIMENSIONS as readonly string[]).includes(d as string))
      scope[d as Dimension] = v as string;
  }
  return scope;
}

function budgetOf(delivery: AlertDelivery): { budget: string; what: string } | null {
  const match = BUDGET_KEY.exec(delivery.idempotency_key);
  if (!match || !delivery.kind.startsWith("budget.")) return null;
  const [, budget = "", forecast, threshold] = match;
  const what = forecast
    ? `forecast to reach ${threshold}%`
    : threshold === "100"
      ? "exceeded"
      : `reached ${threshold}%`;
  return { budget, what };
}

/** The alert as a sentence: its title (or kind) with its scope in words. */
export function aboutSentence(delivery: AlertDelivery, scope: Scope): string {
  const budget = budgetOf(delivery);
  const title =
    delivery.title ?? (budget ? `Budget ${budget.budget} ${budget.what}` : KIND_WORDS[delivery.kind]);
  const words = pairsInWords(title).replace(/[.\s]+$/, "");
  const named = Object.entries(scope).filter(
    ([d, v]) => v !== undefined && !words.includes(`${dimensionWords(d)} ${v}`),
  );
  const scopePart = named.length === 0 ? "" : `, for ${scopeWords(Object.fromEntries(named))}`;
  return `${words}${scopePart}.`;
}

/**
 * The recent deliveries that concern the selection, newest first, as the page lists them. Filters
 * apply to alerts as to the charts: an alert concerns the selection when its scope (a configured
 * budget's own scope for a budget alert, else the scope it was logged with) names no other value for
 * a filtered dimension, and, where it leaves a filtered dimension open, when the selection has spend
 * in its scope over the range (`rows`: the overview's report, by day and the dashboard's
 * dimensions). Such an alert is listed with what the filter cannot narrow, never as the selection's.
 */
export function alertItems(
  recent: readonly AlertDelivery[],
  budgets: readonly Budget[],
  filters: DashboardFilters,
  rows: readonly GroupedCost[] = [],
): AlertItem[] {
  const filtered = DASHBOARD_DIMENSIONS.some((d) => filters[d] !== undefined);
  const byName = new Map(budgets.map((b) => [b.name, b]));
  const items: AlertItem[] = [];
  const spendOf = new Map<string, { part: bigint; whole: bigint }>();
  /** The selection's spend in the scope over the range, and the scope's whole spend. */
  const spendIn = (scope: Scope) => {
    const key = JSON.stringify(scope);
    let found = spendOf.get(key);
    if (found === undefined) {
      found = { part: selectionSpendIn(scope, filters, rows), whole: selectionSpendIn(scope, {}, rows) };
      spendOf.set(key, found);
    }
    return found;
  };
  for (const delivery of recent) {
    if (items.length === ALERTS_SHOWN) break;
    const named = budgetOf(delivery)?.budget ?? null;
    const configured = named === null ? undefined : byName.get(named);
    const logged = deliveryScope(delivery);
    const scope: Scope = configured ? { ...configured.scope } : logged;
    let notNarrowed: string | null = null;
    if (filtered) {
      const standing = scopeStanding(scope, filters);
      if (standing.kind === "other") continue;
      if (standing.kind === "wider") {
        const { part, whole } = spendIn(scope);
        if (part === 0n) continue;
        // All of the scope's spend is the selection's (a team wholly in the filtered business unit).
        if (part !== whole)
          notNarrowed = notNarrowedNote(scope, standing.notNarrowedBy, configured ? "budget" : "alert");
      }
    }
    items.push({
      delivered_at: delivery.delivered_at.toISOString(),
      kind: delivery.kind,
      severity: delivery.severity,
      about: aboutSentence(delivery, configured ? scope : logged),
      budget: named,
      not_narrowed: notNarrowed,
      channel: delivery.channel,
      action: delivery.action,
    });
  }
  return items;
}
