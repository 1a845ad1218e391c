import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expandSqlIncludes, sqlParameters, sqlRoot } from "#adapters/sql/load-sql.ts";
import { reportViewNames } from "#adapters/sql/report-views.ts";
import { readTableSpecs } from "../../infra/bigquery-ddl.ts";
import { readReportViews, renderView } from "../../infra/report-views.ts";
import {
  BILLING_EXPORT_DDL,
  BILLING_EXPORT_PSEUDO_COLUMNS,
  BILLING_EXPORT_TABLE,
  DATASET_PATH,
  type RecordedQuery,
  recordBigQueryStatements,
} from "../support/bigquery-statements.ts";
import {
  AnalysisError,
  type AnalyzerServer,
  analyzerUnavailable,
  BigQueryAnalysis,
  parameterType,
  pathGroupings,
  SCRIPT_STATEMENTS,
  type StatementResult,
  startAnalyzerServer,
  typeName,
} from "../support/googlesql-analyzer.ts";

// Every BigQuery statement the project runs, as the adapters send it (text expanded by loadSql,
// parameters typed as they bind them), analyzed by GoogleSQL's own analyzer with BigQuery's
// language options, against a catalog made by analyzing the project's DDL and report views in the
// order the adapters run them. A statement BigQuery would refuse for a name, a type or a syntax
// fails here, without a Google Cloud project.

/**
 * Statement kinds the analyzer cannot analyze, with the reason. Empty today: DECLARE and SET are
 * checked as SCRIPT_STATEMENTS describes. A kind listed here is reported, never analyzed; a kind the
 * analyzer refuses that is not listed fails the test.
 */
const NOT_ANALYZABLE: Readonly<Record<string, string>> = {};

const SQL_DIR = join(sqlRoot(), "bigquery");
const QUERY_MARKER = /^--\s*query:\s*([a-z_]+)\s*$/gm;

const INCLUDE = /\{\{include:([\w/]+)\}\}/g;

const sqlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((file) => file.endsWith(".sql"))
    .sort();
const readPart = (name: string) => readFileSync(join(SQL_DIR, `${name}.sql`), "utf8");

/** The parts other files paste in with `{{include:<name>}}` (one_view): not queries of their own. */
function includedParts(): string[] {
  const texts = [
    ...sqlFiles(SQL_DIR).map((file) => readFileSync(join(SQL_DIR, file), "utf8")),
    ...sqlFiles(join(SQL_DIR, "views")).map((file) => readFileSync(join(SQL_DIR, "views", file), "utf8")),
  ];
  return [...new Set(texts.flatMap((text) => [...text.matchAll(INCLUDE)].map((m) => m[1] as string)))].sort();
}

/** The named queries of sql/bigquery: `file` or `file#section` for each `-- query:` section. */
function namedQueries(): string[] {
  const parts = includedParts();
  return sqlFiles(SQL_DIR)
    .map((file) => file.slice(0, -".sql".length))
    .filter((name) => !parts.includes(name))
    .flatMap((name) => {
      const sections = [...readPart(name).matchAll(QUERY_MARKER)].map((m) => m[1]);
      return sections.length === 0 ? [name] : sections.map((section) => `${name}#${section}`);
    });
}

/** The job label an adapter gives a named query (labels.query), with `-` and `#` read as `_`. */
const labelOf = (name: string) => name.replace(/[#-]/g, "_");

const unavailable = analyzerUnavailable();
const recorded: RecordedQuery[] = await recordBigQueryStatements();

/** Each distinct request once (refresh_hourly runs twice, the same), named by its label. */
const requests = (() => {
  const seen = new Map<string, RecordedQuery & { name: string }>();
  for (const query of recorded) {
    const key = JSON.stringify([query.label, query.sql, query.params]);
    if (seen.has(key)) continue;
    const twins = [...seen.values()].filter((q) => q.label === query.label).length;
    seen.set(key, { ...query, name: twins === 0 ? query.label : `${query.label} (${twins + 1})` });
  }
  return [...seen.values()];
})();

function describeFailures(results: readonly StatementResult[]): string[] {
  return results
    .filter(
      (r) => r.outcome === "error" || (r.outcome === "unsupported" && !(r.statement.kind in NOT_ANALYZABLE)),
    )
    .map((r) => `${r.statement.kind} statement:\n${r.statement.text}\n--> ${r.message}`);
}

describe("the BigQuery statements the adapters send", () => {
  it("cover every named query of sql/bigquery and every report view", () => {
    const labels = new Set(recorded.map((q) => labelOf(q.label)));
    const missing = namedQueries().filter((name) => !labels.has(labelOf(name)));
    expect(missing, "named queries no adapter path in test/support/bigquery-statements.ts runs").toEqual([]);
    const views = recorded.find((q) => q.label === "create_views")?.sql ?? "";
    for (const view of reportViewNames("bigquery")) {
      expect(views).toContain(`CREATE OR REPLACE VIEW \`${DATASET_PATH}\`.${view} AS`);
    }
  });

  it("include every shared part, expanded, in the queries that paste it", () => {
    for (const part of includedParts()) {
      const text = expandSqlIncludes(`{{include:${part}}}`, readPart, part).replaceAll(
        "{{dataset}}",
        DATASET_PATH,
      );
      expect(
        recorded.some((q) => q.sql.includes(text)),
        `{{include:${part}}} in a recorded query`,
      ).toBe(true);
    }
  });

  it("name only queries of sql/bigquery in their job labels", () => {
    const known = new Set([...namedQueries().map(labelOf), "create_views"]);
    expect(recorded.map((q) => q.label).filter((label) => !known.has(labelOf(label)))).toEqual([]);
  });

  it.each(requests.map((q) => [q.name, q] as const))(
    "%s binds a type for every parameter it uses",
    (_, query) => {
      expect(query.sql).not.toMatch(/\{\{/);
      for (const name of sqlParameters("bigquery", query.sql)) {
        expect(() => parameterType(query.params[name], `${query.name}: @${name}`)).not.toThrow();
      }
    },
  );
});

describe("parameter types", () => {
  it("are read from the names BigQuery clients use, and an undeclared one cannot be typed", () => {
    expect(parameterType("TIMESTAMP", "t")).toEqual({ typeKind: "TYPE_TIMESTAMP" });
    expect(parameterType("INTEGER", "t")).toEqual({ typeKind: "TYPE_INT64" });
    expect(parameterType("float64", "t")).toEqual({ typeKind: "TYPE_DOUBLE" });
    expect(() => parameterType(undefined, "report: @from")).toThrow(
      /report: @from: parameter type not declared/,
    );
    expect(() => parameterType("STRUCT", "x")).toThrow(/"STRUCT"/);
  });

  it("name BigQuery's types as its DDL writes them, from the numbers the analyzer answers", () => {
    expect(
      typeName({
        typeKind: 16,
        arrayType: {
          elementType: {
            typeKind: 17,
            structType: { field: [{ fieldName: "key", fieldType: { typeKind: 8 } }] },
          },
        },
      }),
    ).toBe("ARRAY<STRUCT<key STRING>>");
    expect(([7, 23, 26, 5, 19] as const).map((typeKind) => typeName({ typeKind }))).toEqual([
      "FLOAT64",
      "NUMERIC",
      "JSON",
      "BOOL",
      "TIMESTAMP",
    ]);
    expect(typeName({ typeKind: "TYPE_INT64" })).toBe("INT64");
  });

  it("register a table under every way BigQuery lets a query quote its path", () => {
    expect(pathGroupings(["p", "d", "t"])).toEqual([["p", "d", "t"], ["p", "d.t"], ["p.d", "t"], ["p.d.t"]]);
  });
});

describe.skipIf(unavailable !== undefined)(
  `GoogleSQL's analyzer on the BigQuery SQL${unavailable === undefined ? "" : ` (skipped: ${unavailable})`}`,
  () => {
    let server: AnalyzerServer | undefined;
    let analysis: BigQueryAnalysis;
    const results = new Map<string, StatementResult[]>();

    beforeAll(async () => {
      server = await startAnalyzerServer();
      analysis = new BigQueryAnalysis(server);
      // The billing export is Google's table: its documented schema first, then the project's own
      // statements in the order the adapters sent them (init's DDL and views before what reads them).
      const billing = await analysis.analyzeScript(BILLING_EXPORT_DDL, { where: "billing export schema" });
      expect(describeFailures(billing)).toEqual([]);
      const table = analysis.catalog.table(BILLING_EXPORT_TABLE);
      for (const [name, type] of Object.entries(BILLING_EXPORT_PSEUDO_COLUMNS)) {
        table?.columns.push({ name, type: parameterType(type, name), pseudo: true });
      }
      for (const query of requests) {
        results.set(
          query.name,
          await analysis.analyzeScript(query.sql, { params: query.params, where: query.name }),
        );
      }
    }, 60_000);

    afterAll(async () => {
      await server?.stop();
    });

    it.for(requests.map((q) => q.name))(
      "%s passes analysis, statement by statement",
      async (name, { annotate }) => {
        const statements = results.get(name) ?? [];
        expect(statements.length, `${name}: no statement`).toBeGreaterThan(0);
        expect(describeFailures(statements).join("\n\n")).toBe("");
        expect(statements.some((r) => r.outcome === "analyzed")).toBe(true);
        for (const r of statements.filter((s) => s.outcome === "unsupported")) {
          await annotate(`not analyzed: ${r.statement.kind} (${NOT_ANALYZABLE[r.statement.kind]})`);
        }
      },
    );

    it("checks script statements by the model SCRIPT_STATEMENTS describes, and lists what it cannot analyze", () => {
      const all = [...results.values()].flat();
      const modelled = new Set(all.filter((r) => r.outcome === "modelled").map((r) => r.statement.kind));
      for (const kind of modelled) expect(Object.keys(SCRIPT_STATEMENTS)).toContain(kind);
      const unsupported = new Set(
        all.filter((r) => r.outcome === "unsupported").map((r) => r.statement.kind),
      );
      // Every allow-list entry is still needed, and nothing else was left unanalyzed.
      expect([...unsupported].sort()).toEqual(Object.keys(NOT_ANALYZABLE).sort());
    });

    it("built the catalog from the DDL: every table sql/bigquery declares, with its columns and types", () => {
      for (const spec of readTableSpecs(SQL_DIR)) {
        const table = analysis.catalog.table(`${DATASET_PATH}.${spec.tableId}`);
        expect(table, `${spec.file}: table ${spec.tableId}`).toBeDefined();
        expect(table?.columns.map((c) => [c.name, typeName(c.type)])).toEqual(
          spec.columns.map((c) => [c.name, c.mode === "REPEATED" ? `ARRAY<${c.type}>` : c.type]),
        );
      }
    });

    it("added the report views after the views they read, as report-views.ts orders them", () => {
      const views = [...analysis.catalog.tables.values()].filter((t) => t.kind === "view");
      expect(views.map((v) => v.path)).toEqual(
        reportViewNames("bigquery").map((name) => `${DATASET_PATH}.${name}`),
      );
      expect(views.every((v) => v.columns.length > 0)).toBe(true);
    });

    it("accepts the views as infra/ deploys them", async () => {
      for (const view of readReportViews(join(SQL_DIR, "views"))) {
        const statements = await analysis.analyzeScript(renderView(view, { dataset: DATASET_PATH }), {
          where: `infra view ${view.viewId}`,
        });
        expect(describeFailures(statements)).toEqual([]);
      }
    });

    describe("refuses broken statements, so a pass means something", () => {
      const find = (label: string) => {
        const query = requests.find((q) => q.label === label);
        if (query === undefined) throw new Error(`no ${label} request`);
        return query;
      };

      it("an unknown column", async () => {
        const jobs = find("training_jobs");
        const broken = jobs.sql.replace(
          "elapsed_seconds DESC, event_time DESC",
          "elapsed_secs DESC, event_time DESC",
        );
        expect(broken).not.toBe(jobs.sql);
        const [result] = await analysis.analyzeScript(broken, { params: jobs.params });
        expect(result?.outcome).toBe("error");
        expect(result?.message).toMatch(/Unrecognized name: elapsed_secs/);
      });

      it("a type error: a TIMESTAMP column compared with a parameter bound as INT64", async () => {
        const report = find("report");
        const [result] = await analysis.analyzeScript(report.sql, {
          params: { ...report.params, from: "INT64" },
        });
        expect(result?.outcome).toBe("error");
        expect(result?.message).toMatch(/No matching signature for operator >=/);
      });

      it("a parameter the adapter does not bind", async () => {
        const rejections = find("rejections");
        await expect(analysis.analyzeScript(rejections.sql, { params: {} })).resolves.toMatchObject([
          { outcome: "error", message: expect.stringMatching(/Query parameter 'keys' not found/) },
        ]);
      });

      it("a SET whose value does not fit its variable, and a syntax error in a script", async () => {
        const [declare, set] = await analysis.analyzeScript("DECLARE n INT64;\nSET n = 'ten';");
        expect(declare?.outcome).toBe("modelled");
        expect(set).toMatchObject({
          outcome: "error",
          message: expect.stringMatching(/Value of type STRING cannot be assigned to n/),
        });
        const [script] = await analysis.analyzeScript("SELECT 1;\nSELEC 2;");
        expect(script).toMatchObject({ outcome: "error", message: expect.stringMatching(/Syntax error/) });
      });
    });

    describe("speaks BigQuery's dialect", () => {
      const analyze = async (sql: string) => {
        const results = await analysis.analyzeScript(sql);
        return results.map((r) =>
          r.outcome === "error" ? `error: ${r.message?.split("\n")[0]}` : r.outcome,
        );
      };
      const events = `\`${DATASET_PATH}\`.cost_events`;

      it("has QUALIFY, JSON, scripting, DML and BigQuery's DDL", async () => {
        expect(
          await analyze(
            `SELECT event_id FROM ${events} WHERE TRUE QUALIFY ROW_NUMBER() OVER (ORDER BY event_time) = 1`,
          ),
        ).toEqual(["analyzed"]);
        expect(await analyze(`SELECT JSON_VALUE(labels, '$.team') FROM ${events}`)).toEqual(["analyzed"]);
        expect(
          await analyze(
            "CREATE TABLE IF NOT EXISTS `p.d`.t (a STRING NOT NULL, ts TIMESTAMP, j JSON) PARTITION BY DATE(ts) " +
              "CLUSTER BY a OPTIONS (require_partition_filter = TRUE, description = 'x');\n" +
              "ALTER TABLE `p.d`.t ADD COLUMN IF NOT EXISTS a STRING, ADD COLUMN IF NOT EXISTS b INT64;\n" +
              "BEGIN TRANSACTION;\nDELETE FROM `p.d`.t WHERE b = 1;\nCOMMIT TRANSACTION;",
          ),
        ).toEqual(["analyzed", "analyzed", "analyzed", "analyzed", "analyzed"]);
        expect(analysis.catalog.table("p.d.t")?.columns.map((c) => c.name)).toEqual(["a", "ts", "j", "b"]);
      });

      it("carries a DECLAREd variable's type, from its type or its default, to the statements after it", async () => {
        expect(
          await analyze("DECLARE d DEFAULT DATE '2026-11-20';\nSELECT DATE_ADD(d, INTERVAL 1 DAY);"),
        ).toEqual(["modelled", "analyzed"]);
        expect((await analyze("DECLARE d INT64;\nSELECT DATE_ADD(d, INTERVAL 1 DAY);"))[1]).toMatch(
          /^error: No matching signature for function DATE_ADD/,
        );
        expect((await analyze("SELECT d"))[0]).toMatch(/^error: Unrecognized name: d/);
      });

      it("takes BigQuery's table options only, with their types", async () => {
        const create = (options: string) => analyze(`CREATE TABLE \`p.d\`.o (a INT64) OPTIONS (${options})`);
        expect(await create("partition_expiration_days = 30, labels = [('team', 'search')]")).toEqual([
          "analyzed",
        ]);
        expect((await create("require_partition_filtr = TRUE"))[0]).toMatch(
          /^error: Unknown option: require_partition_filtr/,
        );
        expect((await create("require_partition_filter = 'yes'"))[0]).toMatch(
          /^error: .*require_partition_filter/,
        );
      });

      it("lacks what BigQuery lacks: INT32 (product mode external), DML THEN RETURN", async () => {
        expect((await analyze("SELECT CAST(1 AS INT32)"))[0]).toMatch(/^error: Type not found: INT32/);
        expect((await analyze(`DELETE FROM ${events} WHERE TRUE THEN RETURN event_id`))[0]).toMatch(
          /^error: /,
        );
      });
    });

    it("answers refused SQL as an AnalysisError, not as a server failure", async () => {
      await expect(server?.analyze({ sqlStatement: "SELEC 1" })).rejects.toBeInstanceOf(AnalysisError);
    });
  },
);
