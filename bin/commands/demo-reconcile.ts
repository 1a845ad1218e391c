import { writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { formatFocusCsv } from "#adapters/focus-file/focus-csv.ts";
import { createWarehouseReconciliationStore } from "#adapters/warehouse-reconciliation/warehouse-reconciliation-store.ts";
import type { ReconcileDailyResult } from "#app/reconcile-daily.ts";
import { addDays, dayOf } from "#domain/billing/billed-line.ts";
import { demoBill } from "#domain/demo/demo-bill.ts";
import { formatAmount, type Nanos } from "#domain/money.ts";
import { formatPercent, formatRatio, ratio } from "#domain/reconciliation/ratio.ts";
import type { DayReconciliation } from "#domain/reconciliation/reconcile-days.ts";
import { formatTable, type ReportColumn } from "#domain/report-format.ts";
import { demoWindow } from "./demo-feed.ts";
import type { DemoOut, LocalSession } from "./local-session.ts";

/** The demo's bill is written next to the warehouse file, and imported under this name. */
export const DEMO_BILL_FILE = "demo-bill.focus.csv";

export interface DemoReconciliationSummary {
  billFile: string;
  billLines: number;
  result: ReconcileDailyResult;
  /** The first day reconciled with calibration factors, and its key-by-key drift before and after. */
  calibrated?: { day: string; absDrift: Nanos; absReconciledDrift: Nanos; billed: Nanos };
}

/** The path relative to the working directory when it is inside it. */
function shownPath(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside.startsWith("..") ? path : inside;
}

const share = (part: Nanos, whole: Nanos) => (whole === 0n ? "—" : `${formatPercent(ratio(part, whole))}%`);

function dayTable(days: readonly DayReconciliation[], currency: string): string {
  const money = (key: string, heading: string): ReportColumn => ({
    key,
    heading,
    kind: "money",
    amountKey: key,
  });
  const record = (
    day: string,
    t: Pick<
      DayReconciliation["totals"],
      "estimated" | "reconciled" | "billed" | "absDrift" | "absReconciledDrift"
    >,
  ) => ({
    day,
    currency,
    estimated: t.estimated,
    reconciled: t.reconciled,
    billed: t.billed,
    abs_drift: t.absDrift,
    abs_drift_share: share(t.absDrift, t.billed),
    abs_reconciled_drift: t.absReconciledDrift,
    abs_reconciled_drift_share: share(t.absReconciledDrift, t.billed),
  });
  const sum = (pick: (d: DayReconciliation) => Nanos) => days.reduce((s, d) => s + pick(d), 0n);
  const total = record("", {
    estimated: sum((d) => d.totals.estimated),
    reconciled: sum((d) => d.totals.reconciled),
    billed: sum((d) => d.totals.billed),
    absDrift: sum((d) => d.totals.absDrift),
    absReconciledDrift: sum((d) => d.totals.absReconciledDrift),
  });
  const text = formatTable(
    {
      columns: [
        { key: "day", kind: "text" },
        { key: "currency", kind: "text" },
        money("estimated", "estimated"),
        money("reconciled", "reconciled"),
        money("billed", "billed"),
        money("abs_drift", "Σ|billed − estimated|"),
        { key: "abs_drift_share", heading: "of bill", kind: "text" },
        money("abs_reconciled_drift", "Σ|billed − reconciled|"),
        { key: "abs_reconciled_drift_share", heading: "of bill", kind: "text" },
      ],
      rows: days.map((d) => record(d.day, d.totals)),
      totals: [total],
    },
    "table",
  );
  return text
    .trimEnd()
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}

/**
 * The reconciliation half of the demo: writes the bill of the demo's days (demoBill: each instance
 * family at its own true price, and untagged AWS data transfer) as a FOCUS CSV next to the warehouse,
 * imports it as `finops billing import` does, reconciles every day of the demo (settled or not: the
 * demo's bill is complete) with factors learned from as little as one day before, and shows that
 * calibration cuts the next day's drift.
 */
export async function runDemoReconciliation(
  session: LocalSession,
  options: { hours: number; seed: string; out: DemoOut },
): Promise<DemoReconciliationSummary> {
  const { runtime } = session;
  const { out } = options;
  const window = demoWindow(runtime.clock.now(), options.hours);
  const first = dayOf(window.from);
  const last = dayOf(new Date(window.to.getTime() - 1));
  const days: string[] = [];
  for (let day = first; day <= last; day = addDays(day, 1)) days.push(day);

  out.write("\nReconciliation against the bill (the demo's own: FOCUS CSV, imported, then reconcileDaily)\n");
  const store = createWarehouseReconciliationStore({ sql: runtime.warehouse.sql });
  // The bill covers the month so far: its month-long storage charge lands on every day of it, and
  // a day with a bill line must be billed whole (the monthly licence's days before the demo too).
  const estimates = await store.dailyEstimates({ start: `${first.slice(0, 7)}-01`, end: addDays(last, 1) });
  const lines = demoBill(estimates, options.seed);
  const billFile = join(dirname(runtime.config.warehouse.duckdb.path), DEMO_BILL_FILE);
  writeFileSync(billFile, formatFocusCsv(lines));
  const imported = await runtime.importBill.importFile(billFile);
  out.write(
    `  wrote ${shownPath(billFile)}: ${lines.length} lines (each instance family at its own true price, ` +
      "owners, clusters and node pools in each cloud's own tags, a month's storage, " +
      "AWS compute under a Savings Plan bought upfront, " +
      `AWS data transfer no estimate covers); imported ${imported.lines} daily lines as source ${imported.source}\n`,
  );

  const result = await runtime.reconcileDaily.reconcile({ days, calibration: { minDays: 1 } });
  const currency = result.currency;
  out.write(`${dayTable(result.days, currency)}\n`);
  const lastDay = result.days.at(-1);
  if (lastDay && lastDay.factors.length > 0) {
    out.write(
      `  factors learned for ${lastDay.day} from the days before: ` +
        `${lastDay.factors.map((f) => `${f.cloud}/${f.family} ×${formatRatio(f.factor)}`).join(", ")}\n`,
    );
  }
  for (const day of result.days) {
    for (const row of day.rows.filter((r) => r.status !== "matched")) {
      out.write(
        `  ${day.day} ${row.status}: ${day.keys.map((k) => row.key[k] ?? "—").join(" / ")}, ` +
          `estimated ${formatAmount(row.estimated)}, billed ${formatAmount(row.billed)} ${currency}\n`,
      );
    }
  }
  const summary: DemoReconciliationSummary = { billFile, billLines: lines.length, result };
  const next = result.days.find((d) => d.factors.length > 0 && d.totals.billed > 0n);
  if (next) {
    const { absDrift, absReconciledDrift, billed } = next.totals;
    summary.calibrated = { day: next.day, absDrift, absReconciledDrift, billed };
    const unattributed = next.rows
      .filter((r) => r.status === "unattributed")
      .reduce((s, r) => s + r.billed, 0n);
    out.write(
      `  calibration from the days before ${absReconciledDrift < absDrift ? "cut" : "did not cut"} ${next.day}'s drift, key by key, from ` +
        `${formatAmount(absDrift)} ${currency} (${share(absDrift, billed)} of its bill) to ` +
        `${formatAmount(absReconciledDrift)} ${currency} (${share(absReconciledDrift, billed)}), of which ` +
        `${formatAmount(unattributed)} ${currency} is billed cost no estimate covers\n`,
    );
    out.write(`  that day's drift table: npx finops reconcile --date ${next.day} --min-days 1\n`);
  } else {
    out.write(
      "  calibration needs a day of bill before the day it corrects: run the demo with --hours 48 or more\n",
    );
  }
  return summary;
}
