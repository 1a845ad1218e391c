import { MAX_FUTURE_MS } from "#domain/events/parse.ts";
import type { Clock } from "#ports/clock.ts";
import type { Logger } from "#ports/logger.ts";
import { silentLogger } from "#ports/logger.ts";
import type { TimeRange, Warehouse } from "#ports/warehouse.ts";

export interface RefreshRollupsDeps {
  warehouse: Warehouse;
  clock: Clock;
  /** How far back in event time late rows are looked for (training jobs report days after the fact). */
  lookbackDays?: number;
  logger?: Logger;
}

export interface RefreshRollups {
  /**
   * Rebuilds the hourly rollup for every hour that rows ingested at or after `since` touch, and
   * returns the new watermark to pass as `since` next time: this run's start less INGEST_MARGIN_MS.
   * A row's `ingested_at` is stamped when its batch starts, and the batch may still be writing when
   * a refresh starts, so the watermark stays behind by more than any write takes; refreshing an hour
   * twice is harmless, missing one is not.
   */
  refresh(since: Date): Promise<Date>;
}

const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** Longer than any ingest batch can take to write (the ingest function's timeout is 60 s). */
export const INGEST_MARGIN_MS = 5 * 60 * 1000;

const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;

export function createRefreshRollups({
  warehouse,
  clock,
  lookbackDays = 35,
  logger = silentLogger,
}: RefreshRollupsDeps): RefreshRollups {
  if (!Number.isFinite(lookbackDays) || lookbackDays <= 0) {
    throw new RangeError(`lookbackDays must be a positive number, got ${lookbackDays}`);
  }
  return {
    async refresh(since) {
      const now = clock.now().getTime();
      const watermark = new Date(now - INGEST_MARGIN_MS);
      // Event times go back `lookbackDays` and ahead by the clock skew parseCostEvent allows.
      const lookback: TimeRange = {
        from: new Date(floorHour(now - lookbackDays * DAY_MS)),
        to: new Date(floorHour(now + MAX_FUTURE_MS) + HOUR_MS),
      };
      const touched = await warehouse.hoursIngestedSince(since, lookback);
      if (!touched) {
        logger.debug("rollups up to date", { since: since.toISOString() });
        return watermark;
      }
      // A training row is charged the difference to its job's previous event, so a late row also
      // changes the charge of that job's later rows: refresh from the earliest touched hour onwards.
      const range: TimeRange = {
        from: new Date(Math.max(touched.from.getTime(), lookback.from.getTime())),
        to: new Date(Math.max(touched.to.getTime(), floorHour(now) + HOUR_MS)),
      };
      await warehouse.refreshHourly(range);
      logger.info("rollups refreshed", {
        since: since.toISOString(),
        from: range.from.toISOString(),
        to: range.to.toISOString(),
      });
      return watermark;
    },
  };
}
