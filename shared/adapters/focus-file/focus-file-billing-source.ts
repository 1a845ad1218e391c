import { createReadStream } from "node:fs";
import { type BilledLine, createLineRollup } from "#domain/billing/billed-line.ts";
import { type BillingSource, BillingSourceError, checkBillingPeriod } from "#ports/billing-source.ts";
import { csvRecords } from "./csv.ts";
import {
  type FocusCsvOptions,
  type FocusRowReader,
  focusCsvError,
  focusCsvValue,
  focusRowReader,
} from "./focus-csv.ts";
import { readFocusParquet } from "./focus-parquet.ts";

export interface FocusFileBillingSourceOptions extends FocusCsvOptions {
  /** A FOCUS export (on-premises, another cloud, a FinOps tool): CSV, or Parquet when it ends in .parquet. */
  path: string;
}

/** Rows between two progress reports. */
const PROGRESS_ROWS = 250_000;

/** A file that cannot be read: for good when it is not there or not ours to read, else maybe later. */
function unreadable(path: string, cause: unknown): BillingSourceError {
  const code = (cause as { code?: string }).code;
  const permanent = code === "ENOENT" || code === "EISDIR" || code === "EACCES";
  return new BillingSourceError(
    permanent ? "invalid" : "unavailable",
    `cannot read ${path}: ${code ?? cause}`,
    {
      cause,
    },
  );
}

/** The lines of each row of a FOCUS CSV, as it is read, to `add`. */
async function readFocusCsv(
  path: string,
  options: FocusCsvOptions,
  add: (lines: BilledLine[]) => void,
): Promise<void> {
  let reader: FocusRowReader | undefined;
  let index = 0;
  try {
    for await (const record of csvRecords(createReadStream(path))) {
      if (reader === undefined) {
        reader = focusRowReader(
          { header: record.map((f) => f.text), name: "FOCUS CSV", firstRowNumber: 2 },
          options,
        );
        continue;
      }
      add(reader(record.map(focusCsvValue), index));
      index += 1;
    }
  } catch (cause) {
    // The file's own faults (ENOENT, EIO...) say it cannot be read; a row's or the CSV's are named as they are.
    const code = (cause as { code?: unknown }).code;
    throw typeof code === "string" && code.startsWith("E") ? unreadable(path, cause) : focusCsvError(cause);
  }
}

/**
 * Every row of a FOCUS file spread over the days of its charge period, summed per day and identity
 * (hourly rows of one resource become one daily line): Parquet when the name ends in .parquet, CSV
 * otherwise. The file is read as it streams and only the sums are kept, so a month's export of
 * millions of rows takes the memory of its daily lines; `progress` hears the rows read every
 * `progressRows` (250,000).
 */
export async function readFocusFile(
  path: string,
  options: FocusCsvOptions = {},
  progress?: (rows: number) => void,
  progressRows = PROGRESS_ROWS,
): Promise<BilledLine[]> {
  const rollup = createLineRollup();
  let rows = 0;
  const add = (lines: BilledLine[]) => {
    for (const line of lines) rollup.add(line);
    rows += 1;
    if (rows % progressRows === 0) progress?.(rows);
  };
  if (/\.parquet$/i.test(path)) await readFocusParquet(path, options, add);
  else await readFocusCsv(path, options, add);
  return rollup.lines();
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
