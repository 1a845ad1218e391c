import {
  type CollectAllocations,
  CollectAllocationsError,
  type CollectSummary,
  MAX_COLLECT_HOURS,
  summaryToJson,
} from "#app/collect-allocations.ts";
import { formatAmount } from "#domain/money.ts";
import { parseUtcInstant } from "#domain/time-range.ts";
import {
  type Command,
  CommandFailure,
  commandAction,
  oneOf,
  parseCommandArgs,
  UsageError,
  urlFlagHelp,
} from "../cli-args.ts";
import { type Operation, textParams } from "../operation.ts";
import { runOperation } from "../run-operation.ts";

const FORMATS = ["table", "json"] as const;

const hourText = (at: Date) => at.toISOString().slice(0, 16).concat("Z");

function summaryText(s: CollectSummary, currency: string): string {
  const usd = (nanos: bigint) => `${formatAmount(nanos)} ${currency}`;
  return (
    `Collected ${hourText(s.window.from)} to ${hourText(s.window.to)} (${s.hours} hour${s.hours === 1 ? "" : "s"}): ` +
    `${s.allocations} allocations, ${s.events} events published\n` +
    `  total ${usd(s.totalNanos)}: attributed ${usd(s.attributedNanos)}, idle ${usd(s.idleNanos)}, ` +
    `unallocated ${usd(s.unallocatedNanos)}\n` +
    (s.gpu === undefined
      ? ""
      : `  GPU split by DCGM ${s.gpu.strategy}: ${usd(s.gpu.attributedNanos)} to pods, ${usd(s.gpu.idleNanos)} idle; ` +
        `${s.gpu.keptNodes} node-hours kept the source's split\n`)
  );
}

/** `finops allocations collect`: the scheduled collection of Kubernetes allocations, for a window. */
export const allocationsCollectOperation: Operation = {
  name: "allocations-collect",
  method: "POST",
  createsWarehouse: true,
  prepare(params, { config }) {
    // Before anything is opened (or created): a command with nothing to collect from stops here.
    if (config.allocations === undefined)
      throw new CommandFailure(
        "no allocations source is configured: add the config file's allocations section (README: Kubernetes)",
      );
    const format = oneOf("--format", params.format, FORMATS, "table");
    if ((params.from === undefined) !== (params.to === undefined))
      throw new UsageError(`${params.from === undefined ? "--from" : "--to"}: required with the other`);
    const window =
      params.from === undefined || params.to === undefined
        ? undefined
        : { from: parseUtcInstant(params.from, "--from"), to: parseUtcInstant(params.to, "--to") };
    return async (runtime, output) => {
      const collector = runtime.collectAllocations as CollectAllocations;
      const currency = runtime.config.allocations?.currency ?? "USD";
      let summary: CollectSummary;
      try {
        summary = await collector.collect(window, (hour, done, of) => {
          if (of > 1)
            output.err(
              `hour ${done} of ${of} (${hourText(hour.window.from)}): ${hour.events} events, ` +
                `${formatAmount(hour.totalNanos)} ${currency}\n`,
            );
        });
      } catch (error) {
        // The window's own faults are the command line's: from:, to: and window: name its flags.
        if (error instanceof CollectAllocationsError && error.code === "invalid")
          throw new UsageError(error.message.replace(/^(from|to|window): /, "--$1: "));
        throw error;
      }
      await output.out(
        format === "json"
          ? `${JSON.stringify(summaryToJson(summary), null, 2)}\n`
          : summaryText(summary, currency),
      );
      return 0;
    };
  },
};

export const allocationsCommand: Command = {
  name: "allocations",
  summary: "collect Kubernetes allocations (Kubecost/OpenCost) for an hour or a backfill window",
  usage: `finops allocations collect [--from TIME --to TIME] [--format table|json] [--url URL]

  Does by hand what collectAllocations does every hour: reads the configured Kubecost or OpenCost
  (the config file's allocations section), hour by hour over the window, splits GPU cost by DCGM
  utilization when allocations.gpuUtilization is set, and publishes each hour's allocations as
  events, which ingest prices, dedupes and stores. Each hour's events are named by the hour, so
  collecting hours again, alone or inside a wider window, adds nothing. Prints a line per hour on
  standard error for a window of several, then the totals: what was fetched, attributed to owners,
  idle and unallocated (they add up to the nano).

  --from     the window's first hour, a whole UTC hour (e.g. 2026-11-01T00:00Z); with --to
  --to       the hour the window ends before; an hour that has ended, at most ${MAX_COLLECT_HOURS} hours
             (31 days) after --from, and none more than 400 days ago. Without both: the previous hour
  --format   table (default) or json (amounts as nano strings)
${urlFlagHelp(13)}`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        from: { type: "string" },
        to: { type: "string" },
        format: { type: "string" },
        url: { type: "string" },
      },
      true,
    );
    commandAction(positionals, ["collect"]);
    return runOperation(allocationsCollectOperation, textParams(values, ["url"]), { url: values.url });
  },
};
