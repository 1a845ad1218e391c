/** The SQL dialects the warehouse runs: DuckDB embedded, BigQuery in the cloud. */
export type Dialect = "duckdb" | "bigquery";

/**
 * A bound parameter: a time (TIMESTAMP), a whole number (INT64/BIGINT), a fraction (FLOAT64/DOUBLE),
 * a string or a boolean. Money goes in as a decimal string and is cast in the query, so it stays exact.
 * There is no null: BigQuery needs a type for every parameter, so optional filters use "" and the
 * query tests for it.
 */
export type SqlParam = Date | number | string | boolean;

/**
 * A result value, the same from either engine: DECIMAL/NUMERIC as a plain decimal string ("3.060000000"),
 * TIMESTAMP as a Date, DATE as "YYYY-MM-DD", integers as numbers, JSON as its text.
 */
export type SqlValue = string | number | boolean | Date | null;
export type SqlRow = Record<string, SqlValue>;

/**
 * Named queries over the warehouse's own tables: `sql/<dialect>/<file>.sql`, or one `-- query: <name>`
 * section of it when `name` is "file#section". The twin files of the two dialects are the contract
 * (test/unit/sql-twins.test.ts keeps their names and parameters in step), so a store written against
 * this runs on DuckDB locally and on BigQuery in the cloud.
 */
export interface SqlRunner {
  readonly dialect: Dialect;
  /** Runs every statement of the query; the rows of the last one. */
  query(name: string, params?: Readonly<Record<string, SqlParam>>): Promise<SqlRow[]>;
}

/** Splits "file#section" into the file and the optional `-- query:` section. */
export function parseQueryName(name: string): { file: string; section: string | undefined } {
  const at = name.indexOf("#");
  return at < 0
    ? { file: name, section: undefined }
    : { file: name.slice(0, at), section: name.slice(at + 1) };
}
