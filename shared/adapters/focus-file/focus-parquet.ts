import { DuckDBInstance } from "@duckdb/node-api";
import type { BilledLine } from "#domain/billing/billed-line.ts";
import { BillingSourceError } from "#ports/billing-source.ts";
import { type FocusCsvOptions, focusRowReader } from "./focus-csv.ts";

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

/**
 * The billed lines of each row of a FOCUS Parquet file, read by an in-memory DuckDB (read_parquet)
 * a chunk of rows at a time, to `add`.
 */
export async function readFocusParquet(
  path: string,
  options: FocusCsvOptions,
  add: (lines: BilledLine[]) => void,
): Promise<void> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  const prepare = async (sql: string) => {
    const prepared = await connection.prepare(sql);
    prepared.bindVarchar(1, path);
    return prepared;
  };
  try {
    await connection.run("SET TimeZone = 'UTC'");
    let columns: { names: string[]; types: string[] };
    try {
      const empty = await (await prepare("SELECT * FROM read_parquet($path) LIMIT 0")).runAndReadAll();
      columns = { names: empty.columnNames(), types: empty.columnTypes().map(String) };
    } catch (cause) {
      throw new BillingSourceError("invalid", `FOCUS Parquet ${path}: ${(cause as Error).message}`, {
        cause,
      });
    }
    const select = columns.names.map((name, i) => textColumn(name, columns.types[i] ?? "")).join(", ");
    const reader = focusRowReader(
      { header: columns.names, name: "FOCUS Parquet", firstRowNumber: 1 },
      options,
    );
    const result = await (await prepare(`SELECT ${select} FROM read_parquet($path)`)).stream();
    let index = 0;
    for await (const rows of result.yieldRows()) {
      for (const row of rows) {
        add(
          reader(
            row.map((value) => (value === null || value === "" ? null : String(value))),
            index,
          ),
        );
        index += 1;
      }
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
