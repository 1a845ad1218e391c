import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import type { CostRow } from "#domain/cost-row.ts";
import { type DemoEventOptions, generateDemoEvents } from "#domain/demo/demo-events.ts";
import { parseCostEvent } from "#domain/events/parse.ts";
import { toCostRows } from "#domain/ingest/to-cost-rows.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { shippedPricer } from "./expected-costs.ts";

const HOUR_MS = 3_600_000;

/**
 * The demo's events (or those of `events`, some of the demo's) as the ingest function stores them:
 * validated and priced with the shipped catalog.
 */
export function demoCostRows(
  options: DemoEventOptions,
  events: readonly unknown[] = generateDemoEvents(options),
): CostRow[] {
  const pricer = shippedPricer();
  const ingestedAt = new Date(options.from.getTime() + (options.hours + 1) * HOUR_MS);
  return events.flatMap((raw) => {
    const parsed = parseCostEvent(raw, ingestedAt);
    if (!parsed.ok) throw new Error(`demo event rejected: ${parsed.rejection.reason}`);
    const costed = toCostRows(parsed.event, pricer, ingestedAt);
    if (!costed.ok) throw new Error(`demo event not priced: ${costed.rejection.reason}`);
    return costed.rows;
  });
}

/** An in-memory DuckDB warehouse holding the demo's range (or `events` of it), rolled up. The caller closes it. */
export async function demoWarehouse(
  options: DemoEventOptions,
  events?: readonly unknown[],
): Promise<Warehouse> {
  const warehouse = createDuckDbWarehouse({ path: ":memory:" });
  try {
    await warehouse.init();
    await warehouse.insertEvents(demoCostRows(options, events));
    await warehouse.refreshHourly({
      from: options.from,
      to: new Date(options.from.getTime() + Math.ceil(options.hours) * HOUR_MS),
    });
    return warehouse;
  } catch (error) {
    await warehouse.close();
    throw error;
  }
}
