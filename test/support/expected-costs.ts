import { readFileSync } from "node:fs";
import type { CostRow, Dimension } from "#domain/cost-row.ts";
import { TRAINING_V1 } from "#domain/events/cloud-event.ts";
import { parseCostEvent } from "#domain/events/parse.ts";
import { toCostRows } from "#domain/ingest/to-cost-rows.ts";
import { parsePriceCatalog } from "#domain/pricing/catalog.ts";
import { createPricer, type Pricer } from "#domain/pricing/pricer.ts";
import type { TimeRange } from "#ports/warehouse.ts";

/** The price catalog the product ships (config/price-catalog.json), the one a default runtime loads. */
export function shippedPricer(): Pricer {
  const url = new URL("../../config/price-catalog.json", import.meta.url);
  return createPricer(parsePriceCatalog(JSON.parse(readFileSync(url, "utf8")), url.pathname));
}

export interface ExpectedCosts {
  /** Distinct events by (source, id). */
  distinctEvents: number;
  /** Cost per group ("team|model" for by [team, model]) over the range, to the nano. */
  totals: Map<string, bigint>;
  /** Per training job: its largest cumulative cost and the sum of the deltas the rollup charges. */
  trainingJobs: Map<string, { maxCumulative: bigint; sumOfDeltas: bigint }>;
}

const keyOf = (row: CostRow, by: readonly Dimension[]) => by.map((d) => row[d] ?? "").join("|");

/**
 * Independent oracle for a report: prices each distinct event once with the domain (parse, then
 * toCostRows), keeps rows whose event time is in `range`, and charges a training job its largest
 * cumulative cost. It also computes each job's telescoped deltas (what the rollup charges) so a test
 * can check the two agree. Throws on an event the oracle itself would reject.
 */
export function expectedCosts(
  events: readonly unknown[],
  options: { pricer: Pricer; now: Date; range: TimeRange; by: readonly Dimension[] },
): ExpectedCosts {
  const { pricer, now, range, by } = options;
  const seen = new Set<string>();
  const totals = new Map<string, bigint>();
  const add = (key: string, nanos: bigint) => totals.set(key, (totals.get(key) ?? 0n) + nanos);
  const jobs = new Map<string, CostRow[]>();
  const inRange = (row: CostRow) =>
    row.event_time.getTime() >= range.from.getTime() && row.event_time.getTime() < range.to.getTime();

  for (const raw of events) {
    const parsed = parseCostEvent(raw, now);
    if (!parsed.ok) throw new Error(`oracle: event rejected: ${parsed.rejection.reason}`);
    const key = JSON.stringify([parsed.event.source, parsed.event.id]);
    if (seen.has(key)) continue;
    seen.add(key);
    const costed = toCostRows(parsed.event, pricer, now);
    if (!costed.ok) throw new Error(`oracle: event not priced: ${costed.rejection.reason}`);
    for (const row of costed.rows) {
      if (row.event_type === TRAINING_V1 && row.job_id !== null) {
        const job = JSON.stringify([row.event_source, row.job_id]);
        jobs.set(job, [...(jobs.get(job) ?? []), row]);
      } else if (inRange(row)) {
        add(keyOf(row, by), row.cost_nanos);
      }
    }
  }

  const trainingJobs: ExpectedCosts["trainingJobs"] = new Map();
  for (const [job, rows] of jobs) {
    const ordered = [...rows].sort(
      (a, b) =>
        (a.elapsed_seconds ?? 0) - (b.elapsed_seconds ?? 0) ||
        a.event_time.getTime() - b.event_time.getTime() ||
        (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0),
    );
    let previous = 0n;
    let sumOfDeltas = 0n;
    let maxCumulative = 0n;
    for (const row of ordered) {
      sumOfDeltas += row.cost_nanos - previous;
      previous = row.cost_nanos;
      if (row.cost_nanos > maxCumulative) maxCumulative = row.cost_nanos;
    }
    const first = ordered[0] as CostRow;
    if (!ordered.every(inRange))
      throw new Error(`oracle: training job ${job} has events outside the report range`);
    add(keyOf(first, by), maxCumulative);
    trainingJobs.set(job, { maxCumulative, sumOfDeltas });
  }
  return { distinctEvents: seen.size, totals, trainingJobs };
}
