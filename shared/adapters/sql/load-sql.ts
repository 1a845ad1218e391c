import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import type { Dialect } from "#ports/sql-runner.ts";

export type { Dialect };

const SQL_ROOT = fileURLToPath(new URL("../../../sql/", import.meta.url));
const cache = new Map<string, string>();

/** Thrown when a named query is missing or a placeholder has no value. */
export class SqlTemplateError extends Error {
  override readonly name = "SqlTemplateError";
}

function readSqlFile(dialect: Dialect, name: string): string {
  const key = `${dialect}/${name}`;
  let text = cache.get(key);
  if (text === undefined) {
    try {
      text = readFileSync(`${SQL_ROOT}${key}.sql`, "utf8");
    } catch (cause) {
      throw new SqlTemplateError(`no query named ${key}`, { cause });
    }
    cache.set(key, text);
  }
  return text;
}

const INCLUDE = /\{\{include:([\w/]+)\}\}/g;

/**
 * The text with each `{{include:<name>}}` replaced by the text `read(name)` gives (its comment lines
 * dropped), recursively. `where` names the file in errors.
 */
export function expandSqlIncludes(
  text: string,
  read: (name: string) => string,
  where: string,
  path: readonly string[] = [],
): string {
  return text.replace(INCLUDE, (_, included: string) => {
    if (path.includes(included)) {
      throw new SqlTemplateError(`${where}: includes form a cycle: ${[...path, included].join(" → ")}`);
    }
    const part = read(included)
      .replace(/^--.*\n/gm, "")
      .trim();
    return expandSqlIncludes(part, read, where, [...path, included]);
  });
}

/**
 * Reads `sql/<dialect>/<name>.sql`. `{{include:<file>}}` pastes another file of the same dialect (a
 * part several queries share, such as one_view.sql). `{{placeholder}}` marks identifiers the adapter
 * fills in (dataset, an allow-listed column list); values are never pasted, they are bound parameters
 * (`$name` in DuckDB, `@name` in BigQuery).
 */
export function loadSql(dialect: Dialect, name: string, identifiers: Record<string, string> = {}): string {
  const text = expandSqlIncludes(
    readSqlFile(dialect, name),
    (part) => readSqlFile(dialect, part),
    `${dialect}/${name}.sql`,
  );
  return text.replace(/\{\{(\w+)\}\}/g, (_, id: string) => {
    const value = identifiers[id];
    if (value === undefined) throw new SqlTemplateError(`${dialect}/${name}.sql: no value for {{${id}}}`);
    return value;
  });
}

/** The bound parameter names a query uses, without their sigil, sorted. */
export function sqlParameters(dialect: Dialect, text: string): string[] {
  const withoutComments = text.replace(/--.*$/gm, "").replace(/'(?:[^']|'')*'/g, "''");
  const pattern = dialect === "duckdb" ? /\$([a-z_][a-z0-9_]*)/gi : /@([a-z_][a-z0-9_]*)/gi;
  return [...new Set([...withoutComments.matchAll(pattern)].map((m) => m[1] as string))].sort();
}

export function sqlRoot(): string {
  return SQL_ROOT;
}

const QUERY_MARKER = /^--\s*query:\s*([a-z_]+)\s*$/gm;

/**
 * One statement of a file that holds several (sql/<dialect>/<file>.sql): the text after its
 * "-- query: <name>" line, up to the next such line. For stores whose few statements belong together.
 */
export function loadNamedSql(
  dialect: Dialect,
  file: string,
  name: string,
  identifiers: Record<string, string> = {},
): string {
  const text = loadSql(dialect, file, identifiers);
  const marks = [...text.matchAll(QUERY_MARKER)];
  const at = marks.findIndex((m) => m[1] === name);
  const mark = marks[at];
  if (mark === undefined) throw new SqlTemplateError(`${dialect}/${file}.sql has no "-- query: ${name}"`);
  const end = marks[at + 1]?.index ?? text.length;
  return text.slice(mark.index + mark[0].length, end).trim();
}
