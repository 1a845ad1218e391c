import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Column, isSqlType, type PartitionUnit, type TableSpec } from "./bigquery-schemas.ts";
import { closingParen, maskQuoted, splitTopLevel, stripComments, unquote } from "./sql-text.ts";

/**
 * Reads the tables of the warehouse from the DDL in sql/bigquery, so a table another change adds
 * there is deployed without touching infra/. Only what Pulumi can reproduce exactly is accepted:
 * anything else (STRUCT columns, an unknown table option) fails the deployment with the file and the
 * table named, rather than deploying a table that differs from the one the functions would create.
 */

export class DdlError extends Error {
  override readonly name = "DdlError";
}

/** CREATE [OR REPLACE] TABLE [IF NOT EXISTS] on the `{{dataset}}` dataset, in either quoting. */
const CREATE_TABLE =
  /CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?\{\{dataset\}\}`?\.`?(\w+)`?\s*\(/gi;

function parseColumn(definition: string, where: string): Column {
  const match = /^`?(\w+)`?\s+([\s\S]+?)(\s+NOT\s+NULL)?$/i.exec(definition);
  if (!match?.[1] || !match[2]) {
    throw new DdlError(`${where}: cannot read column definition "${definition}" (name TYPE [NOT NULL])`);
  }
  const array = /^ARRAY\s*<\s*(\w+)\s*>$/i.exec(match[2]);
  const type = (array?.[1] ?? match[2]).toUpperCase();
  if (!isSqlType(type)) {
    throw new DdlError(
      `${where}: column ${match[1]} has type ${match[2]}, which infra/bigquery-ddl.ts cannot deploy`,
    );
  }
  return { name: match[1], type, mode: array ? "REPEATED" : match[3] ? "REQUIRED" : "NULLABLE" };
}

function parsePartitioning(expression: string, where: string): TableSpec["partitioning"] {
  const column = /^`?(\w+)`?$/.exec(expression);
  if (column?.[1]) return { field: column[1], unit: "DAY" };
  const date = /^DATE\s*\(\s*`?(\w+)`?\s*\)$/i.exec(expression);
  if (date?.[1]) return { field: date[1], unit: "DAY" };
  const truncated =
    /^(?:TIMESTAMP|DATETIME|DATE)_TRUNC\s*\(\s*`?(\w+)`?\s*,\s*(HOUR|DAY|MONTH|YEAR)\s*\)$/i.exec(expression);
  if (truncated?.[1] && truncated[2]) {
    return { field: truncated[1], unit: truncated[2].toUpperCase() as PartitionUnit };
  }
  throw new DdlError(
    `${where}: PARTITION BY ${expression} is not a column, DATE(column) or *_TRUNC(column, unit)`,
  );
}

interface TableOptions {
  description?: string;
  requirePartitionFilter: boolean;
  partitionExpiration?: TableSpec["partitionExpiration"];
}

function parseOptions(list: string, where: string): TableOptions {
  const options: TableOptions = { requirePartitionFilter: false };
  for (const option of splitTopLevel(list, ",")) {
    const match = /^(\w+)\s*=\s*([\s\S]+)$/.exec(option);
    const key = match?.[1]?.toLowerCase();
    const value = match?.[2]?.trim() ?? "";
    if (key === "description" && unquote(value) !== undefined) {
      options.description = unquote(value);
    } else if (key === "require_partition_filter" && /^(TRUE|FALSE)$/i.test(value)) {
      options.requirePartitionFilter = value.toUpperCase() === "TRUE";
    } else if (key === "partition_expiration_days" && /^\d+$/.test(value)) {
      options.partitionExpiration = { days: Number(value) };
    } else if (key === "partition_expiration_days" && /^\{\{\w+\}\}$/.test(value)) {
      options.partitionExpiration = { parameter: value.slice(2, -2) };
    } else {
      throw new DdlError(`${where}: table option "${option}" is not one infra/bigquery-ddl.ts deploys`);
    }
  }
  return options;
}

/** The clauses after the column list: PARTITION BY, CLUSTER BY, OPTIONS(...), in that order. */
function parseClauses(clauses: string, where: string) {
  const masked = maskQuoted(clauses);
  const optionsAt = masked.search(/\bOPTIONS\s*\(/i);
  const head = optionsAt === -1 ? clauses : clauses.slice(0, optionsAt);
  let options: TableOptions = { requirePartitionFilter: false };
  if (optionsAt !== -1) {
    const open = clauses.indexOf("(", optionsAt);
    const close = closingParen(clauses, open);
    if (close === -1) throw new DdlError(`${where}: OPTIONS ( is never closed`);
    options = parseOptions(clauses.slice(open + 1, close), where);
    if (clauses.slice(close + 1).trim() !== "") {
      throw new DdlError(`${where}: unexpected text after OPTIONS(...): ${clauses.slice(close + 1).trim()}`);
    }
  }
  const match = /^(?:PARTITION\s+BY\s+([\s\S]+?))?\s*(?:CLUSTER\s+BY\s+([\s\S]+?))?\s*$/i.exec(head.trim());
  if (!match) throw new DdlError(`${where}: cannot read the clauses "${head.trim()}"`);
  return {
    partitioning: match[1] === undefined ? undefined : parsePartitioning(match[1].trim(), where),
    clustering: match[2] === undefined ? [] : splitTopLevel(match[2], ",").map((c) => c.replaceAll("`", "")),
    ...options,
  };
}

/** Every table a SQL file creates in `{{dataset}}`, with what Pulumi needs to create it the same way. */
export function parseCreateTables(sql: string, file: string): TableSpec[] {
  const text = stripComments(sql);
  const masked = maskQuoted(text);
  const tables: TableSpec[] = [];
  for (const head of masked.matchAll(CREATE_TABLE)) {
    const tableId = head[1] as string;
    const where = `${file}: table ${tableId}`;
    const open = head.index + head[0].length - 1;
    const close = closingParen(text, open);
    if (close === -1) throw new DdlError(`${where}: the column list is never closed`);
    const end = masked.indexOf(";", close);
    const clauses = parseClauses(text.slice(close + 1, end === -1 ? undefined : end), where);
    const columns = splitTopLevel(text.slice(open + 1, close), ",").map((c) => parseColumn(c, where));
    const names = new Set(columns.map((c) => c.name));
    for (const field of [clauses.partitioning?.field, ...clauses.clustering]) {
      if (field !== undefined && !names.has(field)) throw new DdlError(`${where}: no column ${field}`);
    }
    tables.push({
      tableId,
      file,
      columns,
      clustering: clauses.clustering,
      requirePartitionFilter: clauses.requirePartitionFilter,
      ...(clauses.description === undefined ? {} : { description: clauses.description }),
      ...(clauses.partitioning === undefined ? {} : { partitioning: clauses.partitioning }),
      ...(clauses.partitionExpiration === undefined
        ? {}
        : { partitionExpiration: clauses.partitionExpiration }),
    });
  }
  return tables;
}

/** The tables of every .sql file directly in `dir` (sql/bigquery), each declared once. */
export function readTableSpecs(dir: string): TableSpec[] {
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".sql"))
    .map((entry) => entry.name)
    .sort();
  const tables = files.flatMap((file) => parseCreateTables(readFileSync(join(dir, file), "utf8"), file));
  const seen = new Map<string, string>();
  for (const table of tables) {
    const first = seen.get(table.tableId);
    if (first !== undefined) {
      throw new DdlError(`table ${table.tableId} is created in both ${first} and ${table.file}`);
    }
    seen.set(table.tableId, table.file);
  }
  return tables;
}
