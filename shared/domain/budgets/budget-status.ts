import { type Nanos, nanosToDecimal } from "../money.ts";
import type { Budget } from "./budget-config.ts";
import type { BudgetEvaluation, ForecastMethod } from "./evaluate-budget.ts";
import { formatMoney } from "./evaluate-budget.ts";

export const BUDGET_FORMATS = ["table", "json"] as const;
export type BudgetFormat = (typeof BUDGET_FORMATS)[number];

/** Said when the evaluator was given no reconciliation store: nothing can be told of the bill. */
export const BASIS_UNKNOWN_NOTE =
  "reconciled vs estimate: no reconciliation store was given, so all spend is shown as estimate " +
  "(not reconciled against the bill)";

/** What the reconciled and estimate columns mean (the rule: budget-basis.ts, README "Budgets and alerts"). */
export const BASIS_NOTE =
  "spend = reconciled + estimate. reconciled: on whole UTC days reconcileDaily has judged, what the " +
  "bill says for the scope (for a scope no bill line can name, such as a model, its estimate on the " +
  "billed clouds, calibrated); estimate: everything else (other days, licences and provider APIs, " +
  "clouds not billed that day), times the calibration factors where one was learned";

/** One budget's standing now: what `finops budgets check` prints. */
export interface BudgetStatus {
  evaluation: BudgetEvaluation;
  /** Spend resting on a bill: the reconciled days' billed amounts (or calibrated estimates). */
  reconciled_nanos: Nanos;
  /** Spend still resting on estimates and allocations, calibrated where a factor exists. */
  estimate_nanos: Nanos;
  /** False when no reconciliation could be read (then all of the rollup's spend counts as estimate). */
  basis_known: boolean;
}

function scopeText(budget: Budget): string {
  const parts = Object.entries(budget.scope).map(([k, v]) => `${k}=${v}`);
  return parts.length === 0 ? "(all spend)" : parts.join(",");
}

function table(header: readonly string[], rows: readonly (readonly string[])[], right: ReadonlySet<number>) {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (right.has(c) ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")}\n`;
}

export function budgetToJson(budget: Budget) {
  return {
    name: budget.name,
    scope: budget.scope,
    period: budget.period,
    timeZone: budget.timeZone,
    amount: nanosToDecimal(budget.amount_nanos),
    amount_nanos: budget.amount_nanos.toString(),
    currency: budget.currency,
    thresholds: budget.thresholds,
    forecast: budget.forecast,
    owner: budget.owner,
    ...(budget.channel === undefined ? {} : { channel: budget.channel }),
    ...(budget.enforcement === undefined ? {} : { enforcement: budget.enforcement }),
  };
}

/** `finops budgets list`: the budgets as configured. */
export function formatBudgetList(budgets: readonly Budget[], format: BudgetFormat): string {
  if (format === "json") return `${JSON.stringify(budgets.map(budgetToJson), null, 2)}\n`;
  if (budgets.length === 0) return "no budgets configured (add a `budgets` section to the configuration)\n";
  return table(
    ["budget", "owner", "scope", "period", "time zone", "amount", "thresholds", "forecast", "enforcement"],
    budgets.map((b) => [
      b.name,
      b.owner,
      scopeText(b),
      b.period,
      b.timeZone,
      formatMoney(b.amount_nanos, b.currency),
      b.thresholds.join(","),
      b.forecast ? "yes" : "no",
      b.enforcement ? `${b.enforcement.threshold}% → ${b.enforcement.topic}` : "-",
    ]),
    new Set([5]),
  );
}

export function budgetStatusToJson(status: BudgetStatus) {
  const e = status.evaluation;
  return {
    name: e.budget.name,
    owner: e.budget.owner,
    scope: e.budget.scope,
    period: { kind: e.period.kind, start: e.period.start.toISOString(), end: e.period.end.toISOString() },
    currency: e.budget.currency,
    amount_nanos: e.budget.amount_nanos.toString(),
    spend_nanos: e.spend_nanos.toString(),
    percent: e.percent,
    crossed: e.crossed,
    forecast: {
      nanos: e.forecast.nanos.toString(),
      percent: e.forecast.percent,
      method: e.forecast.method satisfies ForecastMethod,
    },
    reconciled_nanos: status.reconciled_nanos.toString(),
    estimate_nanos: status.estimate_nanos.toString(),
    basis_known: status.basis_known,
    ...(e.basis === undefined
      ? {}
      : {
          rollup_spend_nanos: e.basis.rollup_nanos.toString(),
          reconciled_days: e.basis.reconciled_days,
          billed_scope: e.basis.billed_scope,
          calibrated: e.basis.calibrated,
        }),
  };
}

/** "2026-12-06 (6 days)", or "-" when no day is reconciled. */
function reconciledTo(status: BudgetStatus): string {
  const days = status.evaluation.basis?.reconciled_days ?? [];
  const last = days.at(-1);
  return last === undefined ? "-" : `${last} (${days.length} day${days.length === 1 ? "" : "s"})`;
}

/** `finops budgets check`: spend, percent used and forecast per budget, and how much is reconciled. */
export function formatBudgetStatus(statuses: readonly BudgetStatus[], format: BudgetFormat): string {
  const unknown = statuses.some((s) => !s.basis_known);
  const note = unknown ? BASIS_UNKNOWN_NOTE : BASIS_NOTE;
  if (format === "json") {
    const body = { budgets: statuses.map(budgetStatusToJson), ...(statuses.length > 0 ? { note } : {}) };
    return `${JSON.stringify(body, null, 2)}\n`;
  }
  if (statuses.length === 0) return "no budgets configured (add a `budgets` section to the configuration)\n";
  const text = table(
    [
      "budget",
      "owner",
      "period from",
      "spend",
      "budget",
      "used",
      "forecast",
      "forecast %",
      "reconciled",
      "estimate",
      "reconciled to",
    ],
    statuses.map((status) => {
      const { evaluation: e, reconciled_nanos, estimate_nanos } = status;
      const c = e.budget.currency;
      return [
        e.budget.name,
        e.budget.owner,
        `${e.period.label} ${e.period.kind}`,
        formatMoney(e.spend_nanos, c),
        formatMoney(e.budget.amount_nanos, c),
        `${e.percent.toFixed(2)}%`,
        formatMoney(e.forecast.nanos, c),
        `${e.forecast.percent.toFixed(2)}%`,
        formatMoney(reconciled_nanos, c),
        `${formatMoney(estimate_nanos, c)}${e.basis?.calibrated ? " (calibrated)" : ""}`,
        reconciledTo(status),
      ];
    }),
    new Set([3, 4, 5, 6, 7, 8, 9]),
  );
  return `${text}\nnote: ${note}\n`;
}
