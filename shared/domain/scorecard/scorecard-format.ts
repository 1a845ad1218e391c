import { formatMoney } from "#domain/alerts/format-money.ts";
import type { Nanos } from "#domain/money.ts";
import { LEVER_TITLES, type ModelScorecard, type TeamScorecard, YEAR_WEEKS } from "./scorecard.ts";
import type { ScorecardReport } from "./scorecard-report.ts";

export const SCORECARD_FORMATS = ["table", "json"] as const;
export type ScorecardFormat = (typeof SCORECARD_FORMATS)[number];

/** The report as JSON: nanos as exact decimal strings (JSON has no int64). */
export function scorecardToJson(report: ScorecardReport): string {
  return `${JSON.stringify(report, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`;
}

/** Rows of cells as aligned columns; `right` holds the indexes aligned right (numbers). */
function columns(rows: readonly (readonly string[])[], right: ReadonlySet<number>, indent = "  "): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map(
    (r) =>
      indent +
      r
        .map((c, i) => (right.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
  );
}

const percentText = (p: number) => `${p.toFixed(2)}%`;

function modelText(card: ModelScorecard): string[] {
  const money = (n: Nanos) => formatMoney(n, card.currency);
  const { combined } = card;
  const together = new Map(combined.steps.map((s) => [s.lever, s.cumulative_percent]));
  const rows = card.levers.map((l, i) => [
    l.roi_weeks === null ? "-" : String(i + 1),
    LEVER_TITLES[l.lever],
    l.monthly_savings_nanos > 0n ? money(l.monthly_savings_nanos) : "—",
    l.monthly_savings_nanos > 0n ? percentText(l.percent) : "—",
    l.monthly_savings_nanos > 0n ? percentText(together.get(l.lever) ?? 0) : "—",
    l.roi_weeks === null ? "—" : l.roi_weeks > YEAR_WEEKS ? `> ${YEAR_WEEKS}` : l.roi_weeks.toFixed(1),
    `${l.implementation.effort_weeks} wk, ${money(l.implementation.cost_nanos)}`,
    l.risk.level,
    l.basis,
  ]);
  const head = ["#", "lever", "saves/month", "alone", "together", "ROI (weeks)", "effort", "risk", "from"];
  return [
    `${card.model} (${card.teams.join(", ")})`,
    `  monthly cost ${money(card.monthly_cost_nanos)}; could save ${money(combined.monthly_savings_nanos)} a month ` +
      `(${percentText(combined.percent)})` +
      (combined.sum_of_percents - combined.percent >= 0.01
        ? `, not the ${percentText(combined.sum_of_percents)} the levers' percents add to`
        : ""),
    ...columns([head, ...rows], new Set([2, 3, 4, 5])),
    `  order: ${card.order}`,
    "  levers:",
    ...card.levers.map((l) => `    ${LEVER_TITLES[l.lever]}: ${l.detail}. Risk: ${l.risk.text}.`),
    ...(card.assumptions.length === 0
      ? []
      : ["  assumptions:", ...card.assumptions.map((a) => `    - ${a}`)]),
  ];
}

function teamsText(teams: readonly TeamScorecard[]): string[] {
  const rows = teams.map((t) => {
    const money = (n: Nanos) => formatMoney(n, t.currency);
    const best = t.models
      .flatMap((m) => m.levers.map((l) => ({ model: m.model, lever: l })))
      .sort((a, b) =>
        a.lever.monthly_savings_nanos === b.lever.monthly_savings_nanos
          ? 0
          : a.lever.monthly_savings_nanos > b.lever.monthly_savings_nanos
            ? -1
            : 1,
      )[0];
    const biggest =
      best && best.lever.monthly_savings_nanos > 0n
        ? `${best.model}: ${LEVER_TITLES[best.lever.lever]} ${money(best.lever.monthly_savings_nanos)}`
        : "—";
    return [
      t.team,
      money(t.monthly_cost_nanos),
      money(t.monthly_savings_nanos),
      percentText(t.percent),
      biggest,
    ];
  });
  return columns(
    [["team", "monthly cost", "could save/month", "%", "biggest single saving"], ...rows],
    new Set([1, 2, 3]),
  );
}

/** The readable scorecard: each model's levers in ROI order with the combined figure, then the teams. */
export function scorecardToText(report: ScorecardReport): string {
  const { window } = report;
  const lines = [
    `Optimization scorecard, ${window.from.slice(0, 10)} to ${window.to.slice(0, 10)} ` +
      `(${window.observed_days} days of data, scaled to a month)`,
    `Utilization: ${report.utilization}`,
    "",
  ];
  if (report.models.length === 0) {
    lines.push("No inference or training cost in the window: nothing to score.");
  }
  for (const card of report.models) lines.push(...modelText(card), "");
  if (report.teams.length > 0) lines.push("Teams, their own workloads:", ...teamsText(report.teams), "");
  lines.push("Assumptions behind every figure:", ...report.assumptions.map((a) => `  - ${a}`));
  return `${lines.join("\n")}\n`;
}

export function formatScorecard(report: ScorecardReport, format: ScorecardFormat): string {
  return format === "json" ? scorecardToJson(report) : scorecardToText(report);
}
