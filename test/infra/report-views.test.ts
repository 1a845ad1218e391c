import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readReportViews, renderView } from "../../infra/report-views.ts";

function viewsDir(files: Record<string, string>): string {
  const dir = join(mkdtempSync(join(tmpdir(), "finops-views-")), "views");
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("report views", () => {
  it("makes each .sql file a view named after it, placing views after the views they read", () => {
    const dir = viewsDir({
      "a_total.sql": "-- total\nSELECT SUM(cost) AS cost FROM `{{dataset}}`.b_by_team;\n",
      "b_by_team.sql": "WITH t AS (SELECT team, cost FROM `{{dataset}}.cost_hourly`) SELECT * FROM t",
      "notes.md": "not a view",
    });
    const views = readReportViews(dir);
    expect(views.map((v) => [v.viewId, v.uses])).toEqual([
      ["b_by_team", []],
      ["a_total", ["b_by_team"]],
    ]);
    expect(views[1]?.query.endsWith(";")).toBe(false);
    expect(renderView(views[1] as (typeof views)[number], { dataset: "p.d" })).toContain(
      "FROM `p.d`.b_by_team",
    );
  });

  it("has no views when the folder is missing or empty", () => {
    expect(readReportViews(join(tmpdir(), "finops-no-such-folder"))).toEqual([]);
    expect(readReportViews(viewsDir({}))).toEqual([]);
  });

  it("refuses a file that is not one SELECT, takes parameters, or names an unknown placeholder", () => {
    expect(() => readReportViews(viewsDir({ "x.sql": "DELETE FROM t WHERE true" }))).toThrow(
      /views\/x\.sql: a view is one SELECT/,
    );
    expect(() => readReportViews(viewsDir({ "x.sql": "SELECT 1; SELECT 2" }))).toThrow(/one statement/);
    expect(() => readReportViews(viewsDir({ "x.sql": "SELECT * FROM t WHERE day = @day" }))).toThrow(/@day/);
    expect(() => readReportViews(viewsDir({ "bad-name.sql": "SELECT 1" }))).toThrow(
      /bad-name is not a BigQuery table name/,
    );
    const [view] = readReportViews(viewsDir({ "x.sql": "SELECT * FROM `{{project}}.t`" }));
    expect(() => renderView(view as NonNullable<typeof view>, { dataset: "p.d" })).toThrow(
      /x\.sql: no value for \{\{project\}\}/,
    );
  });

  it("does not mistake a quoted @ or ; for code", () => {
    const [view] = readReportViews(viewsDir({ "x.sql": "SELECT 'a@b; c' AS s -- @not a parameter\n" }));
    expect(view?.viewId).toBe("x");
  });
});
