import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "#runtime/config.ts";

const root = mkdtempSync(join(tmpdir(), "finops-config-paths-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The working directory of these tests, and a config folder elsewhere. */
const cwd = join(root, "work");
const confDir = join(root, "elsewhere", "conf");
mkdirSync(cwd, { recursive: true });
mkdirSync(confDir, { recursive: true });

/** Writes `body` as a config file in the config folder and returns its path. */
function configFile(name: string, body: Record<string, unknown>): string {
  const file = join(confDir, name);
  writeFileSync(file, JSON.stringify({ version: 1, ...body }));
  return file;
}

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

describe("a config file in another folder (FINOPS_CONFIG)", () => {
  it("leaves the default warehouse under the working directory, not beside the config file", () => {
    const file = configFile("no-paths.json", { budgets: [] });

    const config = loadConfig({ FINOPS_CONFIG: file }, cwd);

    expect(config.baseDir).toBe(confDir);
    expect(config.warehouse.duckdb.path).toBe(join(cwd, "data", "finops.duckdb"));
    expect(config.alerts.consoleFile).toBe(join(cwd, "data", "slack-messages.jsonl"));
  });

  it("resolves a relative FINOPS_CONFIG and a relative FINOPS_DUCKDB_PATH against the working directory", () => {
    configFile("relative.json", { warehouse: { duckdb: { path: "in-file.duckdb" } } });

    const config = loadConfig(
      { FINOPS_CONFIG: "../elsewhere/conf/relative.json", FINOPS_DUCKDB_PATH: "store/mine.duckdb" },
      cwd,
    );

    expect(config.baseDir).toBe(confDir);
    // The environment wins over the file, and is read as a shell path: from the working directory.
    expect(config.warehouse.duckdb.path).toBe(join(cwd, "store", "mine.duckdb"));
    expect(config.alerts.consoleFile).toBe(join(cwd, "store", "slack-messages.jsonl"));
  });

  it("reads a file saved with a UTF-8 byte-order mark", () => {
    const file = join(confDir, "bom.json");
    writeFileSync(
      file,
      `\uFEFF${JSON.stringify({ version: 1, warehouse: { duckdb: { path: "w.duckdb" } } })}`,
    );

    expect(loadConfig({ FINOPS_CONFIG: file }, cwd).warehouse.duckdb.path).toBe(join(confDir, "w.duckdb"));
  });

  it("resolves every path written in the file against the file's folder", () => {
    const file = configFile("all-paths.json", {
      pricing: { catalog: "prices/catalog.json", regionFallback: { gcp: "us-central1" } },
      warehouse: { duckdb: { path: "../warehouse/finops.duckdb" } },
      alerts: { consoleFile: "alerts/slack.jsonl" },
      reconciliation: {
        sources: [
          { kind: "focus-file", path: "bills/onprem.focus.csv" },
          { kind: "focus-file", name: "abs", path: "/srv/bills/abs.csv" },
        ],
      },
    });

    const config = loadConfig({ FINOPS_CONFIG: file }, cwd);

    expect(config.pricing.catalogPath).toBe(join(confDir, "prices", "catalog.json"));
    expect(config.pricing.regionFallback).toEqual({ gcp: "us-central1" });
    expect(config.warehouse.duckdb.path).toBe(join(root, "elsewhere", "warehouse", "finops.duckdb"));
    expect(config.alerts.consoleFile).toBe(join(confDir, "alerts", "slack.jsonl"));
    expect(config.reconciliation.sources.map((s) => (s.kind === "focus-file" ? s.path : s.kind))).toEqual([
      join(confDir, "bills", "onprem.focus.csv"),
      "/srv/bills/abs.csv",
    ]);
  });

  it("puts the console notifier's JSONL beside a warehouse the file names", () => {
    const file = configFile("warehouse-only.json", { warehouse: { duckdb: { path: "db/finops.duckdb" } } });

    const config = loadConfig({ FINOPS_CONFIG: file }, cwd);

    expect(config.warehouse.duckdb.path).toBe(join(confDir, "db", "finops.duckdb"));
    expect(config.alerts.consoleFile).toBe(join(confDir, "db", "slack-messages.jsonl"));
  });

  it("./finops.config.json in the working directory is read the same way", () => {
    writeFileSync(
      join(cwd, "finops.config.json"),
      JSON.stringify({ version: 1, warehouse: { duckdb: { path: "here.duckdb" } } }),
    );
    try {
      expect(loadConfig({}, cwd).warehouse.duckdb.path).toBe(join(cwd, "here.duckdb"));
    } finally {
      rmSync(join(cwd, "finops.config.json"));
    }
  });

  it("refuses an empty warehouse path and a regionFallback for an unknown cloud, naming the field", () => {
    const empty = configFile("empty-path.json", { warehouse: { duckdb: { path: "" } } });
    const cloud = configFile("bad-cloud.json", { pricing: { regionFallback: { moon: "sea-1" } } });

    expect(() => loadConfig({ FINOPS_CONFIG: empty }, cwd)).toThrow(ConfigError);
    expect(() => loadConfig({ FINOPS_CONFIG: empty }, cwd)).toThrow(/warehouse\.duckdb\.path/);
    expect(() => loadConfig({ FINOPS_CONFIG: cloud }, cwd)).toThrow(/pricing\.regionFallback/);
  });
});
