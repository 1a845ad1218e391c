import { type Alert, alertToJson } from "#domain/alerts/alert.ts";
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

export interface DetectAnomaliesDeps {
  warehouse: Warehouse;
  bus: Bus;
  claims: AlertClaims;
  clock: Clock;
  /** Overrides of the defaults (anomalySettings). */
  settings?: Partial<AnomalySettings>;
  logger?: Logger;
  alertsTopic?: string;
  /** Hourly reports in flight at once. Default 4. */
  reportConcurrency?: number;
  /** Silence after which a job without an end event is abandoned, not running. Default 30 min. */
  silenceSeconds?: number;
}

export interface PublishedAnomalyAlert {
  key: string;
  kind: Alert["kind"];
  severity: Alert["severity"];
}

export interface DetectAnomaliesResult {
  evaluatedAt: Date;
  /** The whole hour judged: the last one that ended before the run. */
  hour: Date;
  /** warehouse.report calls made. */
  reports: number;
  scopes: number;
  /** Alerts claimed and published by this run. */
  published: PublishedAnomalyAlert[];
  /** Alerts whose key an earlier run had claimed (the incident or runaway is ongoing). */
  alreadySent: number;
  /** Incidents that cover the whole grouping window, alerted by an earlier run. */
  ongoing: number;
}

export interface DetectAnomalies {
  /**
   * Judges the last whole hour's spend of every scope against its hour-of-week baseline and every
   * running training job against its peers; claims each incident's / job's key and publishes the
   * alerts whose claim it won: one alert per incident and per runaway job, across re-runs.
   */
  detect(): Promise<DetectAnomaliesResult>;
}

export class DetectAnomaliesError extends Error {
  override readonly name = "DetectAnomaliesError";
  readonly code: "publish_failed" | "invalid_option";
  constructor(code: "publish_failed" | "invalid_option", message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>) {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      out[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export function createDetectAnomalies({
  warehouse,
  bus,
  claims,
  clock,
  settings: overrides = {},
  logger = silentLogger,
  alertsTopic = TOPICS.alerts,
  reportConcurrency = 4,
  silenceSeconds = DEFAULT_SILENCE_SECONDS,
}: DetectAnomaliesDeps): DetectAnomalies {
  const s = anomalySettings(overrides);
  if (!Number.isInteger(reportConcurrency) || reportConcurrency < 1) {
    throw new DetectAnomaliesError("invalid_option", "reportConcurrency must be a whole number, 1 or more");
  }

  /**
   * One report per hour read (all scope dimensions at once, summed per dimension here): the
   * grouping window's hours and, for each, its week slots and the same hour of the six days before.
   * Each report group (a combination of scope values) is a series too: it tells which scopes' incidents
   * are one incident.
   */
  async function readSeries(
    hour: number,
  ): Promise<{ series: ScopeSeries[]; combinations: CombinationSeries[]; reports: number }> {
    const hours = hoursToRead(hour, s);
    const reports = await mapLimited(hours, reportConcurrency, (h) =>
      warehouse.report({ by: s.dimensions, from: new Date(h), to: new Date(h + HOUR_MS) }),
    );
    const byScope = new Map<string, { scope: AnomalyScope; spend: Map<number, Nanos> }>();
    const byCombination = new Map<
      string,
      { values: ScopeValues; currency: string; spend: Map<number, Nanos> }
    >();
    hours.forEach((h, index) => {
      for (const row of reports[index] ?? []) {
        const values: Partial<Record<AnomalyDimension, string>> = {};
        for (const dimension of s.dimensions) {
          const value = row.group[dimension];
          if (value !== null && value !== undefined && value !== "") values[dimension] = value;
        }
        const combinationKey = JSON.stringify([values, row.currency]);
        let combination = byCombination.get(combinationKey);
        if (!combination) {
          combination = { values, currency: row.currency, spend: new Map() };
          byCombination.set(combinationKey, combination);
        }
        combination.spend.set(h, (combination.spend.get(h) ?? 0n) + row.cost_nanos);
        for (const dimension of s.dimensions) {
          const value = row.group[dimension];
          if (value === null || value === undefined || value === "") continue;
          const key = JSON.stringify([dimension, value, row.currency]);
          let entry = byScope.get(key);
          if (!entry) {
            entry = { scope: { dimension, value, currency: row.currency }, spend: new Map() };
            byScope.set(key, entry);
          }
          entry.spend.set(h, (entry.spend.get(h) ?? 0n) + row.cost_nanos);
        }
      }
    });
    for (const entry of [...byScope.values(), ...byCombination.values()])
      for (const h of hours) if (!entry.spend.has(h)) entry.spend.set(h, 0n);
    return {
      series: [...byScope.values()],
      combinations: [...byCombination.values()],
      reports: hours.length,
    };
  }

  return {
    async detect() {
      const now = clock.now();
      const hour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - HOUR_MS;
      const { series, combinations, reports } = await readSeries(hour);
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
        reports,
        scopes: series.length,
        published: [],
        alreadySent: 0,
        ongoing: spend.ongoing.length,
      };
      const fresh: Alert[] = [];
      for (const alert of alerts) {
        if (await claims.claim(alert.idempotency_key)) fresh.push(alert);
        else result.alreadySent += 1;
      }
      if (fresh.length === 0) return result;
      try {
        await bus.publish(
          alertsTopic,
          fresh.map((alert) => ({
            data: Buffer.from(alertToJson(alert)),
            attributes: {
              kind: alert.kind,
              severity: alert.severity,
              idempotency_key: alert.idempotency_key,
            },
          })),
        );
      } catch (error) {
        // The keys are claimed: later runs will not send these again. Log them whole for a replay.
        logger.error("anomaly alerts claimed but not published", {
          topic: alertsTopic,
          alerts: fresh.map(alertToJson),
          error: (error as Error).message,
        });
        throw new DetectAnomaliesError(
          "publish_failed",
          `${fresh.length} anomaly alert(s) claimed but not published; see the error log`,
          { cause: error },
        );
      }
      for (const alert of fresh) {
        result.published.push({ key: alert.idempotency_key, kind: alert.kind, severity: alert.severity });
        logger.info("anomaly alert published", { key: alert.idempotency_key, severity: alert.severity });
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
    reports: result.reports,
    scopes: result.scopes,
    published: result.published,
    already_sent: result.alreadySent,
    ongoing: result.ongoing,
  };
}
