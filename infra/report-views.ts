import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { expandSqlIncludes } from "#adapters/sql/load-sql.ts";
import { maskQuoted, stripComments } from "./sql-text.ts";

/**
 * The report views: every sql/bigquery/views/<name>.sql is one SELECT over `{{dataset}}` that becomes
 * the view <name> in the dataset (for Looker Studio or any BI tool). No folder, no views.
 */
export interface ViewSpec {
  viewId: string;
  file: string;
  /** The SELECT with its `{{dataset}}` placeholders, without a trailing semicolon. */
  query: string;
  /** Other report views it selects from: they are created first. */
  uses: readonly string[];
}

export class ViewError extends Error {
  override readonly name = "ViewError";
}

const VIEW_ID = /^[A-Za-z_][A-Za-z0-9_]{0,1023}$/;

function readView(dir: string, file: string): Omit<ViewSpec, "uses"> {
  const viewId = basename(file, ".sql");
  if (!VIEW_ID.test(viewId)) throw new ViewError(`views/${file}: ${viewId} is not a BigQuery table name`);
  // Parts shared with other queries (`{{include:one_view}}`) sit beside the views folder.
  const query = expandSqlIncludes(
    readFileSync(join(dir, file), "utf8"),
    (part) => readFileSync(join(dir, "..", `${part}.sql`), "utf8"),
    `views/${file}`,
  )
    .trim()
    .replace(/;\s*$/, "");
  const code = maskQuoted(stripComments(query));
  if (!/^\s*(WITH|SELECT)\b/i.test(code)) throw new ViewError(`views/${file}: a view is one SELECT`);
  if (code.includes(";")) throw new ViewError(`views/${file}: a view is one statement, found a ";" inside`);
  const parameter = /@\w+/.exec(code);
  if (parameter) throw new ViewError(`views/${file}: a view cannot take query parameters (${parameter[0]})`);
  return { viewId, file, query };
}

/** Puts each view after the views it selects from, so BigQuery can check it when it is created. */
function inDependencyOrder(views: readonly Omit<ViewSpec, "uses">[]): ViewSpec[] {
  const byId = new Map(views.map((v) => [v.viewId, v]));
  const ordered: ViewSpec[] = [];
  const visiting = new Set<string>();
  const visit = (view: Omit<ViewSpec, "uses">) => {
    if (ordered.some((v) => v.viewId === view.viewId)) return;
    if (visiting.has(view.viewId))
      throw new ViewError(`views/${view.file}: views select from each other in a cycle`);
    visiting.add(view.viewId);
    const code = stripComments(view.query);
    const uses = [...byId.keys()].filter(
      (id) => id !== view.viewId && new RegExp(`\\{\\{dataset\\}\\}\`?\\.\`?${id}\\b`).test(code),
    );
    for (const id of uses) visit(byId.get(id) as Omit<ViewSpec, "uses">);
    visiting.delete(view.viewId);
    ordered.push({ ...view, uses });
  };
  for (const view of views) visit(view);
  return ordered;
}

export function readReportViews(dir: string): ViewSpec[] {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".sql"))
    .map((entry) => entry.name)
    .sort();
  return inDependencyOrder(files.map((file) => readView(dir, file)));
}

/** Fills the `{{placeholder}}`s of a view; any placeholder without a value is an error naming the file. */
export function renderView(view: ViewSpec, values: Readonly<Record<string, string>>): string {
  return view.query.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new ViewError(`views/${view.file}: no value for {{${name}}}`);
    return value;
  });
}
