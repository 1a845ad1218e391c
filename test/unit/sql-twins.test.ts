import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Dialect, loadSql, sqlParameters, sqlRoot } from "#adapters/sql/load-sql.ts";

// The BigQuery and DuckDB adapters run the same named queries: one file per query and dialect, same
// file names, same bound parameters (`@name` in BigQuery, `$name` in DuckDB), so a use case cannot
// behave differently by the warehouse it runs on. A file that implements one engine's own mechanism
// (DuckDB's insert staging) says so on its first line, "-- DuckDB only: ..." or "-- BigQuery only: ...",
// and is then the one file exempt from having a twin.

const DIALECTS: readonly Dialect[] = ["bigquery", "duckdb"];
const LABEL: Record<Dialect, string> = { bigquery: "BigQuery", duckdb: "DuckDB" };

/** The queries the warehouse adapters load; each must exist in both dialects. */
const REQUIRED = ["create_tables", "training_job_ends", "refresh_hourly", "report", "rejections"];

function sqlText(dialect: Dialect, name: string): string {
  return readFileSync(join(sqlRoot(), dialect, `${name}.sql`), "utf8");
}

function queryNames(dialect: Dialect, folder = ""): string[] {
  return readdirSync(join(sqlRoot(), dialect, folder))
    .filter((file) => file.endsWith(".sql"))
    .map((file) => file.slice(0, -".sql".length))
    .sort();
}

function onlyFor(dialect: Dialect, name: string): boolean {
  const firstLine = sqlText(dialect, name).trimStart().split("\n", 1)[0] ?? "";
  return new RegExp(`^--\\s*${LABEL[dialect]} only\\b`, "i").test(firstLine);
}

const twinNames = (dialect: Dialect) => queryNames(dialect).filter((name) => !onlyFor(dialect, name));
const allTwins = [...new Set(DIALECTS.flatMap(twinNames).concat(REQUIRED))].sort();
const dialectOnly = DIALECTS.flatMap((dialect) =>
  queryNames(dialect)
    .filter((name) => onlyFor(dialect, name))
    .map((name) => [dialect, name] as const),
);

describe("SQL twins (sql/bigquery and sql/duckdb)", () => {
  it("hold the same query files, apart from those marked for one dialect", () => {
    expect(twinNames("duckdb")).toEqual(twinNames("bigquery"));
  });

  it.each(allTwins)("%s exists in both dialects and binds the same parameters", (name) => {
    const [bigquery, duckdb] = DIALECTS.map((dialect) => {
      expect(queryNames(dialect), `sql/${dialect}/${name}.sql is missing`).toContain(name);
      return sqlParameters(dialect, sqlText(dialect, name));
    });
    expect(duckdb, `parameters of sql/duckdb/${name}.sql vs sql/bigquery/${name}.sql`).toEqual(bigquery);
  });

  it.each(dialectOnly)("%s/%s is marked for its dialect only and has no twin", (dialect, name) => {
    const other = DIALECTS.find((d) => d !== dialect) as Dialect;
    expect(
      queryNames(other),
      `sql/${other}/${name}.sql exists, so ${dialect}/${name} is a twin`,
    ).not.toContain(name);
  });

  it("reads parameters, not placeholders or system variables", () => {
    expect(sqlParameters("bigquery", "SELECT @from, `{{dataset}}`.t, '@not_a_param' -- @nor_this")).toEqual([
      "from",
    ]);
    expect(sqlParameters("duckdb", "SELECT $from, {{dataset}}, '$not' -- $nor")).toEqual(["from"]);
  });
});

// The report views (sql/<dialect>/views/<name>.sql): what the warehouses create at init and infra/
// deploys as BigQuery views, for BI tools. Same names in both dialects; each is one SELECT without
// parameters, and its first line names the column a BI filter should use to prune partitions.
describe("report views (sql/bigquery/views and sql/duckdb/views)", () => {
  const views = queryNames("bigquery", "views");

  it("are the same views in both dialects", () => {
    expect(views.length).toBeGreaterThan(0);
    expect(queryNames("duckdb", "views")).toEqual(views);
  });

  it.each(DIALECTS.flatMap((dialect) => views.map((name) => [dialect, name] as const)))(
    "%s/views/%s is one SELECT without parameters that names its partition column first",
    (dialect, name) => {
      const text = sqlText(dialect, `views/${name}`);
      const code = text.replace(/--.*$/gm, "").trim();
      expect(text.split("\n", 1)[0]).toMatch(/^-- Partition column: (hour|day)\b/);
      expect(code).toMatch(/^(WITH|SELECT)\b/);
      expect(code.replace(/;\s*$/, "")).not.toContain(";");
      expect(sqlParameters(dialect, text)).toEqual([]);
    },
  );

  it("read BigQuery tables and views through {{dataset}} only", () => {
    for (const name of views) {
      const code = loadSql("bigquery", `views/${name}`, { dataset: "{{dataset}}" }).replace(/--.*$/gm, "");
      for (const [, table] of code.matchAll(/\b(?:FROM|JOIN)\s+([^\s(]+)/gi)) {
        const cte = new RegExp(`\\b${table}\\s+AS\\s*\\(`, "i").test(code);
        if (!cte) expect(table, `views/${name}.sql reads ${table}`).toMatch(/^`\{\{dataset\}\}`\.\w+$/);
      }
    }
  });
});
