import { accessSync, constants, createWriteStream, type Stats, statSync, type WriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { formatCsvRecord } from "#adapters/focus-file/csv.ts";
import { reportWindow } from "#app/cost-report.ts";
import { createFocusExport } from "#app/focus-export.ts";
import {
  DEFAULT_BILLING_ACCOUNT,
  FOCUS_EXPORT_COLUMNS,
  FOCUS_GRANULARITIES,
  type FocusGranularity,
} from "#domain/focus-export/focus-row.ts";
import { formatAmount } from "#domain/money.ts";
import {
  type Command,
  FLAG_FIELDS,
  parseCommandArgs,
  rangeFlagsHelp,
  UsageError,
  urlFlagHelp,
} from "../cli-args.ts";
import { systemReason } from "../error-boundary.ts";
import { type Operation, type Output, processOutput, textParams } from "../operation.ts";
import { runOperation } from "../run-operation.ts";

const FORMATS = ["focus"] as const;

const money = (totals: ReadonlyMap<string, bigint>) =>
  totals.size === 0
    ? "0.00"
    : [...totals].map(([currency, nanos]) => `${formatAmount(nanos)} ${currency}`).join(", ");

/** The FOCUS rows of a range as CSV on `out`, a progress line per UTC day on `err`. */
export const exportOperation: Operation = {
  name: "export",
  method: "GET",
  prepare(params, { now }) {
    if (params.format === undefined) throw new UsageError("--format: required (focus)");
    if (!(FORMATS as readonly string[]).includes(params.format))
      throw new UsageError(`--format: one of ${FORMATS.join(", ")}`);
    const granularity = (params.granularity ?? "day") as FocusGranularity;
    if (!FOCUS_GRANULARITIES.includes(granularity))
      throw new UsageError(`--granularity: one of ${FOCUS_GRANULARITIES.join(", ")}`);
    const billingAccountId = (params["billing-account"] ?? DEFAULT_BILLING_ACCOUNT.id).trim();
    if (billingAccountId === "") throw new UsageError("--billing-account: must not be empty");
    const window = reportWindow(now, params.from, params.to, FLAG_FIELDS);
    const target = params.out === undefined || params.out === "-" ? undefined : params.out;
    return async (runtime, output) => {
      const days = createFocusExport({ warehouse: runtime.warehouse })({
        ...window,
        granularity,
        billingAccountId,
        billingAccountName:
          billingAccountId === DEFAULT_BILLING_ACCOUNT.id ? DEFAULT_BILLING_ACCOUNT.name : null,
      });
      await output.out(formatCsvRecord(FOCUS_EXPORT_COLUMNS));
      let count = 0;
      const totals = new Map<string, bigint>();
      for await (const day of days) {
        await output.out(
          day.rows.map((row) => formatCsvRecord(FOCUS_EXPORT_COLUMNS.map((c) => row[c]))).join(""),
        );
        count += day.rows.length;
        for (const [currency, nanos] of day.totals)
          totals.set(currency, (totals.get(currency) ?? 0n) + nanos);
        output.err(
          `  ${day.from.toISOString().slice(0, 16)}Z  ${String(day.rows.length).padStart(6)} rows  ${money(day.totals)}\n`,
        );
      }
      output.err(
        `wrote ${count} FOCUS rows, ${money(totals)}, ${window.from.toISOString()} to ${window.to.toISOString()}${target === undefined ? "" : ` to ${target}`}\n`,
      );
      return 0;
    };
  },
};

/**
 * Says, before any export work, why `target` cannot be written: it is a folder, its folder is
 * missing or not a folder, or the folder cannot be written in.
 */
function checkOutFile(target: string): void {
  const folder = dirname(resolve(target));
  let info: Stats | undefined;
  try {
    info = statSync(folder);
  } catch {}
  if (info === undefined) throw new UsageError(`--out: there is no folder ${folder}; create it first`);
  if (!info.isDirectory()) throw new UsageError(`--out: ${folder} is not a folder`);
  if (statSync(target, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(
      `--out: ${target} is a folder; name a file in it, e.g. ${join(target, "focus.csv")}`,
    );
  try {
    accessSync(folder, constants.W_OK);
  } catch (error) {
    throw new UsageError(`--out: cannot write in ${folder}: ${systemReason(error as NodeJS.ErrnoException)}`);
  }
}

/** Writes to `target` whole or not at all: a .part file beside it, renamed over it by finish(). */
function fileOutput(target: string) {
  const partial = `${target}.part`;
  let stream: WriteStream | undefined;
  let failed: Error | undefined;
  const open = () => {
    if (stream === undefined) {
      stream = createWriteStream(partial);
      stream.on("error", (error) => {
        failed = error;
      });
    }
    return stream;
  };
  const output: Output = {
    out(text) {
      if (failed) return Promise.reject(failed);
      const out = open();
      return out.write(text) ? Promise.resolve() : new Promise((r) => out.once("drain", () => r()));
    },
    err: processOutput.err,
  };
  return {
    output,
    async finish() {
      const out = open();
      await new Promise<void>((resolve, reject) => {
        out.once("error", reject);
        out.end(() => resolve());
      });
      if (failed) throw failed;
      await rename(partial, target);
    },
    async abort() {
      if (stream === undefined) return;
      stream.destroy();
      await rm(partial, { force: true }).catch(() => undefined);
    },
  };
}

export const exportCommand: Command = {
  name: "export",
  summary: "our attributed costs as FinOps FOCUS rows (CSV), for any FOCUS-reading tool",
  usage: `finops export --format focus [--from DATE] [--to DATE] [--granularity day|hour] [--out FILE]
              [--billing-account ID] [--url URL]

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
${rangeFlagsHelp(21)}
  --granularity      day (default; a day's period is cut to the range) or hour
  --out              the CSV file to write (default - for standard output); written whole or not at
                     all, its folder checked before the export starts
  --billing-account  the BillingAccountId of every row (default ${DEFAULT_BILLING_ACCOUNT.id}): events do
                     not name the cloud billing account their cost is billed to
${urlFlagHelp(21)}`,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      format: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      granularity: { type: "string" },
      out: { type: "string" },
      "billing-account": { type: "string" },
      url: { type: "string" },
    });
    const target = values.out === undefined || values.out === "-" ? undefined : values.out;
    const file = target === undefined ? undefined : fileOutput(target);
    try {
      const code = await runOperation(exportOperation, textParams(values, ["url"]), {
        url: values.url,
        before: () => {
          if (target !== undefined) checkOutFile(target);
        },
        ...(file === undefined ? {} : { output: file.output }),
      });
      if (code === 0) await file?.finish();
      else await file?.abort();
      return code;
    } catch (error) {
      await file?.abort();
      throw error;
    }
  },
};
