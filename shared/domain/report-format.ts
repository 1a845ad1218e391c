import type { GroupKey } from "./cost-row.ts";
import { formatAmount, nanosToDecimal } from "./money.ts";

export const REPORT_FORMATS = ["table", "json", "csv"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportLine {
  group: Partial<Record<GroupKey, string | null>>;
  currency: string;
  cost_nanos: bigint;
  rows: number;
}

/** One JSON object per group: each dimension under its own name, exact nanos as a string, the amount. */
export function reportToJson(lines: readonly ReportLine[], by: readonly GroupKey[]) {
  return lines.map((l) => ({
    ...Object.fromEntries(by.map((d) => [d, l.group[d] ?? null])),
    currency: l.currency,
    cost_nanos: l.cost_nanos.toString(),
    amount: nanosToDecimal(l.cost_nanos),
  }));
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function totalsByCurrency(lines: readonly ReportLine[]): Map<string, bigint> {
  const totals = new Map<string, bigint>();
  for (const l of lines) totals.set(l.currency, (totals.get(l.currency) ?? 0n) + l.cost_nanos);
  return totals;
}

export function formatReport(
  lines: readonly ReportLine[],
  by: readonly GroupKey[],
  format: ReportFormat,
): string {
  if (format === "json") return `${JSON.stringify(reportToJson(lines, by), null, 2)}\n`;
  if (format === "csv") {
    const header = [...by, "currency", "cost_nanos", "amount"].join(",");
    const body = lines.map((l) =>
      [...by.map((d) => l.group[d] ?? ""), l.currency, l.cost_nanos.toString(), nanosToDecimal(l.cost_nanos)]
        .map(csvField)
        .join(","),
    );
    return `${[header, ...body].join("\n")}\n`;
  }
  const head = [...by, "cost", "share"];
  const totals = totalsByCurrency(lines);
  const table = lines.map((l) => {
    const total = totals.get(l.currency) ?? 0n;
    const share = total === 0n ? "" : `${formatAmount((l.cost_nanos * 100n * 1_000_000_000n) / total, 1)}%`;
    return [...by.map((d) => l.group[d] ?? "—"), `${formatAmount(l.cost_nanos)} ${l.currency}`, share];
  });
  for (const [currency, total] of totals) {
    table.push([
      ...by.map((_, i) => (i === 0 ? "TOTAL" : "")),
      `${formatAmount(total)} ${currency}`,
      "100.0%",
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => (r[i] ?? "").length)));
  const numeric = (i: number) => i >= by.length;
  const render = (r: string[]) =>
    r
      .map((c, i) => (numeric(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  const body = table.map(render);
  body.splice(lines.length, 0, rule);
  return `${[render(head), rule, ...body].join("\n")}\n`;
}
