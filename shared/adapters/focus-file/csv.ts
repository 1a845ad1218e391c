import { CsvError, parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";

/** A CSV field: its text, and whether it was quoted (so a quoted "NULL" is text, an unquoted NULL is not). */
export interface CsvField {
  text: string;
  quoted: boolean;
}

export class CsvSyntaxError extends Error {
  override readonly name = "CsvSyntaxError";
}

/**
 * Parses RFC 4180 CSV (csv-parse): comma separated, fields optionally in double quotes with "" for
 * a quote, quoted fields may hold commas and line breaks; CRLF or LF ends a record. A trailing line
 * break adds no record, a BOM is dropped, and records may differ in length (the caller checks them).
 */
export function parseCsv(text: string): CsvField[][] {
  try {
    const records: unknown = parse(text, {
      bom: true,
      relax_column_count: true,
      record_delimiter: ["\r\n", "\n", "\r"],
      cast: (value, context): CsvField => ({ text: value, quoted: context.quoting }),
    });
    return records as CsvField[][];
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const line = (error as CsvError & { lines?: number }).lines;
    throw new CsvSyntaxError(`${line === undefined ? "" : `line ${line}: `}${error.message}`, {
      cause: error,
    });
  }
}

/**
 * One CSV record, as parseCsv reads it back: a null is an empty unquoted field; a text is quoted
 * when it holds a comma, quote or line break, or would otherwise read as null ("" or NULL).
 * Ends with a line break.
 */
export function formatCsvRecord(fields: readonly (string | null)[]): string {
  return stringify([fields], { quoted_match: /^$|^NULL$/, record_delimiter: "unix" });
}
