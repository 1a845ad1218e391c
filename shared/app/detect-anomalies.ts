import {
  type AnomalyDimension,
  type AnomalySettings,
  anomalySettings,
} from "#domain/anomalies/anomaly-settings.ts";
import {
  type CombinationSeries,
  groupAlert,
  groupIncidents,
  type ScopeValues,
} from "#domain/anomalies/incident-groups.ts";
import {
  type AnomalyScope,
  detectSpendAnomalies,
  HOUR_MS,
  hoursToRead,
  measuredSeries,
  type ScopeSeries,
} from "#domain/anomalies/spend-anomalies.ts";
import { detectRunaways, runawayAlert } from "#domain/anomalies/training-runaway.ts";
import type { Nanos } from "#domain/money.ts";
import { DEFAULT_SILENCE_SECONDS } from "#domain/training/job-summary.ts";
import type { AlertClaims } from "#ports/alert-claims.ts";
import { type Bus, TOPICS } from "#ports/bus.ts";
import type { Clock } from "#ports/clock.ts";
import { type Logger, silentLogger } from "#ports/logger.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { AlertPublishError, claimAndPublish, type PublishedAlert } from "./publish-alerts.ts";

export interface DetectAnomaliesDeps {
  warehouse: Warehouse;
  bus: Bus;
  claims: AlertClaims;
  clock: Clock;
  /** Overrides of the defaults (anomalySettings). */
  settings?: Partial<AnomalySettings>;
  logger?: Logger;
  alertsTopic?: string;
  /** Silence after which a job without an end event is abandoned, not running. Default 30 min. */
  silenceSeconds?: number;
}

export interface DetectAnomaliesResult {
  evaluatedAt: Date;
  /** The whole hour judged: the last one that ended before the run. */
  hour: Date;
  /** Hours of spend read: the grouping window and the weeks its baselines look back. */
  hoursRead: number;
  scopes: number;
  /** Alerts claimed and published by this run. */
  published: PublishedAlert[];
  /** Alerts whose key an earlier run had claimed (the incident or runaway is ongoing). */
  alreadySent: number;
  /** Incidents that cover the whole grouping window, alerted by an earlier run. */
  ongoing: number;
}

export interface DetectAnomalies {
  /**
   * Judges the last whole hour's spend of every scope against its baseline (baselineAt) and every
   * running training job against its peers; claims each incident's / job's key and publishes the
   * alerts whose claim it won: one alert per incident and per runaway job, across re-runs.
   */
  detect(): Promise<DetectAnomaliesResult>;
}

export class DetectAnomaliesError extends Error {
  override readonly name = "DetectAnomaliesError";
  readonly code: "publish_failed" | "invalid_report";
  constructor(code: "publish_failed" | "invalid_report", message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

export function createDetectAnomalies({
  warehouse,
  bus,
  claims,
  clock,
  settings: overrides = {},
  logger = silentLogger,
  alertsTopic = TOPICS.alerts,
  silenceSeconds = DEFAULT_SILENCE_SECONDS,
}: DetectAnomaliesDeps): DetectAnomalies {
  const s = anomalySettings(overrides);

  /**
   * One report grouped by hour over every hour the baselines read (all scope dimensions at once,
   * summed per dimension here). Each report group (a combination of scope values) is a series too: it
   * tells which scopes' incidents are one incident. A series' samples start at its first hour with
   * data, and it is new if the warehouse had data before (measuredSeries).
   */
  async function readSeries(
    hour: number,
  ): Promise<{ series: ScopeSeries[]; combinations: CombinationSeries[]; hoursRead: number }> {
    const read = hoursToRead(hour, s);
    const rows = await warehouse.report({
      by: [...s.dimensions, "hour"],
      from: new Date(read.from),
      to: new Date(read.to),
      // Whole hours as the refresh settled them: a spike is judged once its hour is.
      reads: "rollup",
    });
    const byScope = new Map<string, { scope: AnomalyScope; spent: Map<number, Nanos> }>();
    const byCombination = new Map<
      string,
      { values: ScopeValues; currency: string; spent: Map<number, Nanos> }
    >();
    const add = (spent: Map<number, Nanos>, h: number, nanos: Nanos) =>
      spent.set(h, (spent.get(h) ?? 0n) + nanos);
    let dataFrom = Number.POSITIVE_INFINITY;
    for (const row of rows) {
      const h = Date.parse(row.group.hour ?? "");
      if (Number.isNaN(h)) {
        throw new DetectAnomaliesError(
          "invalid_report",
          `report row without an hour: ${JSON.stringify(row.group)}`,
        );
      }
      if (h < dataFrom) dataFrom = h;
      const values: Partial<Record<AnomalyDimension, string>> = {};
      for (const dimension of s.dimensions) {
        const value = row.group[dimension];
        if (value === null || value === undefined || value === "") continue;
        values[dimension] = value;
        const key = JSON.stringify([dimension, value, row.currency]);
        let entry = byScope.get(key);
        if (!entry) {
          entry = { scope: { dimension, value, currency: row.currency }, spent: new Map() };
          byScope.set(key, entry);
        }
        add(entry.spent, h, row.cost_nanos);
      }
      const combinationKey = JSON.stringify([values, row.currency]);
      let combination = byCombination.get(combinationKey);
      if (!combination) {
        combination = { values, currency: row.currency, spent: new Map() };
        byCombination.set(combinationKey, combination);
      }
      add(combination.spent, h, row.cost_nanos);
    }
    return {
      series: [...byScope.values()].map(({ scope, spent }) => ({
        scope,
        ...measuredSeries(spent, hour, dataFrom),
      })),
      combinations: [...byCombination.values()].map(({ values, currency, spent }) => ({
        values,
        currency,
        ...measuredSeries(spent, hour, dataFrom),
      })),
      hoursRead: (read.to - read.from) / HOUR_MS,
    };
  }

  return {
    async detect() {
      const now = clock.now();
      const hour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - HOUR_MS;
      const { series, combinations, hoursRead } = await readSeries(hour);
      const spend = detectSpendAnomalies(series, hour, s);
      const incidents = groupIncidents(spend.fresh, combinations, hour, s);
      const jobs = await warehouse.trainingJobs({
        from: new Date(now.getTime() - s.jobLookbackHours * HOUR_MS),
        to: now,
        now,
        silenceSeconds,
      });
      const alerts = [
        ...incidents.map((group) => groupAlert(group, s, now)),
        ...detectRunaways(jobs, s).map((runaway) => runawayAlert(runaway, s, now)),
      ];
      const result: DetectAnomaliesResult = {
        evaluatedAt: now,
        hour: new Date(hour),
        hoursRead,
        scopes: series.length,
        published: [],
        alreadySent: 0,
        ongoing: spend.ongoing.length,
      };
      try {
        const sent = await claimAndPublish(alerts, { claims, bus, topic: alertsTopic, logger });
        result.alreadySent = sent.alreadySent;
        result.published = sent.published;
      } catch (error) {
        if (!(error instanceof AlertPublishError)) throw error;
        throw new DetectAnomaliesError("publish_failed", error.message, { cause: error });
      }
      for (const alert of result.published) {
        logger.info("anomaly alert published", { key: alert.key, severity: alert.severity });
      }
      return result;
    },
  };
}

/** The scheduled function's answer body. */
export function detectAnomaliesResultToJson(result: DetectAnomaliesResult) {
  return {
    evaluated_at: result.evaluatedAt.toISOString(),
    hour: result.hour.toISOString(),
    hours_read: result.hoursRead,
    scopes: result.scopes,
    published: result.published,
    already_sent: result.alreadySent,
    ongoing: result.ongoing,
  };
}
