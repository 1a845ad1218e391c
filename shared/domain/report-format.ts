import type { GroupKey } from "./cost-row.ts";
import { formatAmount, type Nanos, nanosToDecimal } from "./money.ts";

export const REPORT_FORMATS = ["table", "json", "csv"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** A value of a report: text (null when absent), a count or measure, exact money in nanos, or a time. */
export type ReportCell = string | number | bigint | Date | null;
export type ReportRecord = Readonly<Record<string, ReportCell>>;

interface ColumnBase {
  /** The record key, and the JSON/CSV name. */
  key: string;
  /** The table heading; the key when absent. */
  heading?: string;
  /** In JSON and CSV only: a detail too wide for the readable table. */
  detail?: boolean;
}

/**
 * What a column holds, which says how each format prints it:
 * - text: as it is ("—" in the table when absent);
 * - money: nanos (bigint) in the row's `currency`; JSON and CSV give the exact nanos under `key` and the
 *   exact decimal under `amountKey`, the table the amount rounded to `digits` (default 2) and the currency;
 * - count: a whole number, grouped by thousands in the table;
 * - measure: a number shown to `digits` decimals in the table (GPU-hours), exact in JSON and CSV;
 * - time: an ISO 8601 instant in JSON and CSV, "YYYY-MM-DD HH:MM" (UTC) in the table;
 * - duration: seconds in JSON and CSV, "5h07" in the table.
 * `total` columns are summed, per currency, into the table's TOTAL lines.
 */
export type ReportColumn = ColumnBase &
  (
    | { kind: "text" }
    /** A percentage as an exact decimal string ("7.98", "-2.10"): signed with % in a table, as is in JSON and CSV. */
    | { kind: "percent" }
    | { kind: "money"; amountKey: string; digits?: number; total?: boolean }
    | { kind: "count"; total?: boolean }
    | { kind: "measure"; digits: number; total?: boolean }
    | { kind: "time" }
    | { kind: "duration" }
  );

/**
 * One report as columns and rows, whatever the view. Every row with money carries a `currency` text
 * column: the table shows it beside each amount rather than in a column of its own.
 */
export interface ReportTable {
  columns: readonly ReportColumn[];
  rows: readonly ReportRecord[];
  /** The table shows each row's share of this money column's total in its currency. */
  shareOf?: string;
  /** The table's TOTAL lines, one per currency; by default the `total` columns summed. */
  totals?: readonly ReportRecord[];
}

export class ReportFormatError extends Error {
  override readonly name = "ReportFormatError";
}

const CURRENCY = "currency";

function cellError(column: ReportColumn, value: ReportCell, expected: string): ReportFormatError {
  return new ReportFormatError(`column ${column.key}: expected ${expected}, got ${String(value)}`);
}

function money(column: ReportColumn, value: ReportCell): Nanos | null {
  if (value === null || typeof value === "bigint") return value;
  throw cellError(column, value, "nanos (bigint)");
}

function numeric(column: ReportColumn, value: ReportCell): number | null {
  if (value === null || typeof value === "number") return value;
  throw cellError(column, value, "a number");
}

function time(column: ReportColumn, value: ReportCell): Date | null {
  if (value === null || value instanceof Date) return value;
  throw cellError(column, value, "a Date");
}

/** The JSON fields of one cell: a money column gives two (exact nanos as a string, exact decimal). */
function jsonFields(column: ReportColumn, value: ReportCell): [string, string | number | null][] {
  switch (column.kind) {
    case "money": {
      const nanos = money(column, value);
      return [
        [column.key, nanos === null ? null : nanos.toString()],
        [column.amountKey, nanos === null ? null : nanosToDecimal(nanos)],
      ];
    }
    case "time":
      return [[column.key, time(column, value)?.toISOString() ?? null]];
    case "count":
    case "measure":
    case "duration":
      return [[column.key, numeric(column, value)]];
    case "text":
    case "percent":
      return [[column.key, value === null ? null : String(value)]];
  }
}

/** One JSON object per row: each column under its key, money as exact nanos (a string) and its decimal. */
export function tableToJson(table: ReportTable): Record<string, string | number | null>[] {
  return table.rows.map((row) =>
    Object.fromEntries(table.columns.flatMap((column) => jsonFields(column, row[column.key] ?? null))),
  );
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function tableToCsv(table: ReportTable): string {
  const header = table.columns.flatMap((column) => jsonFields(column, null).map(([key]) => key));
  const body = tableToJson(table).map((record) =>
    header.map((key) => csvField(record[key] === null ? "" : String(record[key]))).join(","),
  );
  return `${[header.join(","), ...body].join("\n")}\n`;
}

/** Per currency, the sum of each `total` column, in the order the currencies first appear. */
export function sumByCurrency(table: Pick<ReportTable, "columns" | "rows">): ReportRecord[] {
  const summed = table.columns.filter((c) => c.kind !== "text" && "total" in c && c.total === true);
  const totals = new Map<string, Record<string, ReportCell>>();
  for (const row of table.rows) {
    const currency = String(row[CURRENCY] ?? "");
    let total = totals.get(currency);
    if (total === undefined) {
      total = { [CURRENCY]: currency };
      totals.set(currency, total);
    }
    for (const column of summed) {
      const value = row[column.key] ?? null;
      if (value === null) continue;
      const sum = total[column.key] ?? null;
      if (column.kind === "money")
        total[column.key] = ((sum as bigint | null) ?? 0n) + (money(column, value) ?? 0n);
      else total[column.key] = ((sum as number | null) ?? 0) + (numeric(column, value) ?? 0);
    }
  }
  return [...totals.values()];
}

function duration(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}`;
}

function tableText(column: ReportColumn, value: ReportCell, currency: string): string {
  switch (column.kind) {
    case "money": {
      const nanos = money(column, value);
      return nanos === null ? "" : `${formatAmount(nanos, column.digits ?? 2)} ${currency}`.trimEnd();
    }
    case "count": {
      const n = numeric(column, value);
      return n === null ? "" : n.toLocaleString("en-US", { maximumFractionDigits: 0 });
    }
    case "measure":
      return numeric(column, value)?.toFixed(column.digits) ?? "";
    case "duration": {
      const n = numeric(column, value);
      return n === null ? "" : duration(n);
    }
    case "time":
      return time(column, value)?.toISOString().slice(0, 16).replace("T", " ") ?? "";
    case "text":
      return value === null ? "—" : String(value);
    case "percent": {
      if (value === null) return "";
      const text = String(value);
      return `${text.startsWith("-") ? "" : "+"}${text}%`;
    }
  }
}

function share(part: ReportCell, whole: ReportCell): string {
  if (typeof part !== "bigint" || typeof whole !== "bigint" || whole === 0n) return "";
  return `${formatAmount((part * 100n * 1_000_000_000n) / whole, 1)}%`;
}

/**
 * A readable table: a heading, the rows, then after a rule one TOTAL line per currency. Text and times
 * are aligned left, numbers right; amounts carry their currency.
 */
function tableToText(table: ReportTable): string {
  const shown = table.columns.filter((column) => column.key !== CURRENCY && column.detail !== true);
  const totals = table.totals ?? sumByCurrency(table);
  const totalOf = new Map(totals.map((t) => [String(t[CURRENCY] ?? ""), t]));
  const labelAt = shown.findIndex((column) => column.kind === "text");
  const line = (row: ReportRecord, isTotal: boolean): string[] => {
    const currency = String(row[CURRENCY] ?? "");
    const cells = shown.map((column, i) => {
      if (isTotal && i === labelAt) return "TOTAL";
      if (isTotal && row[column.key] === undefined) return "";
      return tableText(column, row[column.key] ?? null, currency);
    });
    if (table.shareOf === undefined) return cells;
    const whole = totalOf.get(currency)?.[table.shareOf] ?? null;
    return [...cells, isTotal ? share(whole, whole) : share(row[table.shareOf] ?? null, whole)];
  };
  const head = shown.map((column) => column.heading ?? column.key);
  if (table.shareOf !== undefined) head.push("share");
  const body = table.rows.map((row) => line(row, false));
  const foot = totals.map((row) => line(row, true));
  const all = [head, ...body, ...foot];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const leftAligned = (i: number) => {
    const column = shown[i];
    return column !== undefined && (column.kind === "text" || column.kind === "time");
  };
  const render = (r: string[]) =>
    r
      .map((c, i) => (leftAligned(i) ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return `${[render(head), rule, ...body.map(render), rule, ...foot.map(render)].join("\n")}\n`;
}

export function formatTable(table: ReportTable, format: ReportFormat): string {
  if (format === "json") return `${JSON.stringify(tableToJson(table), null, 2)}\n`;
  if (format === "csv") return tableToCsv(table);
  return tableToText(table);
}

/** One line of the cost view: cost per group. */
export interface ReportLine {
  group: Partial<Record<GroupKey, string | null>>;
  currency: string;
  cost_nanos: Nanos;
  rows: number;
}

/** Cost per group: each dimension under its own name, then currency, exact nanos and the amount. */
export function costTable(lines: readonly ReportLine[], by: readonly GroupKey[]): ReportTable {
  return {
    columns: [
      ...by.map((key): ReportColumn => ({ key, kind: "text" })),
      { key: CURRENCY, kind: "text" },
      { key: "cost_nanos", heading: "cost", kind: "money", amountKey: "amount", total: true },
    ],
    rows: lines.map((l) => ({
      ...Object.fromEntries(by.map((d) => [d, l.group[d] ?? null])),
      [CURRENCY]: l.currency,
      cost_nanos: l.cost_nanos,
    })),
    shareOf: "cost_nanos",
  };
}

export function formatReport(
  lines: readonly ReportLine[],
  by: readonly GroupKey[],
  format: ReportFormat,
): string {
  return formatTable(costTable(lines, by), format);
}
