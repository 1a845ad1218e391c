import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseCreateTables, readTableSpecs } from "../../infra/bigquery-ddl.ts";
import { toApiFields } from "../../infra/bigquery-schemas.ts";

// infra/ creates the tables sql/bigquery's DDL declares (the functions run the same DDL on an empty
// dataset), so a table added there is deployed as written, or the deployment says what it cannot do.

const SQL_DIR = fileURLToPath(new URL("../../sql/bigquery", import.meta.url));

const table = (sql: string) => {
  const [spec] = parseCreateTables(sql, "t.sql");
  if (!spec) throw new Error("no table parsed");
  return spec;
};

describe("the repository's DDL", () => {
  const specs = readTableSpecs(SQL_DIR);

  it("yields one spec per CREATE TABLE in sql/bigquery", () => {
    const statements = readdirSync(SQL_DIR)
      .filter((f) => f.endsWith(".sql"))
      .flatMap((f) => readFileSync(join(SQL_DIR, f), "utf8").match(/^CREATE TABLE/gim) ?? []);
    expect(specs).toHaveLength(statements.length);
  });

  it("reads cost_events: columns in order with NOT NULL, HOUR partitions on event_time, clustering, filter, retention", () => {
    const events = specs.find((s) => s.tableId === "cost_events");
    expect(events).toMatchObject({
      file: "create_tables.sql",
      partitioning: { field: "event_time", unit: "HOUR" },
      clustering: ["event_type", "model", "business_unit"],
      requirePartitionFilter: true,
      partitionExpiration: { parameter: "partition_expiration_days" },
    });
    expect(events?.columns.slice(0, 2)).toEqual([
      { name: "event_id", type: "STRING", mode: "REQUIRED" },
      { name: "event_source", type: "STRING", mode: "REQUIRED" },
    ]);
    expect(events?.columns).toContainEqual({ name: "cost", type: "NUMERIC", mode: "REQUIRED" });
    expect(events?.columns).toContainEqual({ name: "labels", type: "JSON", mode: "NULLABLE" });
    expect(events?.description).toMatch(/^Raw cost rows/);
  });

  it("reads the stores declared beside their queries, in either quoting of the dataset", () => {
    for (const id of ["alert_claims", "alert_log", "seen_keys"]) {
      expect(specs.find((s) => s.tableId === id)?.partitioning).toBeUndefined();
    }
    expect(specs.find((s) => s.tableId === "cost_hourly")?.columns).toContainEqual({
      name: "rows",
      type: "INT64",
      mode: "REQUIRED",
    });
  });
});

describe("parseCreateTables", () => {
  it("reads partitioning by column, DATE() and *_TRUNC(), ARRAY columns, numeric expiration and quoted descriptions", () => {
    expect(
      table(`CREATE TABLE IF NOT EXISTS \`{{dataset}}\`.a (day DATE NOT NULL, tags ARRAY<STRING>)
        PARTITION BY day OPTIONS (partition_expiration_days = 7, description = "it's \\"a\\"; b")`),
    ).toMatchObject({
      partitioning: { field: "day", unit: "DAY" },
      columns: [
        { name: "day", type: "DATE", mode: "REQUIRED" },
        { name: "tags", type: "STRING", mode: "REPEATED" },
      ],
      partitionExpiration: { days: 7 },
      description: 'it\'s "a"; b',
    });
    expect(
      table(
        "CREATE TABLE `{{dataset}}.b` (at TIMESTAMP) PARTITION BY TIMESTAMP_TRUNC(at, HOUR) CLUSTER BY at;",
      ).partitioning,
    ).toEqual({ field: "at", unit: "HOUR" });
  });

  it("ignores comments, tables outside the dataset and other statements", () => {
    const sql = `-- CREATE TABLE \`{{dataset}}\`.commented (a STRING)
      CREATE TEMP TABLE scratch (a STRING);
      ALTER TABLE \`{{dataset}}\`.x ADD COLUMN IF NOT EXISTS y STRING;
      CREATE TABLE IF NOT EXISTS \`{{dataset}}\`.real (a STRING) /* CLUSTER BY nothing */;`;
    expect(parseCreateTables(sql, "t.sql").map((t) => t.tableId)).toEqual(["real"]);
  });

  it("refuses what Pulumi would not create the same way, naming the file and the table", () => {
    expect(() => table("CREATE TABLE `{{dataset}}`.c (s STRUCT<a INT64>)")).toThrow(
      /t\.sql: table c: column s has type STRUCT<a INT64>, which/,
    );
    expect(() => table("CREATE TABLE `{{dataset}}`.c (a STRING) OPTIONS (labels = [('a', 'b')])")).toThrow(
      /table option "labels/,
    );
    expect(() => table("CREATE TABLE `{{dataset}}`.c (a STRING) CLUSTER BY b")).toThrow(/no column b/);
    expect(() => table("CREATE TABLE `{{dataset}}`.c (a STRING) PARTITION BY RANGE_BUCKET(a, x)")).toThrow(
      /PARTITION BY RANGE_BUCKET/,
    );
    expect(() => table("CREATE TABLE `{{dataset}}`.c (a STRING DEFAULT 'x')")).toThrow(
      /type STRING DEFAULT 'x'/,
    );
    expect(() => table("CREATE TABLE `{{dataset}}`.c (a)")).toThrow(/cannot read column definition "a"/);
  });

  it("refuses a table created in two files", () => {
    const dir = mkdtempSync(join(tmpdir(), "finops-ddl-"));
    writeFileSync(join(dir, "a.sql"), "CREATE TABLE `{{dataset}}`.t (a STRING);");
    writeFileSync(join(dir, "b.sql"), "CREATE TABLE `{{dataset}}`.t (a STRING);");
    expect(() => readTableSpecs(dir)).toThrow(/t is created in both a\.sql and b\.sql/);
  });
});

describe("toApiFields", () => {
  it("writes the type names the tables API reports back", () => {
    expect(
      toApiFields([
        { name: "a", type: "INT64", mode: "REQUIRED" },
        { name: "b", type: "FLOAT64", mode: "NULLABLE" },
        { name: "c", type: "BOOL", mode: "REPEATED" },
        { name: "d", type: "NUMERIC", mode: "REQUIRED" },
      ]),
    ).toEqual([
      { name: "a", type: "INTEGER", mode: "REQUIRED" },
      { name: "b", type: "FLOAT", mode: "NULLABLE" },
      { name: "c", type: "BOOLEAN", mode: "REPEATED" },
      { name: "d", type: "NUMERIC", mode: "REQUIRED" },
    ]);
  });
});
