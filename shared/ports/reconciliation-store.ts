import type { ResourceName } from "#domain/billing/bill-resource.ts";
import type { Nanos } from "#domain/money.ts";
import type { FamilyEstimate } from "#domain/reconciliation/bill-grain.ts";
import type { BilledDayLine } from "#domain/reconciliation/billed-day-line.ts";
import type { CalibrationFactor } from "#domain/reconciliation/calibration.ts";
import type { DriftStatus } from "#domain/reconciliation/drift-table.ts";
import type { KeyValues, MatchKey } from "#domain/reconciliation/match-key.ts";
import type { DayReconciliation } from "#domain/reconciliation/reconcile-days.ts";
import type { BillingPeriod } from "./billing-source.ts";

export type { BilledDayLine } from "#domain/reconciliation/billed-day-line.ts";

/**
 * One day's estimate per (cloud, namespace, team, family, resource, currency), as the hourly rollup
 * has it: the resource is the cluster, node pool and node its costs ran on, where their source knew.
 */
export type DailyEstimate = FamilyEstimate & ResourceName & { currency: string };

/** A stored row of reconciliation_daily. */
export interface StoredReconciliationRow {
  day: string;
  keys: MatchKey[];
  label: string;
  key: KeyValues;
  currency: string;
  estimated: Nanos;
  reconciled: Nanos;
  billed: Nanos;
  drift: Nanos;
  status: DriftStatus;
  reconciledAt: Date;
}

/** A stored calibration factor, with the day it was learned for. */
export interface StoredCalibrationFactor extends Omit<CalibrationFactor, "days"> {
  learnedForDay: string;
  daysUsed: number;
}

/**
 * Where reconciliation keeps its inputs and results, beside the warehouse: the bill by day and
 * source, the drift per day and match key, the factors learned per day. Every write replaces what
 * it names (a source's days, a reconciled day) whole, so a re-run changes nothing twice.
 */
export interface ReconciliationStore {
  /**
   * What the hourly rollup estimated per UTC day in [start, end), each dollar once (in a
   * namespace-hour that Kubernetes allocations cover, those stand and the request estimates do
   * not add to them). Costs without a cloud (licences, provider APIs) are left out.
   */
  dailyEstimates(period: BillingPeriod): Promise<DailyEstimate[]>;
  /** Replaces the source's lines of every day in [start, end) with `lines` (each must fall in it). */
  replaceBilledLines(
    source: string,
    period: BillingPeriod,
    lines: readonly BilledDayLine[],
    importedAt: Date,
  ): Promise<void>;
  /** Every source's lines of the days in [start, end). */
  billedLines(period: BillingPeriod): Promise<BilledDayLine[]>;
  /** Replaces the day's rows and factors with these. */
  replaceDay(day: DayReconciliation, currency: string, reconciledAt: Date): Promise<void>;
  reconciliationRows(period: BillingPeriod): Promise<StoredReconciliationRow[]>;
  calibrationFactors(period: BillingPeriod): Promise<StoredCalibrationFactor[]>;
}
