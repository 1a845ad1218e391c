import { UNALLOCATED } from "#domain/cost-row.ts";
import { decimalToNanos } from "#domain/money.ts";
import type { PriceCatalog, RegionFallback } from "#domain/pricing/catalog.ts";
import { createPricer } from "#domain/pricing/pricer.ts";
import type { ScorecardSegment, ScorecardWindow } from "#domain/scorecard/scorecard-inputs.ts";
import { buildScorecardReport, type ScorecardReport } from "#domain/scorecard/scorecard-report.ts";
import type { ScorecardSettings } from "#domain/scorecard/scorecard-settings.ts";
import { type ModelUtilization, utilizationByModel } from "#domain/scorecard/utilization.ts";
import type { Clock } from "#ports/clock.ts";
import { type Logger, silentLogger } from "#ports/logger.ts";
import { type MetricsSource, MetricsSourceError } from "#ports/metrics-source.ts";
import type { SqlRow } from "#ports/sql-runner.ts";
import type { Warehouse } from "#ports/warehouse.ts";

export type { ScorecardReport } from "#domain/scorecard/scorecard-report.ts";

const DAY_MS = 86_400_000;
/** How far back training rows are read so a job's first event in the window is charged its difference (as the rollup does). */
const TRAINING_LOOKBACK_MS = 7 * DAY_MS;

export interface ScorecardDeps {
  warehouse: Warehouse;
  /** The price catalog (overrides merged): spot and smaller-GPU rates. */
  catalog: PriceCatalog;
  /** The configuration's pricing.regionFallback, so a segment is priced as its events were. */
  regionFallback?: RegionFallback;
  settings: ScorecardSettings;
  clock: Clock;
  /** DCGM utilization for right-sizing; without it right-sizing claims nothing. */
  metrics?: MetricsSource;
  logger?: Logger;
}

export interface ScorecardQuery {
  /** Days up to now; default the settings' windowDays (30). */
  days?: number;
  model?: string;
  team?: string;
  /** The instant the window ends at (default now): a command asked through a stack scores as of when it was typed. */
  asOf?: Date;
}

export class ScorecardQueryError extends Error {
  override readonly name = "ScorecardQueryError";
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/** The optimization scorecard per model and per team over the last `days`; a plain JSON-able value (bigint nanos). */
export type Scorecard = (query?: ScorecardQuery) => Promise<ScorecardReport>;

function text(row: SqlRow, column: string): string | null {
  const value = row[column];
  return value === null || value === undefined ? null : String(value);
}

function count(row: SqlRow, column: string): number {
  const value = row[column];
  return typeof value === "number" ? value : Number(value ?? 0);
}

export function segmentFromRow(row: SqlRow): ScorecardSegment {
  return {
    team: text(row, "team") ?? UNALLOCATED,
    model: text(row, "model") ?? UNALLOCATED,
    currency: text(row, "currency") ?? "USD",
    workload: text(row, "workload") === "training" ? "training" : "inference",
    interruptible: row.interruptible === true,
    namespace: text(row, "namespace"),
    cloud: text(row, "cloud"),
    region: text(row, "region"),
    accelerator: text(row, "accelerator"),
    instance_type: text(row, "instance_type"),
    pricing_model: text(row, "pricing_model"),
    provider: text(row, "provider"),
    cost_nanos: decimalToNanos(text(row, "cost") ?? "0"),
    gpu_seconds: count(row, "gpu_seconds"),
    requests: count(row, "requests"),
    fingerprinted: count(row, "fingerprinted"),
    repeats: count(row, "repeats"),
    repeat_cost_nanos: decimalToNanos(text(row, "repeat_cost") ?? "0"),
    cache_hits: count(row, "cache_hits"),
  };
}

/** The query's window in days, checked (a ScorecardQueryError names the field): callers check before opening anything. */
export function checkScorecardQuery(
  query: ScorecardQuery,
  settings: Pick<ScorecardSettings, "windowDays">,
): number {
  const days = query.days ?? settings.windowDays;
  if (!Number.isInteger(days) || days < 1 || days > 400) {
    throw new ScorecardQueryError("days", `must be a whole number of days from 1 to 400, got ${days}`);
  }
  for (const field of ["model", "team"] as const) {
    const value = query[field];
    if (value !== undefined && value.trim() === "") throw new ScorecardQueryError(field, "must not be empty");
  }
  return days;
}

export function createScorecard({
  warehouse,
  catalog,
  regionFallback,
  settings,
  clock,
  metrics,
  logger = silentLogger,
}: ScorecardDeps): Scorecard {
  const pricer = createPricer(catalog, regionFallback === undefined ? {} : { regionFallback });

  /** Utilization per model from DCGM, and a line saying where it came from or why there is none. */
  async function readUtilization(
    window: ScorecardWindow,
    segments: readonly ScorecardSegment[],
  ): Promise<{ utilization: ModelUtilization | null; note: string }> {
    if (!metrics) return { utilization: null, note: "no DCGM metrics source configured" };
    try {
      const usage = await metrics.gpuUsage(
        { from: window.from, to: window.to },
        settings.rightSizing.stepSeconds,
      );
      const modelsByNamespace = new Map<string, Set<string>>();
      for (const s of segments) {
        if (s.namespace === null || s.provider) continue;
        const models = modelsByNamespace.get(s.namespace) ?? new Set<string>();
        models.add(s.model);
        modelsByNamespace.set(s.namespace, models);
      }
      const outcome = utilizationByModel(usage, modelsByNamespace, [
        ...new Set(segments.map((s) => s.model)),
      ]);
      const skipped =
        outcome.unattributed.pods === 0
          ? ""
          : `; ${outcome.unattributed.pods} pod(s) left out: ${outcome.unattributed.reasons.join("; ")}`;
      return {
        utilization: outcome.byModel,
        note: `DCGM through Prometheus, ${usage.length} GPU(s), every ${settings.rightSizing.stepSeconds} s${skipped}`,
      };
    } catch (error) {
      // Prometheus down or refusing: right-sizing claims nothing and the scorecard says why; the rest stands.
      if (!(error instanceof MetricsSourceError)) throw error;
      logger.warn("scorecard: GPU utilization unavailable", { error: (error as Error).message });
      return { utilization: null, note: `DCGM utilization unavailable: ${(error as Error).message}` };
    }
  }

  return async function scorecard(query = {}) {
    const days = checkScorecardQuery(query, settings);
    const now = query.asOf ?? clock.now();
    const from = new Date(now.getTime() - days * DAY_MS);
    const rows = await warehouse.sql.query("scorecard_inputs", {
      from,
      to: now,
      lookback_from: new Date(from.getTime() - TRAINING_LOOKBACK_MS),
      team: query.team ?? "",
      model: query.model ?? "",
      cache_ttl_seconds: Math.round(settings.caching.ttlHours * 3600),
    });
    const segments = rows.map(segmentFromRow);
    const first = rows[0]?.first_event;
    const window: ScorecardWindow = { from, to: now, firstEvent: first instanceof Date ? first : null };
    const { utilization, note } = await readUtilization(window, segments);
    return buildScorecardReport({
      segments,
      window,
      now,
      ctx: { pricer, catalog, settings, utilization },
      utilization: note,
    });
  };
}
