import { ImportBillError } from "#app/import-bill.ts";
import { BillingSourceError } from "#ports/billing-source.ts";
import { composeRuntime } from "#runtime/compose.ts";
import { type Command, parseCommandArgs, UsageError } from "../cli-args.ts";

export const billingCommand: Command = {
  name: "billing",
  summary: "load a bill (FOCUS CSV or Parquet) into the local store for reconciliation",
  usage: `finops billing import --file PATH [--source NAME]

  Reads a bill in the FinOps FOCUS layout (1.0-1.2): CSV, or Parquet when PATH ends in .parquet.
  Each line is kept by the day its charge period starts; x_namespace / x_team / x_model columns,
  else the Tags' k8s-namespace / team / model keys, name its owner. The lines are stored under the
  source name, replacing that source's lines of every day from the file's first day to its last, so
  importing a corrected file again replaces, never adds. \`finops reconcile\` then reads them.

  --file     the FOCUS file
  --source   the name its lines are stored under (default the file's name)`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      { file: { type: "string" }, source: { type: "string" } },
      true,
    );
    const [action, ...extra] = positionals;
    if (action !== "import")
      throw new UsageError(
        action === undefined ? "name an action: import" : `unknown action ${JSON.stringify(action)}: import`,
      );
    if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    if (values.file === undefined) throw new UsageError("--file: required");

    const runtime = await composeRuntime({ logLevel: "warn", mustExist: true });
    try {
      const result = await runtime.importBill.importFile(values.file, {
        ...(values.source === undefined ? {} : { source: values.source }),
      });
      if (result.period === null) {
        process.stdout.write(`${values.file}: no lines, nothing imported\n`);
        return 0;
      }
      const currencies = Object.entries(result.currencies)
        .map(([currency, n]) => `${n} in ${currency}`)
        .join(", ");
      process.stdout.write(
        `Imported ${result.lines} daily lines (${currencies}) as source ${result.source}, ` +
          `replacing its days ${result.period.start} to ${result.period.end} (exclusive)\n`,
      );
      return 0;
    } catch (error) {
      if (error instanceof ImportBillError) throw new UsageError(`--${error.message}`);
      if (error instanceof BillingSourceError) {
        process.stderr.write(`finops billing: ${error.message}\n`);
        return 1;
      }
      throw error;
    } finally {
      await runtime.close();
    }
  },
};
