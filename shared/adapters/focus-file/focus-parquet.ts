import { DuckDBInstance } from "@duckdb/node-api";
import type { BilledLine } from "#domain/billing/billed-line.ts";
import { BillingSourceError } from "#ports/billing-source.ts";
import { type FocusCsvOptions, focusLines } from "./focus-csv.ts";

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Each column as the text the CSV form would hold: timestamps in ISO 8601 UTC, Tags (a MAP or
 * STRUCT in Parquet) as its JSON object, decimals exactly, everything else cast to text.
 */
function textColumn(name: string, type: string): string {
  const column = quoteIdentifier(name);
  if (/^TIMESTAMP/i.test(type)) return `strftime(${column}, '%Y-%m-%dT%H:%M:%SZ')`;
  if (/^(MAP|STRUCT)/i.test(type)) return `CAST(to_json(${column}) AS VARCHAR)`;
  return `CAST(${column} AS VARCHAR)`;
}

/** One billed line per row of a FOCUS Parquet file, read by an in-memory DuckDB (read_parquet). */
export async function parseFocusParquet(path: string, options: FocusCsvOptions = {}): Promise<BilledLine[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  const read = async (sql: string) => {
    const prepared = await connection.prepare(sql);
    prepared.bindVarchar(1, path);
    return prepared.runAndReadAll();
  };
  try {
    await connection.run("SET TimeZone = 'UTC'");
    let columns: { names: string[]; types: string[] };
    try {
      const empty = await read("SELECT * FROM read_parquet($path) LIMIT 0");
      columns = { names: empty.columnNames(), types: empty.columnTypes().map(String) };
    } catch (cause) {
      throw new BillingSourceError("invalid", `FOCUS Parquet ${path}: ${(cause as Error).message}`, {
        cause,
      });
    }
    const select = columns.names.map((name, i) => textColumn(name, columns.types[i] ?? "")).join(", ");
    const rows = (await read(`SELECT ${select} FROM read_parquet($path)`)).getRows();
    return focusLines(
      {
        header: columns.names,
        rows: rows.map((row) => row.map((value) => (value === null || value === "" ? null : String(value)))),
        name: "FOCUS Parquet",
        firstRowNumber: 1,
      },
      options,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
