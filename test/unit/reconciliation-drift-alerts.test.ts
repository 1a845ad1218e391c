import { describe, expect, it } from "vitest";
import { alertToJson, parseAlert } from "#domain/alerts/alert.ts";
import { decimalToNanos } from "#domain/money.ts";
import { driftAlerts, driftAlertToAlert } from "#domain/reconciliation/drift-alerts.ts";
import { type DayAmount, driftTable } from "#domain/reconciliation/drift-table.ts";

const u = decimalToNanos;
const DAY = "2026-11-08";
const estimates: DayAmount[] = [
  {
    day: DAY,
    key: { cloud: "gcp", account: "proj-a", service: "Compute Engine", team: "ml" },
    nanos: u("95"),
  },
  { day: DAY, key: { cloud: "aws", account: "111122223333", service: "AmazonSageMaker" }, nanos: u("7.5") },
];
const billed: DayAmount[] = [
  { day: DAY, key: { cloud: "gcp", account: "proj-a", service: "Compute Engine" }, nanos: u("100") },
  { day: DAY, key: { cloud: "gcp", account: "proj-a", service: "Cloud Storage" }, nanos: u("12.34") },
];
const table = driftTable(estimates, billed, { keys: ["cloud", "account", "service"] });

describe("driftAlerts", () => {
  it("flags each row scope past 10% by default, not the matched 5% one", () => {
    const alerts = driftAlerts(table);
    expect(alerts.map((a) => [a.idempotencyKey, a.relativePercent, a.severity])).toEqual([
      ["reconcile:2026-11-08:cloud=gcp,account=proj%2Da,service=Cloud%20Storage", "100.00", "critical"],
      ["reconcile:2026-11-08:cloud=aws,account=111122223333,service=AmazonSageMaker", null, "critical"],
    ]);
  });

  it("groups rows into coarser scopes with their top contributors", () => {
    const alerts = driftAlerts(table, { scopeBy: ["cloud"], top: 1 });
    expect(alerts.map((a) => ({ ...a, topContributors: a.topContributors.map((r) => r.label) }))).toEqual([
      {
        kind: "reconciliation.drift",
        idempotencyKey: "reconcile:2026-11-08:cloud=gcp",
        day: DAY,
        scope: { cloud: "gcp" },
        scopeLabel: "cloud=gcp",
        estimated: u("95"),
        billed: u("112.34"),
        drift: u("17.34"),
        relative: { num: 867n, den: 5617n },
        relativePercent: "15.44",
        severity: "warning",
        topContributors: ["cloud=gcp,account=proj%2Da,service=Cloud%20Storage"],
      },
      {
        kind: "reconciliation.drift",
        idempotencyKey: "reconcile:2026-11-08:cloud=aws",
        day: DAY,
        scope: { cloud: "aws" },
        scopeLabel: "cloud=aws",
        estimated: u("7.5"),
        billed: 0n,
        drift: u("-7.5"),
        relative: null,
        relativePercent: null,
        severity: "critical",
        topContributors: ["cloud=aws,account=111122223333,service=AmazonSageMaker"],
      },
    ]);
  });

  it("honours minAbsolute and the threshold; the whole day at 8.76% stays quiet at 10%", () => {
    expect(driftAlerts(table, { scopeBy: ["cloud"], minAbsolute: u("10") }).map((a) => a.scopeLabel)).toEqual(
      ["cloud=gcp"],
    );
    expect(driftAlerts(table, { scopeBy: [] })).toEqual([]);
    expect(driftAlerts(table, { scopeBy: [], thresholdPercent: 8.75 }).map((a) => a.idempotencyKey)).toEqual([
      "reconcile:2026-11-08:all",
    ]);
    expect(driftAlerts(table, { thresholdPercent: 5 }).map((a) => a.scopeLabel)).toContain(
      "cloud=gcp,account=proj%2Da,service=Compute%20Engine",
    );
  });

  it("is identical on a re-run", () => {
    const again = driftTable(estimates, billed, { keys: ["cloud", "account", "service"] });
    expect(driftAlerts(again, { scopeBy: ["cloud"] })).toEqual(driftAlerts(table, { scopeBy: ["cloud"] }));
  });

  it("rejects a scope key the table does not have", () => {
    expect(() => driftAlerts(table, { scopeBy: ["team"] })).toThrow(RangeError);
  });

  it("builds a valid Alert", () => {
    const [data] = driftAlerts(table, { scopeBy: ["cloud"] });
    if (!data) throw new Error("expected an alert");
    const alert = driftAlertToAlert(data, { currency: "USD", createdAt: new Date("2026-11-10T02:00:00Z") });
    expect(alert).toMatchObject({
      idempotency_key: "reconcile:2026-11-08:cloud=gcp",
      kind: "reconciliation.drift",
      severity: "warning",
      scope: { cloud: "gcp" },
      amounts: { spend_nanos: u("112.34"), forecast_nanos: u("95"), percent: 15.44, currency: "USD" },
      period: { start: "2026-11-08T00:00:00Z", end: "2026-11-09T00:00:00Z" },
    });
    expect(alert.summary).toContain("Cloud%20Storage");
    const parsed = parseAlert(JSON.parse(alertToJson(alert)));
    expect(parsed.ok).toBe(true);
  });
});
