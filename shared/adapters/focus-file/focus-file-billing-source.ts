import { readFile } from "node:fs/promises";
import { type BilledLine, rollUpLines } from "#domain/billing/billed-line.ts";
import { type BillingSource, BillingSourceError, checkBillingPeriod } from "#ports/billing-source.ts";
import { type FocusCsvOptions, parseFocusCsv } from "./focus-csv.ts";
import { parseFocusParquet } from "./focus-parquet.ts";

export interface FocusFileOptions extends FocusCsvOptions {
  /** Injectable for tests; defaults to reading the file as UTF-8 (CSV only). */
  readText?: (path: string) => Promise<string>;
}

export interface FocusFileBillingSourceOptions extends FocusFileOptions {
  /** A FOCUS export (on-premises, another cloud, a FinOps tool): CSV, or Parquet when it ends in .parquet. */
  path: string;
}

/**
 * Every row of a FOCUS file spread over the days of its charge period, summed per day and identity
 * (hourly rows of one resource become one daily line): Parquet when the name ends in .parquet, CSV
 * otherwise.
 */
export async function readFocusFile(path: string, options: FocusFileOptions = {}): Promise<BilledLine[]> {
  if (/\.parquet$/i.test(path)) return rollUpLines(await parseFocusParquet(path, options));
  const readText = options.readText ?? ((file: string) => readFile(file, "utf8"));
  let text: string;
  try {
    text = await readText(path);
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    const permanent = code === "ENOENT" || code === "EISDIR" || code === "EACCES";
    throw new BillingSourceError(
      permanent ? "invalid" : "unavailable",
      `cannot read ${path}: ${code ?? cause}`,
      { cause },
    );
  }
  return rollUpLines(parseFocusCsv(text, options));
}

/**
 * A BillingSource over a FOCUS file: its day lines inside the period. The file is read on every
 * call, so a replaced export is picked up.
 */
export function createFocusFileBillingSource(options: FocusFileBillingSourceOptions): BillingSource {
  return {
    async billedLines(period) {
      checkBillingPeriod(period);
      const lines = await readFocusFile(options.path, options);
      return lines.filter(
        (line) => line.ChargePeriodStart >= period.start && line.ChargePeriodStart < period.end,
      );
    },
  };
}
