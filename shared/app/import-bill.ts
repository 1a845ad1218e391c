import type { BilledLine } from "#domain/billing/billed-line.ts";
import type { OwnerMapping } from "#domain/billing/owner-mapping.ts";
import { type BillAttribution, billAttribution } from "#domain/reconciliation/bill-attribution.ts";
import { billedDayLines, daySpan } from "#domain/reconciliation/billed-day-line.ts";
import { BILL_SOURCE_NAME, BILL_SOURCE_NAME_RULE } from "#domain/reconciliation/reconciliation-settings.ts";
import type { BillingPeriod } from "#ports/billing-source.ts";
import type { Clock } from "#ports/clock.ts";
import { type Logger, silentLogger } from "#ports/logger.ts";
import type { ReconciliationStore } from "#ports/reconciliation-store.ts";

export interface ImportBillDeps {
  store: ReconciliationStore;
  clock: Clock;
  /**
   * Reads a bill file (FOCUS CSV or Parquet) into its daily lines, owners named by `ownerMapping`,
   * telling `progress` how many rows it has read as it goes.
   */
  readBill: (path: string, progress?: BillReadProgress) => Promise<BilledLine[]>;
  /** The mapping readBill applies: the attribution report names the tag keys it does not read. */
  ownerMapping: OwnerMapping;
  logger?: Logger;
}

export interface ImportBillResult {
  source: string;
  lines: number;
  /** The days replaced, [start, end); null for a file without lines (nothing replaced). */
  period: BillingPeriod | null;
  /** Lines per currency: reconciliation reads one. */
  currencies: Record<string, number>;
  /** Per currency, how much of the usage cost names an owner, and the tag keys no mapping reads. */
  attribution: BillAttribution[];
}

export class ImportBillError extends Error {
  override readonly name = "ImportBillError";
}

/** Told every so many rows of a bill read (a month's export may hold millions). */
export type BillReadProgress = (rows: number) => void;

export interface ImportBill {
  /**
   * Stores a bill file's lines under `source` (default: the file's name), replacing that source's
   * lines of every day from the file's first day to its last: importing a file again changes nothing.
   */
  importFile(
    path: string,
    options?: { source?: string; progress?: BillReadProgress },
  ): Promise<ImportBillResult>;
}

const baseName = (path: string) => path.split(/[\\/]/).pop() ?? path;

export function createImportBill({
  store,
  clock,
  readBill,
  ownerMapping,
  logger = silentLogger,
}: ImportBillDeps): ImportBill {
  return {
    async importFile(path, options = {}) {
      const source = options.source ?? baseName(path);
      if (!BILL_SOURCE_NAME.test(source)) {
        throw new ImportBillError(`source: ${JSON.stringify(source)} must be ${BILL_SOURCE_NAME_RULE}`);
      }
      const lines = (await readBill(path, options.progress)).flatMap((line) => billedDayLines(line, source));
      const period = daySpan(lines.map((l) => l.day));
      const currencies: Record<string, number> = {};
      for (const line of lines) currencies[line.currency] = (currencies[line.currency] ?? 0) + 1;
      if (period !== null) await store.replaceBilledLines(source, period, lines, clock.now());
      logger.info("bill imported", { source, lines: lines.length, ...period });
      return {
        source,
        lines: lines.length,
        period,
        currencies,
        attribution: billAttribution(lines, ownerMapping),
      };
    },
  };
}
