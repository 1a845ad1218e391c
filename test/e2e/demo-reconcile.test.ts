import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { parseFocusCsv } from "#adapters/focus-file/focus-csv.ts";
import { runDemoReconciliation } from "../../bin/commands/demo-reconcile.ts";
import { runDemo } from "../../bin/commands/local-session.ts";
import { openDemoTestSession, type TestSession, tempDuckDb } from "../support/local-stack-session.ts";

// The demo's reconciliation through the local stack: the synthetic org streamed and rolled up, its
// bill written as a FOCUS CSV and imported, every day reconciled; calibration must cut the drift of
// the day after the first, whatever hour the test runs at (30 hours always span two UTC days).

const HOURS = 30;
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
    expect(lines).toHaveLength(summary.billLines);
    expect(summary.result.days.length).toBeGreaterThanOrEqual(2);
    for (const day of summary.result.days) {
      expect(day.rows.filter((r) => r.status === "unattributed").map((r) => r.key)).toEqual([
        { cloud: "aws", namespace: null, team: null },
      ]);
    }
    const calibrated = summary.calibrated;
    if (calibrated === undefined) throw new Error(`no calibrated day:\n${text}`);
    expect(calibrated.absReconciledDrift).toBeLessThan(calibrated.absDrift);
    const a100 = summary.result.days
      .find((d) => d.day === calibrated.day)
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
