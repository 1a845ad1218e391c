import type { Readable } from "node:stream";
import { CsvError, type Options, parse as parseStream } from "csv-parse";
import { parse } from "csv-parse/sync";
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
 * RFC 4180 CSV (csv-parse): comma separated, fields optionally in double quotes with "" for a quote,
 * quoted fields may hold commas and line breaks; CRLF or LF ends a record. A trailing line break
 * adds no record, a BOM is dropped, and records may differ in length (the caller checks them).
 */
const CSV_OPTIONS: Options = {
  bom: true,
  relax_column_count: true,
  record_delimiter: ["\r\n", "\n", "\r"],
  cast: (value, context): CsvField => ({ text: value, quoted: context.quoting }),
};

function syntaxError(error: unknown): unknown {
  if (!(error instanceof CsvError)) return error;
  const line = (error as CsvError & { lines?: number }).lines;
  return new CsvSyntaxError(`${line === undefined ? "" : `line ${line}: `}${error.message}`, {
    cause: error,
  });
}

/** The records of a CSV text (CSV_OPTIONS). */
export function parseCsv(text: string): CsvField[][] {
  try {
    return parse(text, CSV_OPTIONS) as unknown as CsvField[][];
  } catch (error) {
    throw syntaxError(error);
  }
}

/** The records of a CSV stream (CSV_OPTIONS) as they are read, so a file of any size takes no more memory than a record. */
export async function* csvRecords(input: Readable): AsyncGenerator<CsvField[]> {
  const parser = input.pipe(parseStream(CSV_OPTIONS));
  input.once("error", (error) => parser.destroy(error));
  try {
    for await (const record of parser) yield record as CsvField[];
  } catch (error) {
    throw syntaxError(error);
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
