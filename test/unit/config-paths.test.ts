import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "#runtime/config.ts";

describe("local file paths in the configuration", () => {
  it("keep the console notifier's JSONL beside the warehouse file, wherever FINOPS_DUCKDB_PATH points", () => {
    const config = loadConfig({ FINOPS_DUCKDB_PATH: "/tmp/elsewhere/finops.duckdb" }, "/work/nowhere");
    expect(config.alerts.consoleFile).toBe(join("/tmp/elsewhere", "slack-messages.jsonl"));
  });

  it("default to ./data under the working directory", () => {
    const config = loadConfig({}, "/work/nowhere");
    expect(config.warehouse.duckdb.path).toBe(join("/work/nowhere", "data", "finops.duckdb"));
    expect(config.alerts.consoleFile).toBe(join("/work/nowhere", "data", "slack-messages.jsonl"));
  });
});
