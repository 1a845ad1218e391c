import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { parseFocusCsv } from "#adapters/focus-file/focus-csv.ts";
import { createWarehouseReconciliationStore } from "#adapters/warehouse-reconciliation/warehouse-reconciliation-store.ts";
import { addDays } from "#domain/billing/billed-line.ts";
import { estimateMatchValues, OTHER_FAMILY } from "#domain/reconciliation/bill-grain.ts";
import { calibrationFor } from "#domain/reconciliation/calibration.ts";
import type { DailyEstimate } from "#ports/reconciliation-store.ts";
import { runDemoReconciliation } from "../../bin/commands/demo-reconcile.ts";
import { runDemo } from "../../bin/commands/local-session.ts";
import { openDemoTestSession, type TestSession, tempDuckDb } from "../support/local-stack-session.ts";

// The demo's reconciliation through the local stack: the synthetic org streamed and rolled up, its
// bill written as a FOCUS CSV and imported, every day reconciled; calibration must cut the drift of
// the day after the first, whatever hour the test runs at. Every team's ended day is held to 2%:
// today's is not over (its bill carries a whole day of the month's storage charge, its estimates a
// few hours just after midnight), and 54 hours always hold an ended day after the demo's first.

const HOURS = 54;

/** Per "day|cloud/team", the (cloud, family) pairs its estimates ran on, as calibration keys them. */
function familiesByTeamDay(estimates: readonly DailyEstimate[]): Map<string, [string, string][]> {
  const out = new Map<string, [string, string][]>();
  for (const e of estimates) {
    const team = estimateMatchValues(e).team;
    if (team === null || team === undefined || e.nanos === 0n) continue;
    const id = `${e.day}|${e.cloud}/${team}`;
    out.set(id, [...(out.get(id) ?? []), [e.cloud, e.family ?? OTHER_FAMILY]]);
  }
  return out;
}
const SEED = "e2e-demo-reconcile";
const db = tempDuckDb("finops-demo-reconcile-");
let session: TestSession | undefined;

afterAll(async () => {
  await session?.close();
  db.remove();
});

describe("the demo's reconciliation", () => {
  it("bills each family at its own price, and calibration from the day before cuts the next day's drift", async () => {
    session = await openDemoTestSession(db.path);
    let text = "";
    const out = { write: (chunk: string) => (text += chunk) };
    await runDemo(session, { hours: HOURS, seed: SEED, out });

    const summary = await runDemoReconciliation(session, { hours: HOURS, seed: SEED, out });

    const lines = parseFocusCsv(readFileSync(summary.billFile, "utf8"));
    // The month's storage charge is read as its days' shares; every nano of the bill is kept.
    expect(lines.length).toBeGreaterThan(summary.billLines);
    expect(summary.result.days.length).toBeGreaterThanOrEqual(2);
    // The bill names owners in the clouds' own tags and the cluster and node pool each cost ran on:
    // every day, more than 95% of its usage cost is matched to an estimate (all but the untagged
    // data transfer), and every team's day that calibration covers (each instance family it ran
    // had a factor, learned from the days before) is off by less than 2%, whatever its size.
    const families = familiesByTeamDay(
      await createWarehouseReconciliationStore({ sql: session.runtime.warehouse.sql }).dailyEstimates({
        start: summary.result.days[0]?.day ?? "",
        end: addDays(summary.result.days.at(-1)?.day ?? "", 1),
      }),
    );
    const checked: string[] = [];
    const today = new Date().toISOString().slice(0, 10);
    for (const day of summary.result.days) {
      const matched = day.rows.filter((r) => r.status === "matched").reduce((s, r) => s + r.billed, 0n);
      expect(Number(matched) / Number(day.totals.billed)).toBeGreaterThan(0.95);
      const teams = Map.groupBy(
        day.rows.filter((r) => r.key.team !== null),
        (r) => `${r.key.cloud}/${r.key.team}`,
      );
      for (const [scope, rows] of teams) {
        if (day.day === today) continue;
        const ran = families.get(`${day.day}|${scope}`) ?? [];
        if (!ran.every(([cloud, family]) => calibrationFor(day.factors, cloud, family))) continue;
        const billed = rows.reduce((s, r) => s + r.billed, 0n);
        const drift = rows.reduce((s, r) => s + r.reconciledDrift, 0n);
        expect(Math.abs(Number(drift) / Number(billed)), `${day.day} ${scope}`).toBeLessThan(0.02);
        checked.push(`${day.day} ${scope}`);
      }
    }
    // Both clouds' teams, the small ones too (trust-safety's two instance types, a few dollars a day).
    expect(checked.length, checked.join(", ")).toBeGreaterThanOrEqual(5);
    expect(checked.some((c) => c.endsWith(" aws/trust-safety"))).toBe(true);
    for (const day of summary.result.days) {
      expect(day.rows.filter((r) => r.status === "unattributed").map((r) => r.key)).toEqual([
        { cloud: "aws", namespace: null, team: null },
      ]);
    }
    const calibrated = summary.calibrated;
    if (calibrated === undefined) throw new Error(`no calibrated day:\n${text}`);
    expect(calibrated.absReconciledDrift).toBeLessThan(calibrated.absDrift);
    const a100 = summary.result.days
      .at(-1)
      ?.factors.find((f) => f.cloud === "gcp" && f.family === "nvidia-tesla-a100");
    const factor = Number(a100?.factor.num) / Number(a100?.factor.den);
    expect(factor).toBeGreaterThan(1.03);
    expect(factor).toBeLessThan(1.06);
    expect(text).toMatch(
      new RegExp(
        `calibration from the days before cut ${calibrated.day}'s drift, key by key, from [\\d.]+ USD \\([\\d.]+% of its bill\\) to [\\d.]+ USD \\([\\d.]+%\\)`,
      ),
    );
  });
});
