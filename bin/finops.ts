#!/usr/bin/env node
import type { Command } from "./cli-args.ts";
import { allocationsCommand } from "./commands/allocations.ts";
import { billingCommand } from "./commands/billing.ts";
import { budgetsCommand } from "./commands/budgets.ts";
import { demoCommand } from "./commands/demo.ts";
import { exportCommand } from "./commands/export.ts";
import { ingestCommand } from "./commands/ingest.ts";
import { jobsCommand } from "./commands/jobs.ts";
import { mlflowCommand } from "./commands/mlflow.ts";
import { reconcileCommand } from "./commands/reconcile.ts";
import { reportCommand } from "./commands/report.ts";
import { schemasCommand } from "./commands/schemas.ts";
import { scorecardCommand } from "./commands/scorecard.ts";
import { startCommand } from "./commands/start.ts";
import { failureLine } from "./error-boundary.ts";

const COMMANDS: readonly Command[] = [
  startCommand,
  demoCommand,
  ingestCommand,
  reportCommand,
  exportCommand,
  budgetsCommand,
  jobsCommand,
  reconcileCommand,
  billingCommand,
  allocationsCommand,
  mlflowCommand,
  scorecardCommand,
  schemasCommand,
];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `finops: AI cost attribution, local stack and operator commands

Usage: finops <command> [options]   (finops <command> --help for its options)

Commands:
${lines.join("\n")}
`;
}

/** The command named first, while one runs (for the one line of an error thrown out of its reach). */
let running: string | undefined;

/** Prints `error` as the one line the boundary makes of it and exits with its code. */
function fail(error: unknown): never {
  const { code, line } = failureLine(running, error);
  process.stderr.write(`${line}\n`);
  process.exit(code);
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(help());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`finops: unknown command ${JSON.stringify(name)} (see finops --help)\n`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  running = command.name;
  try {
    return await command.run(rest);
  } catch (error) {
    const { code, line } = failureLine(command.name, error);
    process.stderr.write(`${line}\n`);
    return code;
  }
}

// Whatever escapes a command (an error on a stream, a rejection nobody awaited) is told in one line too.
process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);
// A reader that stops early (finops report | head) is not a failure.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  fail(error);
});

process.exitCode = await main(process.argv.slice(2));
