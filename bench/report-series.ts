import type { GroupKey } from "#domain/cost-row.ts";
import { demoWarehouse } from "../test/support/demo-warehouse.ts";

const HOUR_MS = 3_600_000;

export interface ReportSeriesResult {
  hours: number;
  /** One report per hour, as the budget forecast and anomaly baselines read them before `hour` was a key. */
  perHourSeconds: number;
  /** One report grouped by hour over the same range. */
  groupedSeconds: number;
  /** Both ways gave the same cost per hour and group, to the nano. */
  same: boolean;
}

/**
 * A week of spend per team, by hour: 168 one-hour reports against one report grouped by hour, on
 * the demo org's week in an in-memory DuckDB, in the same run. Also checks the two agree.
 */
export async function measureReportSeries(hours = 168): Promise<ReportSeriesResult> {
  const to = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  const from = to - hours * HOUR_MS;
  const warehouse = await demoWarehouse({ from: new Date(from), hours, seed: 7, requestsPerHour: 500 });
  try {
    const by: GroupKey[] = ["team"];
    const t0 = performance.now();
    const perHour = new Map<string, bigint>();
    for (let hour = from; hour < to; hour += HOUR_MS) {
      const rows = await warehouse.report({
        by,
        from: new Date(hour),
        to: new Date(hour + HOUR_MS),
        reads: "rollup",
      });
      for (const row of rows)
        perHour.set(`${new Date(hour).toISOString()}|${row.group.team}`, row.cost_nanos);
    }
    const t1 = performance.now();
    const grouped = await warehouse.report({
      by: [...by, "hour"],
      from: new Date(from),
      to: new Date(to),
      reads: "rollup",
    });
    const t2 = performance.now();
    const same =
      grouped.length === perHour.size &&
      grouped.every(
        (row) =>
          perHour.get(`${new Date(row.group.hour ?? "").toISOString()}|${row.group.team}`) === row.cost_nanos,
      );
    return { hours, perHourSeconds: (t1 - t0) / 1000, groupedSeconds: (t2 - t1) / 1000, same };
  } finally {
    await warehouse.close();
  }
}
