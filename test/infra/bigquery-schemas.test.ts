import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { TABLES, type TableSpec, toApiFields } from "../../infra/bigquery-schemas.ts";

// infra/bigquery-schemas.ts (what Pulumi creates) and sql/bigquery/create_tables.sql (what a function
// creates on an empty dataset) describe the same tables; these tests keep them in step.

const DDL = readFileSync(new URL("../../sql/bigquery/create_tables.sql", import.meta.url), "utf8");

interface DdlTable {
  columns: { name: string; type: string; required: boolean }[];
  partitionField: string | undefined;
  clustering: string[];
  requirePartitionFilter: boolean;
  expiration: string | undefined;
}

/** Reads each CREATE TABLE: its column list (one column a line) and the clauses after it. */
function parseDdl(sql: string): Map<string, DdlTable> {
  const tables = new Map<string, DdlTable>();
  const statements = sql.replace(/--[^\n]*/g, "").split(";");
  for (const statement of statements) {
    const head = /CREATE TABLE IF NOT EXISTS\s+`\{\{dataset\}\}`\.(\w+)\s*\(/i.exec(statement);
    if (!head?.[1]) continue;
    const body = statement.slice(head.index + head[0].length);
    const close = body.search(/\n\)/);
    const columns = body
      .slice(0, close)
      .split("\n")
      .map((line) => line.trim().replace(/,$/, ""))
      .filter((line) => line.length > 0)
      .map((line) => {
        const match = /^`?(\w+)`?\s+(\w+)(\s+NOT NULL)?$/i.exec(line);
        if (!match?.[1] || !match[2]) throw new Error(`cannot read column definition: ${line}`);
        return { name: match[1], type: match[2].toUpperCase(), required: match[3] !== undefined };
      });
    const rest = body.slice(close);
    tables.set(head[1], {
      columns,
      partitionField: /PARTITION BY DATE\((\w+)\)/i.exec(rest)?.[1],
      clustering: (/CLUSTER BY ([\w ,]+)\n/i.exec(rest)?.[1] ?? "")
        .split(",")
        .map((c) => c.trim())
        .filter(Boolean),
      requirePartitionFilter: /require_partition_filter\s*=\s*TRUE/i.test(rest),
      expiration: /partition_expiration_days\s*=\s*\{\{(\w+)\}\}/i.exec(rest)?.[1],
    });
  }
  return tables;
}

const ddl = parseDdl(DDL);
const EXPIRATION_PARAMETER: Record<TableSpec["expiration"], string | undefined> = {
  events: "partition_expiration_days",
  rejected: "rejected_expiration_days",
  none: undefined,
};

describe("BigQuery table schemas", () => {
  it("covers exactly the tables the DDL creates", () => {
    expect(TABLES.map((t) => t.tableId).sort()).toEqual([...ddl.keys()].sort());
  });

  describe.each(TABLES.map((t) => [t.tableId, t] as const))("%s", (tableId, spec) => {
    const table = ddl.get(tableId);

    it("has the DDL's columns, in order, with the same types and NOT NULL", () => {
      expect(spec.columns.map((c) => ({ ...c }))).toEqual(table?.columns);
    });

    it("has the DDL's partitioning, clustering, partition filter and expiration", () => {
      expect(spec.partitionField).toBe(table?.partitionField);
      expect([...spec.clustering]).toEqual(table?.clustering);
      expect(spec.requirePartitionFilter).toBe(table?.requirePartitionFilter);
      expect(EXPIRATION_PARAMETER[spec.expiration]).toBe(table?.expiration);
    });
  });

  it("writes the type names the tables API reports back", () => {
    const fields = toApiFields([
      { name: "a", type: "INT64", required: true },
      { name: "b", type: "FLOAT64", required: false },
      { name: "c", type: "BOOL", required: false },
      { name: "d", type: "NUMERIC", required: true },
    ]);
    expect(fields).toEqual([
      { name: "a", type: "INTEGER", mode: "REQUIRED" },
      { name: "b", type: "FLOAT", mode: "NULLABLE" },
      { name: "c", type: "BOOLEAN", mode: "NULLABLE" },
      { name: "d", type: "NUMERIC", mode: "REQUIRED" },
    ]);
  });
});
