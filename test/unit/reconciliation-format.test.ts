import { describe, expect, it } from "vitest";
import { decimalToNanos } from "#domain/money.ts";
import { reconcileDays } from "#domain/reconciliation/reconcile-days.ts";
import { formatReconciliation } from "#domain/reconciliation/reconciliation-format.ts";

const u = decimalToNanos;
const KEYS = ["cloud", "namespace", "team"] as const;
const est = (day: string, usd: string) => ({
  day,
  cloud: "gcp",
  namespace: "search",
  team: "search",
  family: "nvidia-l4",
  nanos: u(usd),
});

const days = reconcileDays({
  days: ["2026-11-01", "2026-11-02"],
  estimates: [est("2026-11-01", "100"), est("2026-11-02", "200")],
  billed: [
    { day: "2026-11-01", key: { cloud: "gcp", namespace: "search", team: "search" }, nanos: u("110") },
    { day: "2026-11-02", key: { cloud: "gcp", namespace: "search", team: "search" }, nanos: u("219.5") },
    { day: "2026-11-02", key: { cloud: "aws", namespace: null, team: null }, nanos: u("4.25") },
  ],
  keys: KEYS,
  calibration: { lookbackDays: 7, minDays: 1 },
}).map((d) => ({ ...d, settled: d.day === "2026-11-01" }));
const report = { currency: "USD", days };

describe("formatReconciliation", () => {
  it("prints the rows of every day, the period's total, and each day's drift before and after calibration", () => {
    const text = formatReconciliation(report, "table");
    const lines = text.split("\n");
    expect(lines[0]).toMatch(
      /^day\s+cloud\s+namespace\s+team\s+status\s+estimated\s+reconciled\s+billed\s+drift\s+drift %\s+calibrated drift %$/,
    );
    expect(text).toMatch(
      /2026-11-02\s+aws\s+—\s+—\s+unattributed\s+0\.00 USD\s+0\.00 USD\s+4\.25 USD\s+4\.25 USD\s+\+100\.00%/,
    );
    expect(text).toMatch(
      /TOTAL\s+300\.00 USD\s+320\.00 USD\s+333\.75 USD\s+33\.75 USD\s+\+10\.11%\s+\+4\.12%/,
    );
    expect(text).toContain(
      "2026-11-02 (not settled yet: the bill may still change): 1 matched, 1 unattributed, 0 over-estimated",
    );
    expect(text).toContain("  drift +23.75 USD (+10.61% of billed); calibrated +3.75 USD (+1.68% of billed)");
    expect(text).toContain("  calibration factors: gcp/nvidia-l4 ×1.1000 (1 day)");
    expect(text).toContain("    gcp / search / search: +19.50 USD (matched)");
  });

  it("gives exact amounts in JSON and the rows in CSV", () => {
    const json = JSON.parse(formatReconciliation(report, "json"));
    expect(json.days[1].totals).toMatchObject({ estimated: "200", reconciled: "220", billed: "223.75" });
    expect(json.days[1].factors[0]).toMatchObject({
      family: "nvidia-l4",
      factor: "1.100000",
      factor_num: "11",
    });
    expect(json.days[1].rows[0]).toMatchObject({
      billed_nanos: "219500000000",
      billed: "219.5",
      status: "matched",
    });
    const csv = formatReconciliation(report, "csv").trimEnd().split("\n");
    expect(csv[0]).toBe(
      "day,cloud,namespace,team,status,currency,estimated_nanos,estimated,reconciled_nanos,reconciled,billed_nanos,billed,drift_nanos,drift,drift_percent,reconciled_drift_percent",
    );
    expect(csv).toHaveLength(4);
  });

  it("says when there is no bill at all", () => {
    const empty = reconcileDays({
      days: ["2026-11-05"],
      estimates: [est("2026-11-05", "1")],
      billed: [],
      keys: KEYS,
      calibration: { lookbackDays: 7, minDays: 1 },
    }).map((d) => ({ ...d, settled: true }));
    expect(formatReconciliation({ currency: "USD", days: empty }, "table")).toBe(
      "No bill for 2026-11-05 (estimates of gcp wait for one): import one with `finops billing import` or configure reconciliation.sources.\n",
    );
  });
});
