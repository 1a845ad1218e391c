import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { type Dialect, loadSql, SqlTemplateError, sqlRoot } from "./load-sql.ts";

/**
 * The report views: every sql/<dialect>/views/<name>.sql is one SELECT that the warehouse creates as
 * the view <name> at init (infra/ deploys the BigQuery ones too), for BI tools and for checks.
 */
export function reportViewNames(dialect: Dialect): string[] {
  const dir = join(sqlRoot(), dialect, "views");
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir)
    .filter((file) => file.endsWith(".sql"))
    .map((file) => file.slice(0, -".sql".length));
  const selects = new Map(names.sort().map((name) => [name, uses(dialect, name, names)]));
  const ordered: string[] = [];
  const visit = (name: string, path: readonly string[]) => {
    if (ordered.includes(name)) return;
    if (path.includes(name)) {
      throw new SqlTemplateError(`${dialect}/views: ${[...path, name].join(" → ")} select from each other`);
    }
    for (const used of selects.get(name) ?? []) visit(used, [...path, name]);
    ordered.push(name);
  };
  for (const name of selects.keys()) visit(name, []);
  return ordered;
}

/** The other views a view selects from (its text without comments names them). */
function uses(dialect: Dialect, name: string, names: readonly string[]): string[] {
  const code = loadSql(dialect, `views/${name}`, { dataset: "" }).replace(/--.*$/gm, "");
  return names.filter((other) => other !== name && new RegExp(`\\b${other}\\b`).test(code));
}

/**
 * CREATE OR REPLACE VIEW for each report view, in an order where each comes after the views it
 * selects from. `target` names the view where it is created (`dataset`.name on BigQuery).
 */
export function createViewStatements(
  dialect: Dialect,
  target: (name: string) => string,
  identifiers: Record<string, string> = {},
): string[] {
  return reportViewNames(dialect).map((name) => {
    const select = loadSql(dialect, `views/${name}`, identifiers).trim().replace(/;\s*$/, "");
    return `CREATE OR REPLACE VIEW ${target(name)} AS\n${select}`;
  });
}
