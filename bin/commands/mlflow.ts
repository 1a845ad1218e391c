import {
  type ImportMlflowRuns,
  importSummaryToJson,
  type MlflowImportSummary,
} from "#app/import-mlflow-runs.ts";
import {
  type Command,
  CommandFailure,
  commandAction,
  oneOf,
  parseCommandArgs,
  urlFlagHelp,
} from "../cli-args.ts";
import { type Operation, textParams } from "../operation.ts";
import { runOperation } from "../run-operation.ts";

const FORMATS = ["table", "json"] as const;

function summaryText(s: MlflowImportSummary): string {
  const experiments = s.experiments.map((e) => `${e.experiment} (id ${e.id})`).join(", ") || "no experiment";
  const lines = [
    `Read ${s.runs} runs of ${experiments}: ${s.imported} imported, ${s.scheduled} scheduled, ${s.skipped} skipped`,
    `  ${s.events} events: ${s.accepted} accepted, ${s.duplicates} duplicates, ${s.conflicts} conflicts, ` +
      `${s.rejected.length} rejected`,
    ...s.unread.map((u) => `  not read: ${u.experiment}: ${u.reason}`),
    ...s.skippedRuns.map(
      (r) =>
        `  skipped run ${r.run_id ?? "(no id)"}: ${r.missing === undefined ? r.reason : `lacks ${r.missing.join("; ")}`}`,
    ),
    ...(s.skipped > s.skippedRuns.length
      ? [`  and ${s.skipped - s.skippedRuns.length} more skipped runs`]
      : []),
    ...s.rejected.slice(0, 10).map((r) => `  rejected ${r.id ?? `event ${r.index}`}: ${r.reason}`),
  ];
  return `${lines.join("\n")}\n`;
}

/** `finops mlflow import`: the scheduled import of MLflow runs, now. */
export const mlflowImportOperation: Operation = {
  name: "mlflow-import",
  method: "POST",
  createsWarehouse: true,
  prepare(params, { config }) {
    // Before anything is opened (or created): a command with nothing to import from stops here.
    if (config.training.mlflowImport === undefined)
      throw new CommandFailure(
        "no MLflow import is configured: add the config file's training.mlflowImport section (README: MLflow)",
      );
    const format = oneOf("--format", params.format, FORMATS, "table");
    return async (runtime, output) => {
      const summary = await (runtime.importMlflowRuns as ImportMlflowRuns).import();
      await output.out(
        format === "json"
          ? `${JSON.stringify(importSummaryToJson(summary), null, 2)}\n`
          : summaryText(summary),
      );
      return 0;
    };
  },
};

export const mlflowCommand: Command = {
  name: "mlflow",
  summary: "import the configured MLflow experiments' runs as training jobs, now",
  usage: `finops mlflow import [--format table|json] [--url URL]

  Does by hand what importMlflowRuns does every hour: reads the running runs of the configured
  experiments (training.mlflowImport) and those that ended in the last lookbackHours, and ingests
  each run's training job events, priced by placement × GPU count × elapsed time. Importing again
  adds nothing. Prints what was read, imported and skipped (each skipped run with what it lacks or
  what is wrong in it), and what ingest made of the events.

  --format   table (default) or json
${urlFlagHelp(13)}`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      { format: { type: "string" }, url: { type: "string" } },
      true,
    );
    commandAction(positionals, ["import"]);
    return runOperation(mlflowImportOperation, textParams(values, ["url"]), { url: values.url });
  },
};
