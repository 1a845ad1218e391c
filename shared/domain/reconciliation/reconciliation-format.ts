import { formatAmount, type Nanos, nanosToDecimal } from "#domain/money.ts";
import {
  formatTable,
  type ReportColumn,
  type ReportFormat,
  type ReportRecord,
  type ReportTable,
  tableToJson,
} from "#domain/report-format.ts";
import type { CalibrationFactor } from "./calibration.ts";
import { driftRow, topContributors } from "./drift-table.ts";
import type { KeyValues, MatchKey } from "./match-key.ts";
import { formatRatio } from "./ratio.ts";
import type { DayReconciliation } from "./reconcile-days.ts";

/** What `finops reconcile` prints: the days reconciled, in one currency. */
export interface ReconciliationReport {
  currency: string;
  days: ReadonlyArray<DayReconciliation & { settled: boolean }>;
}

const MONEY_COLUMNS = ["estimated", "reconciled", "billed", "drift"] as const;

function percentText(percent: string | null): string | null {
  if (percent === null) return null;
  return percent.startsWith("-") ? `${percent}%` : `+${percent}%`;
}

function keyColumns(report: ReconciliationReport): MatchKey[] {
  const keys: MatchKey[] = [];
  for (const day of report.days) for (const k of day.keys) if (!keys.includes(k)) keys.push(k);
  return keys;
}

/**
 * Every row of every day: its key, status, estimated, reconciled (calibrated estimate), billed and
 * drift (billed − estimated) with drift as a percentage of billed, before and after calibration.
 * The TOTAL line is the whole period's.
 */
export function driftReportTable(report: ReconciliationReport): ReportTable {
  const keys = keyColumns(report);
  const columns: ReportColumn[] = [
    { key: "day", kind: "text" },
    ...keys.map((key): ReportColumn => ({ key, kind: "text" })),
    { key: "status", kind: "text" },
    { key: "currency", kind: "text" },
    ...MONEY_COLUMNS.map(
      (key): ReportColumn => ({
        key: `${key}_nanos`,
        heading: key,
        kind: "money",
        amountKey: key,
        total: true,
      }),
    ),
    { key: "drift_percent", heading: "drift %", kind: "percent" },
    { key: "reconciled_drift_percent", heading: "calibrated drift %", kind: "percent" },
  ];
  const rows: ReportRecord[] = report.days.flatMap((day) =>
    day.rows.map((row) => ({
      day: day.day,
      ...Object.fromEntries(keys.map((k) => [k, row.key[k] ?? null])),
      status: row.status,
      currency: report.currency,
      estimated_nanos: row.estimated,
      reconciled_nanos: row.reconciled,
      billed_nanos: row.billed,
      drift_nanos: row.drift,
      drift_percent: row.relativePercent,
      reconciled_drift_percent: row.reconciledRelativePercent,
    })),
  );
  const sum = (pick: (d: DayReconciliation) => Nanos) => report.days.reduce((s, d) => s + pick(d), 0n);
  const estimated = sum((d) => d.totals.estimated);
  const reconciled = sum((d) => d.totals.reconciled);
  const billed = sum((d) => d.totals.billed);
  const total: ReportRecord = {
    currency: report.currency,
    estimated_nanos: estimated,
    reconciled_nanos: reconciled,
    billed_nanos: billed,
    drift_nanos: billed - estimated,
    drift_percent: driftRow("", {}, "all", estimated, billed).relativePercent,
    reconciled_drift_percent: driftRow("", {}, "all", reconciled, billed).relativePercent,
  };
  return { columns, rows, totals: rows.length === 0 ? [] : [total] };
}

function keyText(key: KeyValues, keys: readonly MatchKey[]): string {
  return keys.map((k) => key[k] ?? "—").join(" / ");
}

function signed(nanos: Nanos, currency: string): string {
  return `${nanos < 0n ? "-" : "+"}${formatAmount(nanos < 0n ? -nanos : nanos)} ${currency}`;
}

function factorText(f: CalibrationFactor): string {
  const clamp = f.clamped === null ? "" : `, clamped ${f.clamped}`;
  return `${f.cloud}/${f.family} ×${formatRatio(f.factor)} (${f.days.length} day${f.days.length === 1 ? "" : "s"}${clamp})`;
}

function driftText(drift: Nanos, percent: string | null, currency: string): string {
  return `${signed(drift, currency)} (${percent === null ? "nothing billed" : `${percentText(percent)} of billed`})`;
}

/** Per day: counts, drift before and after calibration, top contributors, factors, clouds with no bill. */
function daySummary(day: DayReconciliation & { settled: boolean }, currency: string): string[] {
  const t = day.totals;
  const head = `${day.day}${day.settled ? "" : " (not settled yet: the bill may still change)"}`;
  const unbilled =
    day.unbilledClouds.length === 0
      ? []
      : [`  not reconciled, no bill line that day: ${day.unbilledClouds.join(", ")}`];
  if (day.rows.length === 0) return [`${head}: nothing to reconcile`, ...unbilled];
  const lines = [
    `${head}: ${t.counts.matched} matched, ${t.counts.unattributed} unattributed, ${t.counts["over-estimated"]} over-estimated`,
    `  drift ${driftText(t.drift, t.relativePercent, currency)}; calibrated ${driftText(t.reconciledDrift, t.reconciledRelativePercent, currency)}`,
    `  key by key, Σ|drift| ${formatAmount(t.absDrift)} ${currency}, calibrated ${formatAmount(t.absReconciledDrift)} ${currency}`,
  ];
  const top = topContributors(day.rows, 3);
  if (top.length > 0) {
    lines.push("  top contributors:");
    for (const r of top)
      lines.push(`    ${keyText(r.key, day.keys)}: ${signed(r.drift, currency)} (${r.status})`);
  }
  lines.push(
    day.factors.length === 0
      ? "  calibration: no factors yet (too few billed days before this one)"
      : `  calibration factors: ${day.factors.map(factorText).join(", ")}`,
  );
  return [...lines, ...unbilled];
}

function factorJson(f: CalibrationFactor) {
  return {
    cloud: f.cloud,
    family: f.family,
    factor: formatRatio(f.factor, 6),
    factor_num: f.factor.num.toString(),
    factor_den: f.factor.den.toString(),
    clamped: f.clamped,
    days: f.days,
    estimated: nanosToDecimal(f.estimated),
    billed: nanosToDecimal(f.billed),
  };
}

/** The report as a table with a summary per day, as JSON (exact amounts as strings), or as CSV rows. */
export function formatReconciliation(report: ReconciliationReport, format: ReportFormat): string {
  const table = driftReportTable(report);
  if (format === "csv") return formatTable(table, "csv");
  if (format === "json") {
    const rows = tableToJson(table);
    const json = report.days.map((day) => ({
      day: day.day,
      settled: day.settled,
      match_keys: day.keys,
      totals: {
        estimated: nanosToDecimal(day.totals.estimated),
        reconciled: nanosToDecimal(day.totals.reconciled),
        billed: nanosToDecimal(day.totals.billed),
        drift: nanosToDecimal(day.totals.drift),
        drift_percent: day.totals.relativePercent,
        reconciled_drift: nanosToDecimal(day.totals.reconciledDrift),
        reconciled_drift_percent: day.totals.reconciledRelativePercent,
        counts: day.totals.counts,
      },
      rows: rows.filter((r) => r.day === day.day),
      factors: day.factors.map(factorJson),
      unbilled_clouds: day.unbilledClouds,
    }));
    return `${JSON.stringify({ currency: report.currency, days: json }, null, 2)}\n`;
  }
  if (report.days.every((d) => d.rows.length === 0)) {
    const unbilled = [...new Set(report.days.flatMap((d) => d.unbilledClouds))];
    return `No bill for ${report.days.map((d) => d.day).join(", ")}${unbilled.length ? ` (estimates of ${unbilled.join(", ")} wait for one)` : ""}: import one with \`finops billing import\` or configure reconciliation.sources.\n`;
  }
  return `${formatTable(table, "table")}\n${report.days.flatMap((d) => daySummary(d, report.currency)).join("\n")}\n`;
}
