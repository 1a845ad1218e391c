import type { Nanos } from "../money.ts";
import type { ReportTable } from "../report-format.ts";

/** Estimated, reconciled and billed cost of one day and one value of the dimension shown. */
export interface ReconciliationLine {
  day: string;
  /** The team (or namespace, cloud); null for cost without one (bill lines without the label, unowned estimates). */
  value: string | null;
  currency: string;
  estimated: Nanos;
  reconciled: Nanos;
  billed: Nanos;
  /** billed − estimated. */
  drift: Nanos;
}

/** Estimated vs reconciled (calibrated) vs billed, per day and value of `by`, with the drift. */
export function reconciliationTable(lines: readonly ReconciliationLine[], by: string): ReportTable {
  const money = (key: keyof ReconciliationLine) =>
    ({ key: `${key}_nanos`, heading: key, kind: "money", amountKey: key, total: true }) as const;
  return {
    columns: [
      { key: "day", kind: "text" },
      { key: by, kind: "text" },
      { key: "currency", kind: "text" },
      money("estimated"),
      money("reconciled"),
      money("billed"),
      money("drift"),
    ],
    rows: lines.map((l) => ({
      day: l.day,
      [by]: l.value,
      currency: l.currency,
      estimated_nanos: l.estimated,
      reconciled_nanos: l.reconciled,
      billed_nanos: l.billed,
      drift_nanos: l.drift,
    })),
  };
}
