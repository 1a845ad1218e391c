import {
  addDays,
  CHARGE_CATEGORIES,
  CHARGE_FREQUENCIES,
  type ChargeCategory,
  type ChargeFrequency,
} from "#domain/billing/billed-line.ts";
import { decimalToNanos, type Nanos, nanosToDecimal } from "#domain/money.ts";
import type { DriftStatus } from "#domain/reconciliation/drift-table.ts";
import { MATCH_KEYS, type MatchKey } from "#domain/reconciliation/match-key.ts";
import type { BillingPeriod } from "#ports/billing-source.ts";
import type {
  BilledDayLine,
  DailyEstimate,
  ReconciliationStore,
  StoredCalibrationFactor,
  StoredReconciliationRow,
} from "#ports/reconciliation-store.ts";
import type { SqlRow, SqlRunner, SqlValue } from "#ports/sql-runner.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";

export interface WarehouseReconciliationStoreOptions {
  /** The warehouse's SqlRunner (DuckDB or BigQuery): sql/<dialect>/reconciliation.sql. */
  sql: SqlRunner;
  /**
   * Rows per write statement (one JSON parameter). A day bigger than this is written in several
   * statements: the first replaces, the others add, so a failure in between leaves the day partly
   * written until the next run replaces it again. Default 1,000.
   */
  batchSize?: number;
}

const FILE = "reconciliation";
const STATUSES: readonly DriftStatus[] = ["matched", "unattributed", "over-estimated"];

function text(row: SqlRow, column: string, where: string): string {
  const value = row[column];
  if (typeof value !== "string") throw new WarehouseError(`${where}: ${column} is not text`, "invalid");
  return value;
}

function optional(row: SqlRow, column: string, where: string): string | null {
  return row[column] === null ? null : text(row, column, where);
}

function money(row: SqlRow, column: string, where: string): Nanos {
  return decimalToNanos(text(row, column, where));
}

function time(value: SqlValue, where: string): Date {
  if (!(value instanceof Date)) throw new WarehouseError(`${where} is not a timestamp`, "invalid");
  return value;
}

/** Lines stored before charges were kept are usage of their own day. */
function chargeOf(
  row: SqlRow,
  day: string,
  where: string,
): Pick<
  BilledDayLine,
  "chargeCategory" | "chargeClass" | "chargeFrequency" | "chargeStartDay" | "chargeEndDay"
> {
  const category = optional(row, "charge_category", where) ?? "Usage";
  if (!(CHARGE_CATEGORIES as readonly string[]).includes(category))
    throw new WarehouseError(`${where}: charge_category ${JSON.stringify(category)}`, "invalid");
  const frequency = optional(row, "charge_frequency", where);
  if (frequency !== null && !(CHARGE_FREQUENCIES as readonly string[]).includes(frequency))
    throw new WarehouseError(`${where}: charge_frequency ${JSON.stringify(frequency)}`, "invalid");
  return {
    chargeCategory: category as ChargeCategory,
    chargeClass: optional(row, "charge_class", where) === "Correction" ? "Correction" : null,
    chargeFrequency: frequency as ChargeFrequency | null,
    chargeStartDay: optional(row, "charge_start_day", where) ?? day,
    chargeEndDay: optional(row, "charge_end_day", where) ?? addDays(day, 1),
  };
}

function tagsOf(json: string | null, where: string): Record<string, string> {
  if (json === null) return {};
  const value: unknown = JSON.parse(json);
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new WarehouseError(`${where}: tags is not a JSON object`, "invalid");
  return value as Record<string, string>;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out.length === 0 ? [[]] : out;
}

function matchKeys(value: string, where: string): MatchKey[] {
  const keys = value.split(",");
  for (const key of keys) {
    if (!(MATCH_KEYS as readonly string[]).includes(key))
      throw new WarehouseError(`${where}: unknown match key ${JSON.stringify(key)}`, "invalid");
  }
  return keys as MatchKey[];
}

/**
 * The reconciliation store written once against the warehouse's SqlRunner: the same named queries
 * run on DuckDB locally and on BigQuery in the cloud (sql/<dialect>/reconciliation.sql).
 */
export function createWarehouseReconciliationStore(
  options: WarehouseReconciliationStoreOptions,
): ReconciliationStore {
  const { sql } = options;
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError("batchSize must be a whole number ≥ 1");
  const days = (period: BillingPeriod) => ({ from_day: period.start, to_day: period.end });

  return {
    async dailyEstimates(period) {
      const rows = await sql.query(`${FILE}#estimates_daily`, {
        from: new Date(`${period.start}T00:00:00Z`),
        to: new Date(`${period.end}T00:00:00Z`),
      });
      return rows.map((row): DailyEstimate => {
        const where = `estimates_daily ${JSON.stringify(row.day)}`;
        return {
          day: text(row, "day", where),
          cloud: text(row, "cloud", where),
          namespace: optional(row, "namespace", where),
          team: optional(row, "team", where),
          family: optional(row, "family", where),
          cluster: optional(row, "cluster", where),
          nodePool: optional(row, "node_pool", where),
          node: optional(row, "node", where),
          currency: text(row, "currency", where),
          nanos: money(row, "cost", where),
        };
      });
    },

    async replaceBilledLines(source, period, lines, importedAt) {
      for (const line of lines) {
        if (line.day < period.start || line.day >= period.end) {
          throw new WarehouseError(
            `a line of ${line.day} is outside the days replaced [${period.start}, ${period.end})`,
            "invalid",
          );
        }
      }
      const batches = chunks(lines, batchSize);
      for (const [index, batch] of batches.entries()) {
        await sql.query(`${FILE}#store_billed`, {
          replace: index === 0,
          source,
          ...days(period),
          imported_at: importedAt,
          lines: JSON.stringify(
            batch.map((l) => ({
              day: l.day,
              provider: l.provider,
              billing_account_id: l.billingAccountId,
              sub_account_id: l.subAccountId,
              service: l.service,
              sku_id: l.skuId,
              namespace: l.namespace,
              team: l.team,
              model: l.model,
              resource_id: l.resourceId,
              charge_category: l.chargeCategory,
              charge_class: l.chargeClass,
              charge_frequency: l.chargeFrequency,
              charge_start_day: l.chargeStartDay,
              charge_end_day: l.chargeEndDay,
              cost_center: l.costCenter,
              environment: l.environment,
              tags: Object.keys(l.tags).length === 0 ? null : JSON.stringify(l.tags),
              billed_cost: nanosToDecimal(l.billedCost),
              effective_cost: nanosToDecimal(l.effectiveCost),
              currency: l.currency,
            })),
          ),
        });
      }
    },

    async billedLines(period) {
      const rows = await sql.query(`${FILE}#read_billed`, days(period));
      return rows.map((row): BilledDayLine => {
        const where = `billed_costs ${JSON.stringify([row.day, row.source, row.service])}`;
        const day = text(row, "day", where);
        return {
          day,
          source: text(row, "source", where),
          provider: text(row, "provider", where),
          billingAccountId: text(row, "billing_account_id", where),
          subAccountId: optional(row, "sub_account_id", where),
          service: text(row, "service", where),
          skuId: optional(row, "sku_id", where),
          namespace: optional(row, "namespace", where),
          team: optional(row, "team", where),
          model: optional(row, "model", where),
          resourceId: optional(row, "resource_id", where),
          ...chargeOf(row, day, where),
          costCenter: optional(row, "cost_center", where),
          environment: optional(row, "environment", where),
          tags: tagsOf(optional(row, "tags", where), where),
          billedCost: money(row, "billed_cost", where),
          effectiveCost: money(row, "effective_cost", where),
          currency: text(row, "currency", where),
        };
      });
    },

    async replaceDay(day, currency, reconciledAt) {
      const rows = day.rows.map((r) => ({
        match_keys: day.keys.join(","),
        match_label: r.label,
        cloud: r.key.cloud ?? null,
        account: r.key.account ?? null,
        service: r.key.service ?? null,
        namespace: r.key.namespace ?? null,
        team: r.key.team ?? null,
        estimated: nanosToDecimal(r.estimated),
        reconciled: nanosToDecimal(r.reconciled),
        billed: nanosToDecimal(r.billed),
        drift: nanosToDecimal(r.drift),
        status: r.status,
      }));
      const factors = day.factors.map((f) => ({
        cloud: f.cloud,
        family: f.family,
        factor_num: f.factor.num.toString(),
        factor_den: f.factor.den.toString(),
        clamped: f.clamped,
        days_used: f.days.length,
        estimated: nanosToDecimal(f.estimated),
        billed: nanosToDecimal(f.billed),
      }));
      for (const [index, batch] of chunks(rows, batchSize).entries()) {
        await sql.query(`${FILE}#store_day`, {
          replace: index === 0,
          day: day.day,
          currency,
          reconciled_at: reconciledAt,
          rows: JSON.stringify(batch),
          factors: JSON.stringify(index === 0 ? factors : []),
        });
      }
    },

    async reconciliationRows(period) {
      const rows = await sql.query(`${FILE}#read_rows`, days(period));
      return rows.map((row): StoredReconciliationRow => {
        const where = `reconciliation_daily ${JSON.stringify([row.day, row.match_label])}`;
        const keys = matchKeys(text(row, "match_keys", where), where);
        const status = text(row, "status", where) as DriftStatus;
        if (!STATUSES.includes(status)) throw new WarehouseError(`${where}: status ${status}`, "invalid");
        return {
          day: text(row, "day", where),
          keys,
          label: text(row, "match_label", where),
          key: Object.fromEntries(keys.map((k) => [k, optional(row, k, where)])),
          currency: text(row, "currency", where),
          estimated: money(row, "estimated", where),
          reconciled: money(row, "reconciled", where),
          billed: money(row, "billed", where),
          drift: money(row, "drift", where),
          status,
          reconciledAt: time(row.reconciled_at ?? null, `${where}: reconciled_at`),
        };
      });
    },

    async calibrationFactors(period) {
      const rows = await sql.query(`${FILE}#read_factors`, days(period));
      return rows.map((row): StoredCalibrationFactor => {
        const where = `calibration_factors ${JSON.stringify([row.learned_for_day, row.cloud, row.family])}`;
        const clamped = optional(row, "clamped", where);
        const daysUsed = row.days_used;
        if (typeof daysUsed !== "number") throw new WarehouseError(`${where}: days_used`, "invalid");
        return {
          learnedForDay: text(row, "learned_for_day", where),
          cloud: text(row, "cloud", where),
          family: text(row, "family", where),
          factor: {
            num: BigInt(text(row, "factor_num", where)),
            den: BigInt(text(row, "factor_den", where)),
          },
          clamped: clamped === "low" || clamped === "high" ? clamped : null,
          daysUsed,
          estimated: money(row, "estimated", where),
          billed: money(row, "billed", where),
        };
      });
    },
  };
}
