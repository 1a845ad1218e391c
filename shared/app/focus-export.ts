import { DIMENSIONS } from "#domain/cost-row.ts";
import {
  type AttributedCost,
  type CostPart,
  type Owners,
  splitIntoLines,
} from "#domain/focus-export/export-lines.ts";
import { type FocusExportSettings, type FocusRow, toFocusRow } from "#domain/focus-export/focus-row.ts";
import { decimalToNanos, type Nanos } from "#domain/money.ts";
import type { SqlRow, SqlValue } from "#ports/sql-runner.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { checkReportWindow } from "./cost-report.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** How far back a training job's previous report is looked for: the warehouses' refresh default. */
const TRAINING_LOOKBACK_MS = 7 * DAY_MS;

/** One UTC day of an export (cut to the range): its rows and their total per currency. */
export interface FocusExportDay {
  from: Date;
  to: Date;
  rows: FocusRow[];
  totals: Map<string, Nanos>;
}

export class FocusExportError extends Error {
  override readonly name = "FocusExportError";
}

function text(row: SqlRow, column: string): string | null {
  const value: SqlValue | undefined = row[column];
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") throw new FocusExportError(`focus_export: ${column} is not text`);
  return value;
}

function needText(row: SqlRow, column: string): string {
  const value = text(row, column);
  if (value === null) throw new FocusExportError(`focus_export: ${column} is null`);
  return value;
}

function instant(row: SqlRow, column: string): Date {
  const value = row[column];
  if (!(value instanceof Date)) throw new FocusExportError(`focus_export: ${column} is not a timestamp`);
  return value;
}

function owners(row: SqlRow): Owners {
  return Object.fromEntries(DIMENSIONS.map((d) => [d, text(row, d)])) as Owners;
}

/** The UTC days [from, to) covers, each cut to it. */
function days(from: Date, to: Date): { from: Date; to: Date }[] {
  const out: { from: Date; to: Date }[] = [];
  for (let start = from.getTime(); start < to.getTime(); ) {
    const end = Math.min(Math.floor(start / DAY_MS) * DAY_MS + DAY_MS, to.getTime());
    out.push({ from: new Date(start), to: new Date(end) });
    start = end;
  }
  return out;
}

/**
 * Our attributed costs as FOCUS rows, one UTC day at a time (so a long export streams and can say
 * how far it is): the one view's figure per owner and charge period (focus_export#costs), split by
 * what it is made of, event type and training job (focus_export#parts), every nano kept.
 */
export function createFocusExport({ warehouse }: { warehouse: Warehouse }) {
  async function* exportDays(settings: FocusExportSettings): AsyncGenerator<FocusExportDay> {
    for (const day of days(settings.from, settings.to)) {
      const params = { from: day.from, to: day.to, granularity: settings.granularity };
      const costRows = await warehouse.sql.query("focus_export#costs", params);
      const partRows = await warehouse.sql.query("focus_export#parts", {
        ...params,
        lookback_from: new Date(day.from.getTime() - TRAINING_LOOKBACK_MS),
      });
      const costs = costRows.map(
        (row): AttributedCost => ({
          periodStart: instant(row, "period_start"),
          owners: owners(row),
          currency: needText(row, "currency"),
          cost_nanos: decimalToNanos(needText(row, "cost")),
        }),
      );
      const parts = partRows.map(
        (row): CostPart => ({
          periodStart: instant(row, "period_start"),
          owners: owners(row),
          currency: needText(row, "currency"),
          event_type: needText(row, "event_type"),
          job_id: text(row, "job_id"),
          region: text(row, "region"),
          weight_nanos: decimalToNanos(needText(row, "weight")),
        }),
      );
      const lines = splitIntoLines(costs, parts);
      const totals = new Map<string, Nanos>();
      for (const line of lines)
        totals.set(line.currency, (totals.get(line.currency) ?? 0n) + line.cost_nanos);
      yield { ...day, rows: lines.map((line) => toFocusRow(line, settings)), totals };
    }
  }
  /** Checks the range at once (a bad one names its field before anything is written), then streams. */
  return function focusExport(settings: FocusExportSettings): AsyncGenerator<FocusExportDay> {
    checkReportWindow(settings);
    return exportDays(settings);
  };
}
