import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import type { Writable } from "node:stream";
import { formatCsvRecord } from "#adapters/focus-file/csv.ts";
import { checkReportWindow, reportWindow } from "#app/cost-report.ts";
import { createFocusExport } from "#app/focus-export.ts";
import {
  DEFAULT_BILLING_ACCOUNT,
  FOCUS_EXPORT_COLUMNS,
  FOCUS_GRANULARITIES,
  type FocusGranularity,
} from "#domain/focus-export/focus-row.ts";
import { formatAmount } from "#domain/money.ts";
import { composeRuntime } from "#runtime/compose.ts";
import { type Command, parseCommandArgs, UsageError } from "../cli-args.ts";

const FORMATS = ["focus"] as const;

function write(out: Writable, text: string): Promise<void> {
  return out.write(text) ? Promise.resolve() : new Promise((resolve) => out.once("drain", () => resolve()));
}

function close(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    out.once("error", reject);
    out.end(() => resolve());
  });
}

const money = (totals: ReadonlyMap<string, bigint>) =>
  totals.size === 0
    ? "0.00"
    : [...totals].map(([currency, nanos]) => `${formatAmount(nanos)} ${currency}`).join(", ");

export const exportCommand: Command = {
  name: "export",
  summary: "our attributed costs as FinOps FOCUS rows (CSV), for any FOCUS-reading tool",
  usage: `finops export --format focus [--from DATE] [--to DATE] [--granularity day|hour] [--out FILE]
              [--billing-account ID]

  Writes the attributed costs of the range as FinOps FOCUS 1.2 rows: the same one view the report
  reads (each dollar once: Kubernetes allocations split over the workloads they ran, shared fixed
  costs split by usage), one row per charge period, owner, event type and training job. Its
  BilledCost total over a range is \`finops report\`'s total to the nano. Columns: the FOCUS
  mandatory ones (BilledCost = EffectiveCost = ListCost = ContractedCost, ChargeCategory Usage,
  ServiceCategory "AI and Machine Learning"), SubAccountId/Name (the team), ResourceId/Name (the
  training job, model or namespace), RegionId (training jobs), Tags (a JSON object of team, model,
  model_version, business_unit, cost_center, namespace, environment, training_job) and each
  dimension as an x_ column. Progress goes to standard error, one line per UTC day.

  --format           focus (the only format)
  --from             start, inclusive, UTC (YYYY-MM-DD or ISO date-time on the hour; default 30 days ago)
  --to               end, exclusive, UTC (default the next whole hour)
  --granularity      day (default; a day's period is cut to the range) or hour
  --out              the CSV file to write (default - for standard output); written whole or not at all
  --billing-account  the BillingAccountId of every row (default ${DEFAULT_BILLING_ACCOUNT.id}): events do
                     not name the cloud billing account their cost is billed to`,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      format: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      granularity: { type: "string", default: "day" },
      out: { type: "string", default: "-" },
      "billing-account": { type: "string", default: DEFAULT_BILLING_ACCOUNT.id },
    });
    if (values.format === undefined) throw new UsageError("--format: required (focus)");
    if (!(FORMATS as readonly string[]).includes(values.format))
      throw new UsageError(`--format: one of ${FORMATS.join(", ")}`);
    const granularity = values.granularity as FocusGranularity;
    if (!FOCUS_GRANULARITIES.includes(granularity))
      throw new UsageError(`--granularity: one of ${FOCUS_GRANULARITIES.join(", ")}`);
    const billingAccountId = values["billing-account"].trim();
    if (billingAccountId === "") throw new UsageError("--billing-account: must not be empty");
    const window = reportWindow(new Date(), values.from, values.to, { from: "--from", to: "--to" });
    const target = values.out === "-" ? undefined : values.out;
    // Checked here first too, so a bad range is told before the warehouse is opened.
    checkReportWindow(window);

    const runtime = await composeRuntime({ logLevel: "warn", mustExist: true });
    const partial = target === undefined ? undefined : `${target}.part`;
    let out: Writable | undefined;
    let done = false;
    try {
      const days = createFocusExport({ warehouse: runtime.warehouse })({
        ...window,
        granularity,
        billingAccountId,
        billingAccountName:
          billingAccountId === DEFAULT_BILLING_ACCOUNT.id ? DEFAULT_BILLING_ACCOUNT.name : null,
      });
      out = partial === undefined ? process.stdout : createWriteStream(partial);
      await write(out, formatCsvRecord(FOCUS_EXPORT_COLUMNS));
      let count = 0;
      const totals = new Map<string, bigint>();
      for await (const day of days) {
        await write(
          out,
          day.rows.map((row) => formatCsvRecord(FOCUS_EXPORT_COLUMNS.map((c) => row[c]))).join(""),
        );
        count += day.rows.length;
        for (const [currency, nanos] of day.totals)
          totals.set(currency, (totals.get(currency) ?? 0n) + nanos);
        process.stderr.write(
          `  ${day.from.toISOString().slice(0, 16)}Z  ${String(day.rows.length).padStart(6)} rows  ${money(day.totals)}\n`,
        );
      }
      if (partial !== undefined && target !== undefined) {
        await close(out);
        await rename(partial, target);
      }
      done = true;
      process.stderr.write(
        `wrote ${count} FOCUS rows, ${money(totals)}, ${window.from.toISOString()} to ${window.to.toISOString()}${target === undefined ? "" : ` to ${target}`}\n`,
      );
      return 0;
    } finally {
      if (!done && partial !== undefined && out !== undefined) {
        out.destroy();
        await rm(partial, { force: true });
      }
      await runtime.close();
    }
  },
};
