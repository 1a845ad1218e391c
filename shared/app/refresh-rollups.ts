import type { Clock } from "#ports/clock.ts";
import type { Logger } from "#ports/logger.ts";
import { silentLogger } from "#ports/logger.ts";
import type { TimeRange, Warehouse } from "#ports/warehouse.ts";

export interface RefreshRollupsDeps {
  warehouse: Warehouse;
  clock: Clock;
  logger?: Logger;
}

export interface RefreshRollups {
  /**
   * Rebuilds the hourly rollup for every hour the warehouse recorded as written since the last
   * refresh, whatever their age, and returns the ranges rebuilt. Nothing here decides by a window
   * or a watermark whether a row is counted: the record is written with the rows and cleared with
   * the rebuild, so a crash, a rerun or any downtime only delays it.
   */
  refresh(): Promise<TimeRange[]>;
}

export function createRefreshRollups({
  warehouse,
  clock,
  logger = silentLogger,
}: RefreshRollupsDeps): RefreshRollups {
  return {
    async refresh() {
      const ranges = await warehouse.refreshPending(clock.now());
      if (ranges.length === 0) logger.debug("rollups up to date");
      else
        logger.info("rollups refreshed", {
          ranges: ranges.map((r) => `${r.from.toISOString()}/${r.to.toISOString()}`),
        });
      return ranges;
    },
  };
}
