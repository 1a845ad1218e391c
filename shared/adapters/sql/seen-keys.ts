import { type Dialect, loadNamedSql } from "./load-sql.ts";

export type SeenKeysStatement = "create" | "claim" | "restore" | "forget";

/** The statements of sql/<dialect>/seen_keys.sql, by name. */
export function seenKeysStatements(dialect: Dialect, identifiers: Record<string, string> = {}) {
  const names: readonly SeenKeysStatement[] = ["create", "claim", "restore", "forget"];
  return Object.fromEntries(
    names.map((n) => [n, loadNamedSql(dialect, "seen_keys", n, identifiers)]),
  ) as Record<SeenKeysStatement, string>;
}
