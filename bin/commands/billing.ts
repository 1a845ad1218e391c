import { constants } from "node:fs";
import { access, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatAmount } from "#domain/money.ts";
import type { BillAttribution } from "#domain/reconciliation/bill-attribution.ts";
import { formatPercent, ratio } from "#domain/reconciliation/ratio.ts";
import {
  type Command,
  CommandFailure,
  commandAction,
  parseCommandArgs,
  UsageError,
  urlFlagHelp,
} from "../cli-args.ts";
import { systemReason } from "../error-boundary.ts";
import { type Operation, textParams } from "../operation.ts";
import { runOperation } from "../run-operation.ts";

function unreadable(file: string, error: unknown): CommandFailure {
  return new CommandFailure(`--file: cannot read ${file}: ${systemReason(error as NodeJS.ErrnoException)}`);
}

/** Reads the bill file here, for a stack: a failure told as checkBillFile tells it. */
async function readBillFile(file: string): Promise<Buffer> {
  return readFile(file).catch((error: unknown) => {
    throw unreadable(file, error);
  });
}

/** Whether the bill file can be read here (a folder cannot). */
async function checkBillFile(file: string): Promise<void> {
  try {
    if ((await stat(file)).isDirectory()) throw Object.assign(new Error("EISDIR"), { code: "EISDIR" });
    await access(file, constants.R_OK);
  } catch (error) {
    throw unreadable(file, error);
  }
}

/**
 * `finops billing import`: in this process it reads --file; in a stack, the file arrives as the
 * body and is read from a temporary copy under the same name (its name is the default source, and
 * .parquet says its format), named as the user named it in every message.
 */
export const billingImportOperation: Operation = {
  name: "billing-import",
  method: "POST",
  prepare(params) {
    const file = params.file;
    if (file === undefined || file === "") throw new UsageError("--file: required");
    const source = params.source ?? baseName(file);
    return async (runtime, output, attachment) => {
      let path = file;
      let copy: string | undefined;
      if (attachment === undefined) await checkBillFile(file);
      else {
        copy = await mkdtemp(join(tmpdir(), "finops-bill-"));
        // The same name (its extension says the format), never a path out of the copy's folder.
        const name = baseName(file);
        path = join(copy, name === "" || name === "." || name === ".." ? "bill" : name);
        await writeFile(path, attachment);
      }
      try {
        const result = await runtime.importBill.importFile(path, {
          source,
          progress: (rows) => output.err(`read ${rows.toLocaleString("en-US")} rows of ${file}\n`),
        });
        if (result.period === null) {
          await output.out(`${file}: no lines, nothing imported\n`);
          return 0;
        }
        const currencies = Object.entries(result.currencies)
          .map(([currency, n]) => `${n} in ${currency}`)
          .join(", ");
        await output.out(
          `Imported ${result.lines} daily lines (${currencies}) as source ${result.source}, ` +
            `replacing its days ${result.period.start} to ${result.period.end} (exclusive)\n`,
        );
        for (const attribution of result.attribution) await output.out(attributionText(attribution));
        return 0;
      } catch (error) {
        if (copy !== undefined && error instanceof Error && error.message.includes(path))
          error.message = error.message.split(path).join(file);
        throw error;
      } finally {
        if (copy !== undefined) await rm(copy, { recursive: true, force: true });
      }
    };
  },
};

/** Tag keys shown at most, most unattributed cost first. */
const UNMAPPED_SHOWN = 8;

/** How much of the bill's usage names an owner, and the tag keys no mapping reads (README: Reconciliation). */
export function attributionText(a: BillAttribution): string {
  const share = a.usage === 0n ? "—" : `${formatPercent(ratio(a.attributed, a.usage))}%`;
  let text =
    `  usage attributed to a team or namespace: ${share} ` +
    `(${formatAmount(a.attributed)} of ${formatAmount(a.usage)} ${a.currency})\n`;
  if (a.unmappedKeys.length > 0) {
    const shown = a.unmappedKeys
      .slice(0, UNMAPPED_SHOWN)
      .map((k) => `${k.key} (${formatAmount(k.nanos)} ${a.currency})`)
      .join(", ");
    const more = a.unmappedKeys.length - UNMAPPED_SHOWN;
    text +=
      `  tag keys on unattributed usage that no ownerMapping reads: ${shown}${more > 0 ? `, and ${more} more` : ""}\n` +
      "  map one with reconciliation.ownerMapping.keys (README: Reconciliation)\n";
  }
  return text;
}

const baseName = (path: string) => path.split(/[\\/]/).pop() ?? path;

export const billingCommand: Command = {
  name: "billing",
  summary: "load a bill (FOCUS CSV or Parquet) into the local store for reconciliation",
  usage: `finops billing import --file PATH [--source NAME] [--url URL]

  Reads a bill in the FinOps FOCUS layout (1.0-1.2): CSV, or Parquet when PATH ends in .parquet.
  Each charge is spread over the UTC days its charge period covers, every nano handed out; a
  purchase is kept but left out of the daily drift. Its owner comes from x_namespace / x_team /
  x_model / x_cost_center / x_environment columns when the file has them, else from its Tags through
  reconciliation.ownerMapping (the defaults read the usual GKE, EKS and Azure keys; README: Map a
  bill's tags to owners). The lines are stored under the source name, replacing that source's lines
  of every day from the file's first day to its last, so importing a corrected file again replaces,
  never adds. It prints the share of usage it could attribute and the tag keys no mapping reads.
  \`finops reconcile\` then reads them.

  --file     the FOCUS file
  --source   the name its lines are stored under (default the file's name)
${urlFlagHelp(13, ", sending it the file (up to its local.maxInFlightBytes, 16 MiB by default)")}`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      { file: { type: "string" }, source: { type: "string" }, url: { type: "string" } },
      true,
    );
    commandAction(positionals, ["import"]);
    const file = values.file;
    return runOperation(billingImportOperation, textParams(values, ["url"]), {
      url: values.url,
      attachment: () => readBillFile(file ?? ""),
    });
  },
};
