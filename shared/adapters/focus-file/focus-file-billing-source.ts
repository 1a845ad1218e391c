import { readFile } from "node:fs/promises";
import { rollUpLines } from "#domain/billing/billed-line.ts";
import { type BillingSource, BillingSourceError, checkBillingPeriod } from "#ports/billing-source.ts";
import { type FocusCsvOptions, parseFocusCsv } from "./focus-csv.ts";

export interface FocusFileBillingSourceOptions extends FocusCsvOptions {
  /** A FOCUS CSV export (on-premises, another cloud, a FinOps tool). */
  path: string;
  /** Injectable for tests; defaults to reading the file as UTF-8. */
  readText?: (path: string) => Promise<string>;
}

/**
 * A BillingSource over a FOCUS CSV file: the rows whose charge starts in the period, summed per day
 * and identity (hourly rows of one resource become one daily line). The file is read on every call,
 * so a replaced export is picked up.
 */
export function createFocusFileBillingSource(options: FocusFileBillingSourceOptions): BillingSource {
  const readText = options.readText ?? ((path: string) => readFile(path, "utf8"));
  return {
    async billedLines(period) {
      checkBillingPeriod(period);
      let text: string;
      try {
        text = await readText(options.path);
      } catch (cause) {
        const code = (cause as { code?: string }).code;
        const permanent = code === "ENOENT" || code === "EISDIR" || code === "EACCES";
        throw new BillingSourceError(
          permanent ? "invalid" : "unavailable",
          `cannot read ${options.path}: ${code ?? cause}`,
          { cause },
        );
      }
      const lines = parseFocusCsv(text, options).filter(
        (line) => line.ChargePeriodStart >= period.start && line.ChargePeriodStart < period.end,
      );
      return rollUpLines(lines);
    },
  };
}
