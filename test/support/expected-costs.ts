import { readFileSync } from "node:fs";
import type { CostRow, Dimension } from "#domain/cost-row.ts";
import { ALLOCATION_V1, INFERENCE_V1, TRAINING_V1 } from "#domain/events/cloud-event.ts";
import { parseCostEvent } from "#domain/events/parse.ts";
import { toCostRows } from "#domain/ingest/to-cost-rows.ts";
import { splitByWeights } from "#domain/money.ts";
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
  /** Cost per group ("team|model" for by [team, model]) over the range, to the nano, through the one view. */
  totals: Map<string, bigint>;
  /** Per training job: its largest cumulative cost and the sum of the deltas the rollup charges. */
  trainingJobs: Map<string, { maxCumulative: bigint; sumOfDeltas: bigint }>;
}

const keyOf = (row: CostRow, by: readonly Dimension[]) => by.map((d) => row[d] ?? "").join("|");

/** What one row adds to its hour: its cost, or for a training row the difference to the job's previous one. */
interface Charge {
  row: CostRow;
  nanos: bigint;
}

const HOUR_MS = 3_600_000;
const isWorkload = (row: CostRow) =>
  row.basis === "estimate" && (row.event_type === INFERENCE_V1 || row.event_type === TRAINING_V1);
/** The rollup's columns besides the hour, in the order the report breaks ties on (then event type). */
const TIE_ORDER = [
  "team",
  "model",
  "model_version",
  "business_unit",
  "cost_center",
  "environment",
  "cloud",
  "event_type",
] as const;

/** Nulls last, then code-unit order: how the warehouse orders these text columns. */
function compareRows(a: CostRow, b: CostRow): number {
  for (const column of TIE_ORDER) {
    const x = a[column];
    const y = b[column];
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * The one view (docs/architecture.md, "Money and the one view"), computed from the charges: in
 * a namespace-hour with allocation rows, the allocation cost is handed to that namespace-hour's
 * workload estimates in proportion to their (non-negative) hourly cost, every nano by largest
 * remainder, and neither the allocations nor the estimates stand on their own; where no workload
 * there has a positive cost, or no allocation covers it, every row stands as it is.
 */
function oneView(charges: readonly Charge[]): Charge[] {
  const hourOf = (row: CostRow) => Math.floor(row.event_time.getTime() / HOUR_MS) * HOUR_MS;
  const cellOf = (row: CostRow) => JSON.stringify([hourOf(row), row.namespace, row.currency]);
  const infra = new Map<string, bigint>();
  for (const { row, nanos } of charges) {
    if (row.basis !== "allocation" || row.namespace === null) continue;
    infra.set(cellOf(row), (infra.get(cellOf(row)) ?? 0n) + nanos);
  }
  // Workload estimates of covered cells, summed per rollup row (same hour and columns).
  const workloads = new Map<string, Map<string, { row: CostRow; nanos: bigint }>>();
  for (const { row, nanos } of charges) {
    if (!isWorkload(row) || row.namespace === null || !infra.has(cellOf(row))) continue;
    const cell = workloads.get(cellOf(row)) ?? new Map<string, { row: CostRow; nanos: bigint }>();
    const rollupKey = JSON.stringify(TIE_ORDER.map((c) => row[c]));
    const entry = cell.get(rollupKey) ?? { row, nanos: 0n };
    entry.nanos += nanos;
    cell.set(rollupKey, entry);
    workloads.set(cellOf(row), cell);
  }
  const covered = new Set<string>();
  const out: Charge[] = [];
  for (const [cell, rows] of workloads) {
    const ordered = [...rows.values()].sort((a, b) => compareRows(a.row, b.row));
    const weights = ordered.map((r) => (r.nanos > 0n ? r.nanos : 0n));
    if (weights.every((w) => w === 0n)) continue;
    covered.add(cell);
    const parts = splitByWeights(infra.get(cell) ?? 0n, weights);
    ordered.forEach((r, i) => {
      out.push({ row: r.row, nanos: parts[i] ?? 0n });
    });
  }
  for (const charge of charges) {
    const { row } = charge;
    if (covered.has(cellOf(row)) && (isWorkload(row) || row.basis === "allocation")) continue;
    out.push(charge);
  }
  return out;
}

/**
 * The events without fixed costs shared by usage (`data.allocate: "usage"`). The oracle does not
 * restate the usage share of fixed costs; test/contract/one-view.test.ts holds that rule (with a
 * conservation property), so a test comparing a report with the oracle leaves such costs out.
 */
export function withoutUsageShared<T>(events: readonly T[]): T[] {
  return events.filter((event) => {
    const data = (event as { type?: unknown; data?: { allocate?: unknown } }).data;
    return !((event as { type?: unknown }).type === "ai.cost.fixed.v1" && data?.allocate === "usage");
  });
}

/**
 * Independent oracle for a report: prices each distinct event once with the domain (parse, then
 * toCostRows; allocation events cost exactly their components), keeps rows whose event time is in
 * `range`, charges each training event the difference to its job's previous one (and reports each
 * job's largest cumulative cost, so a test can check the two agree), then applies the one view in
 * which no dollar appears twice. Throws on an event the oracle itself would reject.
 */
export function expectedCosts(
  events: readonly unknown[],
  options: { pricer: Pricer; now: Date; range: TimeRange; by: readonly Dimension[] },
): ExpectedCosts {
  const { pricer, now, range, by } = options;
  const seen = new Set<string>();
  const charges: Charge[] = [];
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
    if (parsed.event.type === ALLOCATION_V1) {
      const components = Object.values(parsed.event.data.components).reduce((a, b) => a + b, 0n);
      const rows = costed.rows.reduce((n, row) => n + row.cost_nanos, 0n);
      if (rows !== components) throw new Error(`oracle: allocation ${parsed.event.id} rows ≠ its components`);
    }
    for (const row of costed.rows) {
      if (row.event_type === TRAINING_V1 && row.job_id !== null) {
        const job = JSON.stringify([row.event_source, row.job_id]);
        jobs.set(job, [...(jobs.get(job) ?? []), row]);
      } else if (inRange(row)) {
        charges.push({ row, nanos: row.cost_nanos });
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
      charges.push({ row, nanos: row.cost_nanos - previous });
      sumOfDeltas += row.cost_nanos - previous;
      previous = row.cost_nanos;
      if (row.cost_nanos > maxCumulative) maxCumulative = row.cost_nanos;
    }
    if (!ordered.every(inRange))
      throw new Error(`oracle: training job ${job} has events outside the report range`);
    trainingJobs.set(job, { maxCumulative, sumOfDeltas });
  }

  const totals = new Map<string, bigint>();
  for (const { row, nanos } of oneView(charges)) {
    const key = keyOf(row, by);
    totals.set(key, (totals.get(key) ?? 0n) + nanos);
  }
  return { distinctEvents: seen.size, totals, trainingJobs };
}
