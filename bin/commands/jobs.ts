import { reportWindow } from "#app/cost-report.ts";
import { createTrainingCosts } from "#app/training-costs.ts";
import { formatAmount } from "#domain/money.ts";
import type { JobSummary, OutcomeTotals } from "#domain/training/job-summary.ts";
import { fixedClock } from "#ports/clock.ts";
import {
  type Command,
  FLAG_FIELDS,
  oneOf,
  parseCommandArgs,
  rangeFlagsHelp,
  UsageError,
  urlFlagHelp,
} from "../cli-args.ts";
import { type Operation, textParams } from "../operation.ts";
import { runOperation } from "../run-operation.ts";

const FORMATS = ["table", "json"] as const;

function duration(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}`;
}

function table(head: string[], rows: string[][], numericFrom: number): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const render = (r: string[]) =>
    r
      .map((c, i) => (i >= numericFrom ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [render(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(render)].join("\n");
}

function jobsTable(jobs: readonly JobSummary[]): string {
  const rows = [...jobs]
    .sort((a, b) => (a.cost_nanos === b.cost_nanos ? 0 : a.cost_nanos > b.cost_nanos ? -1 : 1))
    .map((j) => [
      j.job_id,
      j.team,
      j.model,
      j.outcome,
      duration(j.duration_seconds),
      j.gpu_hours === null ? "" : j.gpu_hours.toFixed(1),
      j.epochs === null ? "" : String(j.epochs),
      `${formatAmount(j.cost_nanos)} ${j.currency}`,
      j.cost_per_epoch_nanos === null ? "" : formatAmount(j.cost_per_epoch_nanos),
    ]);
  return table(
    ["job", "team", "model", "outcome", "duration", "gpu-h", "epochs", "cost", "per epoch"],
    rows,
    4,
  );
}

function outcomesTable(totals: readonly OutcomeTotals[]): string {
  const rows = totals.flatMap((t) =>
    Object.entries(t.by_outcome).map(([outcome, o]) => [
      outcome,
      String(o.jobs),
      `${formatAmount(o.cost_nanos)} ${t.currency}`,
      t.cost_nanos === 0n ? "" : `${formatAmount((o.cost_nanos * 100n * 1_000_000_000n) / t.cost_nanos, 1)}%`,
    ]),
  );
  return table(["outcome", "jobs", "cost", "share"], rows, 1);
}

/** The jobs of a window, as `finops jobs` prints them (in this process or in the stack). */
export const jobsOperation: Operation = {
  name: "jobs",
  method: "GET",
  prepare(params, { now }) {
    const format = oneOf("--format", params.format, FORMATS, "table");
    const silence = params.silence === undefined ? undefined : Number(params.silence);
    if (silence !== undefined && (!Number.isFinite(silence) || silence <= 0)) {
      throw new UsageError("--silence: a positive number of minutes");
    }
    const window = reportWindow(now, params.from, params.to, FLAG_FIELDS);
    return async (runtime, output) => {
      // Judged at the instant the command was typed, wherever it runs (here or in a stack).
      const costs = createTrainingCosts({
        readJobs: (q) => runtime.warehouse.trainingJobs(q),
        clock: fixedClock(now),
        silenceSeconds: Math.round((silence ?? runtime.config.training.silenceMinutes) * 60),
      });
      const result = await costs.report(window);
      if (format === "json") {
        const json = JSON.stringify(result, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2);
        await output.out(`${json}\n`);
        return 0;
      }
      await output.out(`${jobsTable(result.jobs)}\n\n${outcomesTable(result.byOutcome)}\n`);
      for (const t of result.byOutcome) {
        if (t.abandoned_share !== null) {
          await output.out(
            `\nabandoned jobs: ${(t.abandoned_share * 100).toFixed(1)}% of ${t.currency} training cost\n`,
          );
        }
      }
      return 0;
    };
  },
};

export const jobsCommand: Command = {
  name: "jobs",
  summary: "training jobs: duration, GPU hours, cost, cost per epoch, and cost by outcome",
  usage: `finops jobs [--from DATE] [--to DATE] [--silence MINUTES] [--format table|json] [--url URL]

  Every training job with events in the window: its outcome (finished, failed, running, or abandoned
  when it stopped sending heartbeats for --silence minutes, default training.silenceMinutes of the
  config or 30; its cost so far is charged), duration, GPU hours, epochs, cost as the rollup charges
  it, and cost per epoch; then the cost per outcome and the abandoned share.

${rangeFlagsHelp(17)}
  --silence      minutes without a heartbeat after which a running job counts as abandoned
  --format       table (default) or json (amounts as nano strings)
${urlFlagHelp(17)}`,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      from: { type: "string" },
      to: { type: "string" },
      silence: { type: "string" },
      format: { type: "string" },
      url: { type: "string" },
    });
    return runOperation(jobsOperation, textParams(values, ["url"]), { url: values.url });
  },
};
