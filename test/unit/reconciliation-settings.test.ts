import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decimalToNanos } from "#domain/money.ts";
import { reconciliationSettings } from "#domain/reconciliation/reconciliation-settings.ts";
import { ConfigError, loadConfig, parseConfig } from "#runtime/config.ts";

describe("the reconciliation settings", () => {
  it("default to a 7-day window settled after 2 days, 10% and 25 USD, cloud/namespace/team, no sources", () => {
    expect(reconciliationSettings()).toEqual({
      windowDays: 7,
      settleDays: 2,
      currency: "USD",
      costColumn: "effective",
      matchKeys: ["cloud", "namespace", "team"],
      alertScope: ["cloud", "team"],
      thresholdPercent: 10,
      minAbsoluteDrift: decimalToNanos("25"),
      ownerMapping: { keys: {}, keyCase: "auto", values: {} },
      topContributors: 3,
      calibration: { lookbackDays: 14, minDays: 3, clamp: [0.5, 2] },
      clouds: {},
      sources: [],
    });
  });

  it("names the field of every mistake", () => {
    const raw = {
      version: 1,
      reconciliation: {
        matchKeys: ["cloud", "account"],
        alertScope: ["team"],
        minAbsoluteDrift: "lots",
        calibration: { minDays: 20 },
        sources: [{ kind: "aws-cost-explorer", billingAccountId: "12" }],
      },
    };
    const message = parseConfigError(raw);
    expect(message).toMatch(/reconciliation\.matchKeys\.1: /);
    expect(message).toMatch(/reconciliation\.minAbsoluteDrift: must be a decimal amount/);
    expect(message).toMatch(/reconciliation\.calibration: minDays must not exceed lookbackDays/);
    expect(message).toMatch(
      /reconciliation\.sources\.0\.billingAccountId: must be a 12-digit AWS account id/,
    );
    const scope = parseConfigError({
      version: 1,
      reconciliation: { matchKeys: ["cloud"], alertScope: ["team"] },
    });
    expect(scope).toMatch(/reconciliation\.alertScope\.0: team is not one of matchKeys/);
    const mapping = parseConfigError({
      version: 1,
      reconciliation: {
        ownerMapping: { keys: { squad: ["x"] } },
        sources: [{ kind: "focus-file", path: "a.csv", ownerMapping: { keyCase: "sometimes" } }],
      },
    });
    expect(mapping).toMatch(/reconciliation\.ownerMapping\.keys: Unrecognized key: "squad"/);
    expect(mapping).toMatch(/reconciliation\.sources\.0\.ownerMapping\.keyCase: /);
    const names = parseConfigError({
      version: 1,
      reconciliation: {
        sources: [
          { kind: "focus-file", name: "x", path: "a.csv" },
          { kind: "focus-file", name: "x", path: "b.csv" },
        ],
      },
    });
    expect(names).toMatch(/reconciliation\.sources\.1\.name: x is also the name of sources\.0/);
  });

  it("resolves a FOCUS file source against the config file's directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "finops-recon-config-"));
    writeFileSync(
      join(dir, "finops.config.json"),
      JSON.stringify({
        version: 1,
        reconciliation: { sources: [{ kind: "focus-file", path: "bills/onprem.csv" }] },
      }),
    );
    const config = loadConfig({ FINOPS_CONFIG: join(dir, "finops.config.json") });
    expect(config.reconciliation.sources).toEqual([
      { kind: "focus-file", path: join(dir, "bills/onprem.csv") },
    ]);
  });
});

function parseConfigError(raw: unknown): string {
  try {
    parseConfig(raw, "finops.config.json");
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return "";
}
