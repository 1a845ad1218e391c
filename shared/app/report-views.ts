import { DIMENSIONS, type Dimension, type GroupKey } from "#domain/cost-row.ts";
import { decimalToNanos } from "#domain/money.ts";
import {
  ESTIMATE_MATCH_KEYS,
  type EstimateMatchKey,
} from "#domain/reconciliation/reconciliation-settings.ts";
import {
  costTable,
  formatTable,
  REPORT_FORMATS,
  type ReportFormat,
  type ReportTable,
} from "#domain/report-format.ts";
import { costTrend, trendTable } from "#domain/reports/cost-trend.ts";
import { type InferenceUsage, inferenceTable } from "#domain/reports/inference-unit-costs.ts";
import { reconciliationTable } from "#domain/reports/reconciliation-table.ts";
import { trainingTable } from "#domain/reports/training-table.ts";
import type { Clock } from "#ports/clock.ts";
import type { SqlRow, SqlValue } from "#ports/sql-runner.ts";
import type { TimeRange, Warehouse } from "#ports/warehouse.ts";
import {
  checkReportWindow,
  createCostReport,
  parseDimensions,
  ReportQueryError,
  reportWindow,
} from "./cost-report.ts";
import { type ReconciliationView, ReconciliationViewError } from "./reconciliation-view.ts";
import type { TrainingCosts } from "./training-costs.ts";

/**
 * What `finops report --view` and the costReport function show:
 * - cost: cost per group, by any dimensions (and day);
 * - trend: daily cost by the chosen dimensions, every day of the range, zero days included; hourly
 *   (every hour of the range) when `hour` is among them, on purpose, never a day × hour product;
 * - training: training jobs with cost, GPU-hours, cost per epoch and outcome;
 * - inference: cost per 1,000 requests and per million tokens by model, with the counts behind them;
 * - reconciliation: estimated vs reconciled vs billed per UTC day and team (or namespace, cloud).
 * idle, unallocated and shared are owners like any other: shown, and in every total.
 */
export const REPORT_VIEWS = ["cost", "trend", "training", "inference", "reconciliation"] as const;
export type ReportView = (typeof REPORT_VIEWS)[number];

export interface ReportViewQuery extends TimeRange {
  view: ReportView;
  /** cost: any group keys; trend: dimensions, and hour for an hourly trend; reconciliation: one of its keys; the others: none. */
  by: readonly GroupKey[];
}

export interface ReportViewsDeps {
  warehouse: Warehouse;
  trainingCosts: Pick<TrainingCosts, "report">;
  reconciliationView: ReconciliationView;
}

const DAY_MS = 86_400_000;

function parseView(text: string | undefined): ReportView {
  const view = text ?? "cost";
  if (!(REPORT_VIEWS as readonly string[]).includes(view)) {
    throw new ReportQueryError(
      "view",
      `unknown view ${JSON.stringify(view)}; one of ${REPORT_VIEWS.join(", ")}`,
    );
  }
  return view as ReportView;
}

/** What the trend's `by` takes: hour (an hourly trend instead of the daily one) and the dimensions. */
export const TREND_KEYS: readonly GroupKey[] = ["hour", ...DIMENSIONS];

/** The group keys a view is asked for, its default when none are given; errors name `by` and list only what the view takes. */
export function viewDimensions(view: ReportView, text: string | undefined): GroupKey[] {
  if (view === "cost") return parseDimensions(text ?? "team,model");
  if (view === "trend") {
    if (text?.split(",").some((name) => name.trim() === "day")) {
      throw new ReportQueryError(
        "by",
        `the trend is daily already (name hour for an hourly one); one of ${TREND_KEYS.join(", ")}`,
      );
    }
    return parseDimensions(text ?? "team", TREND_KEYS);
  }
  if (view === "reconciliation") {
    const by = parseDimensions(text ?? "team", ESTIMATE_MATCH_KEYS);
    if (by.length !== 1) {
      throw new ReportQueryError(
        "by",
        `the reconciliation view is by one of ${ESTIMATE_MATCH_KEYS.join(", ")}`,
      );
    }
    return by;
  }
  if (text !== undefined && text.trim() !== "") {
    const shape = view === "training" ? "one line per job" : "by model";
    throw new ReportQueryError("by", `the ${view} view is ${shape}; it takes no dimensions`);
  }
  return [];
}

function count(value: SqlValue | undefined): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** One row of inference_unit_costs.sql. */
function inferenceUsage(row: SqlRow): InferenceUsage {
  return {
    model: String(row.model),
    currency: String(row.currency),
    requests: count(row.requests) ?? 0,
    input_tokens: count(row.input_tokens),
    output_tokens: count(row.output_tokens),
    cost_nanos: decimalToNanos(String(row.cost)),
  };
}

/** Reconciliation over the UTC days [from, to) touches, by the view's one key; errors name their field. */
async function reconcileDays(view: ReconciliationView, query: ReportViewQuery) {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const from = day(query.from.getTime());
  const to = day(Math.ceil(query.to.getTime() / DAY_MS) * DAY_MS);
  try {
    return await view({ from, to, by: query.by[0] as EstimateMatchKey });
  } catch (error) {
    if (!(error instanceof ReconciliationViewError)) throw error;
    throw new ReportQueryError(error.field, error.message.slice(error.field.length + 2));
  }
}

/** Each view as columns and rows, over [from, to) on whole UTC hours. */
export function createReportViews({ warehouse, trainingCosts, reconciliationView }: ReportViewsDeps) {
  const costReport = createCostReport({ warehouse });
  return async function reportView(query: ReportViewQuery): Promise<ReportTable> {
    checkReportWindow(query);
    const range = { from: query.from, to: query.to };
    switch (query.view) {
      case "cost":
        return costTable(await costReport({ by: [...query.by], ...range }), query.by);
      case "trend": {
        // hour among the keys asks for an hourly trend; the rest are the dimensions beside it.
        const step = query.by.includes("hour") ? "hour" : "day";
        const by = query.by.filter((key) => key !== "hour" && key !== "day") as Dimension[];
        const lines = await costReport({ by: [step, ...by], ...range });
        return trendTable(costTrend(lines, by, range, step), by, step);
      }
      case "training":
        return trainingTable((await trainingCosts.report(range)).jobs);
      case "inference": {
        const rows = await warehouse.sql.query("inference_unit_costs", { ...range });
        return inferenceTable(rows.map(inferenceUsage));
      }
      case "reconciliation":
        return reconciliationTable(await reconcileDays(reconciliationView, query), query.by[0] ?? "team");
    }
  };
}

const CONTENT_TYPES = { json: "application/json", csv: "text/csv", table: "text/plain" } as const;

export interface ReportParams {
  view?: string;
  by?: string;
  from?: string;
  to?: string;
  format?: string;
}

/** A view as text from loose parameters (an HTTP query, the CLI's flags): each error names its field. */
export function createReportText(deps: ReportViewsDeps & { clock: Clock }) {
  const reportView = createReportViews(deps);
  return async (params: ReportParams) => {
    const view = parseView(params.view);
    const format = (params.format ?? "json") as ReportFormat;
    if (!REPORT_FORMATS.includes(format)) {
      throw new ReportQueryError("format", `one of ${REPORT_FORMATS.join(", ")}`);
    }
    const by = viewDimensions(view, params.by);
    const table = await reportView({ view, by, ...reportWindow(deps.clock.now(), params.from, params.to) });
    return { contentType: CONTENT_TYPES[format], body: formatTable(table, format) };
  };
}
