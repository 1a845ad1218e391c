import { describe, expect, it } from "vitest";
import { expandSqlIncludes } from "#adapters/sql/load-sql.ts";

const files: Record<string, string> = {
  outer: "-- a part\na AS (SELECT 1),\n{{include:inner}}",
  inner: "-- another part\nb AS (SELECT 2)",
  loop: "{{include:loop}}",
};
const read = (name: string) => {
  const text = files[name];
  if (text === undefined) throw new Error(`no ${name}`);
  return text;
};

describe("SQL includes", () => {
  it("pastes parts recursively, without their comment lines", () => {
    expect(expandSqlIncludes("WITH {{include:outer}}\nSELECT * FROM b", read, "q.sql")).toBe(
      "WITH a AS (SELECT 1),\nb AS (SELECT 2)\nSELECT * FROM b",
    );
  });

  it("refuses a cycle, naming the file and the chain", () => {
    expect(() => expandSqlIncludes("{{include:loop}}", read, "q.sql")).toThrow(/q\.sql: .*loop → loop/);
  });
});
