import type { CostRow, Dimension, GroupKey, RejectedRow } from "#domain/cost-row.ts";
import type { Nanos } from "#domain/money.ts";
import { trainingJobRows } from "#domain/training/job-summary.ts";
import type {
  ConflictRow,
  InsertResult,
  ReportQuery,
  ReportRow,
  TimeRange,
  TrainingJobsQuery,
  Warehouse,
} from "#ports/warehouse.ts";

const HOUR_MS = 3600 * 1000;
const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;

interface HourlyRow {
  hour: number;
  dims: Record<Dimension, string | null>;
  currency: string;
  cost_nanos: Nanos;
  rows: number;
}

export interface MemoryWarehouse extends Warehouse {
  /** Stored raw rows, in insertion order (copies). */
  events(): CostRow[];
  rejected(): RejectedRow[];
  conflicts(): ConflictRow[];
  /** Number of insertEvents calls so far. */
  insertCalls(): number;
}

function dimsOf(row: CostRow): Record<Dimension, string | null> {
  return {
    team: row.team,
    model: row.model,
    model_version: row.model_version,
    business_unit: row.business_unit,
    cost_center: row.cost_center,
    namespace: row.namespace,
    environment: row.environment,
    cloud: row.cloud,
  };
}

/**
 * A Warehouse in memory for unit tests: dedupes on (event_source, event_id, part) across and within
 * batches, sums in bigint, and rebuilds the hourly rollup the way the SQL twins do (a training row
 * is charged its cumulative cost minus that of the job's previous event, by elapsed time).
 */
export function createMemoryWarehouse(): MemoryWarehouse {
  const raw = new Map<string, CostRow>();
  /** The payload hash each stored event was first stored with, by (source, id). */
  const hashes = new Map<string, string | null>();
  const pendingHours = new Set<number>();
  const rejectedRows: RejectedRow[] = [];
  const conflictRows: ConflictRow[] = [];
  let hourly: HourlyRow[] = [];
  let calls = 0;

  const keyOf = (r: CostRow) => JSON.stringify([r.event_source, r.event_id, r.part]);

  /** What each row adds to its hour: training rows by difference to their job's previous event. */
  function charges(): Map<CostRow, Nanos> {
    const out = new Map<CostRow, Nanos>();
    const jobs = new Map<string, CostRow[]>();
    for (const row of raw.values()) {
      if (row.event_type === "ai.cost.training.v1" && row.job_id !== null) {
        const list = jobs.get(row.job_id) ?? [];
        list.push(row);
        jobs.set(row.job_id, list);
      } else {
        out.set(row, row.cost_nanos);
      }
    }
    for (const list of jobs.values()) {
      list.sort(
        (a, b) =>
          (a.elapsed_seconds ?? 0) - (b.elapsed_seconds ?? 0) ||
          a.event_time.getTime() - b.event_time.getTime() ||
          a.event_id.localeCompare(b.event_id),
      );
      let previous = 0n;
      for (const row of list) {
        out.set(row, row.cost_nanos - previous);
        previous = row.cost_nanos;
      }
    }
    return out;
  }

  return {
    sql: {
      dialect: "duckdb",
      async query(name) {
        throw new Error(`the memory warehouse runs no SQL (${name}); test stores on an in-memory DuckDB`);
      },
    },
    async init() {},
    async insertEvents(rows: readonly CostRow[]): Promise<InsertResult> {
      calls += 1;
      let inserted = 0;
      const duplicateRows = new Set<number>();
      const conflicts = new Map<number, string | null>();
      rows.forEach((row, index) => {
        const event = JSON.stringify([row.event_source, row.event_id]);
        const stored = hashes.get(event);
        if (
          stored !== undefined &&
          stored !== null &&
          row.payload_hash !== undefined &&
          stored !== row.payload_hash
        ) {
          conflicts.set(index, stored);
          return;
        }
        const key = keyOf(row);
        if (raw.has(key)) {
          duplicateRows.add(index);
          return;
        }
        if (stored === undefined) hashes.set(event, row.payload_hash ?? null);
        raw.set(key, structuredClone(row));
        pendingHours.add(floorHour(row.event_time.getTime()));
        inserted += 1;
      });
      return { inserted, duplicates: duplicateRows.size, duplicateRows, conflictRows: conflicts };
    },
    async insertRejected(rows: readonly RejectedRow[]) {
      const known = new Set(rejectedRows.map((r) => r.rejection_key));
      rejectedRows.push(
        ...rows
          .filter((r) => r.rejection_key === undefined || !known.has(r.rejection_key))
          .map((r) => structuredClone(r)),
      );
    },
    async knownRejections(keys: readonly string[]) {
      const known = new Set(rejectedRows.map((r) => r.rejection_key));
      return new Set(keys.filter((key) => known.has(key)));
    },
    async insertConflicts(rows: readonly ConflictRow[]) {
      conflictRows.push(...rows.map((r) => structuredClone(r)));
    },
    async checkWritable() {},
    async refreshHourly(range: TimeRange) {
      const from = floorHour(range.from.getTime());
      const to = range.to.getTime();
      const groups = new Map<string, HourlyRow>();
      for (const [row, charge] of charges()) {
        const hour = floorHour(row.event_time.getTime());
        if (hour < from || hour >= to) continue;
        const dims = dimsOf(row);
        const key = JSON.stringify([hour, dims, row.currency]);
        const group = groups.get(key) ?? { hour, dims, currency: row.currency, cost_nanos: 0n, rows: 0 };
        group.cost_nanos += charge;
        group.rows += 1;
        groups.set(key, group);
      }
      hourly = [...hourly.filter((h) => h.hour < from || h.hour >= to), ...groups.values()];
    },
    async refreshPending() {
      if (pendingHours.size === 0) return [];
      // Every training row changes its job's later charges: rebuild from the first pending hour on.
      const from = Math.min(...pendingHours);
      const to = Math.max(...[...raw.values()].map((r) => floorHour(r.event_time.getTime()))) + HOUR_MS;
      pendingHours.clear();
      const range = { from: new Date(from), to: new Date(to) };
      await this.refreshHourly(range);
      return [range];
    },
    async report(query: ReportQuery): Promise<ReportRow[]> {
      const groups = new Map<string, ReportRow>();
      for (const h of hourly) {
        if (h.hour < query.from.getTime() || h.hour >= query.to.getTime()) continue;
        const value = (key: GroupKey) =>
          key === "day"
            ? new Date(h.hour).toISOString().slice(0, 10)
            : key === "hour"
              ? `${new Date(h.hour).toISOString().slice(0, 13)}:00:00Z`
              : h.dims[key];
        const group = Object.fromEntries(query.by.map((d) => [d, value(d)])) as ReportRow["group"];
        const key = JSON.stringify([query.by.map(value), h.currency]);
        const row = groups.get(key) ?? { group, currency: h.currency, cost_nanos: 0n, rows: 0 };
        row.cost_nanos += h.cost_nanos;
        row.rows += h.rows;
        groups.set(key, row);
      }
      return [...groups.values()];
    },
    async trainingJobs(query: TrainingJobsQuery) {
      const inRange = [...raw.values()].filter((r) => r.event_time >= query.from && r.event_time < query.to);
      const asOf = new Date(Math.min(query.now.getTime(), query.to.getTime()));
      return trainingJobRows(inRange, { now: asOf, silenceSeconds: query.silenceSeconds });
    },
    async close() {},
    events: () => [...raw.values()].map((r) => structuredClone(r)),
    rejected: () => rejectedRows.map((r) => structuredClone(r)),
    conflicts: () => conflictRows.map((r) => structuredClone(r)),
    insertCalls: () => calls,
  };
}
