#!/usr/bin/env node
import { ReportQueryError } from "#app/cost-report.ts";
import { ScorecardQueryError } from "#app/scorecard.ts";
import { PriceCatalogError } from "#domain/pricing/catalog.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";
import { ConfigError } from "#runtime/config.ts";
import { EnvError } from "#runtime/env.ts";
import { NoWarehouseError } from "#runtime/warehouse-file.ts";
import { type Command, UsageError } from "./cli-args.ts";
import { billingCommand } from "./commands/billing.ts";
import { budgetsCommand } from "./commands/budgets.ts";
import { demoCommand } from "./commands/demo.ts";
import { exportCommand } from "./commands/export.ts";
import { ingestCommand } from "./commands/ingest.ts";
import { jobsCommand } from "./commands/jobs.ts";
import { reconcileCommand } from "./commands/reconcile.ts";
import { reportCommand } from "./commands/report.ts";
import { schemasCommand } from "./commands/schemas.ts";
import { scorecardCommand } from "./commands/scorecard.ts";
import { startCommand } from "./commands/start.ts";

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

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(help());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`finops: unknown command ${JSON.stringify(name)}\n\n${help()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof ReportQueryError ||
      error instanceof ScorecardQueryError
    ) {
      process.stderr.write(`finops ${command.name}: ${error.message}\n\n${command.usage}\n`);
      return 2;
    }
    if (error instanceof NoWarehouseError) {
      process.stderr.write(`finops ${command.name}: ${error.message}\n`);
      return 1;
    }
    if (error instanceof WarehouseError && /lock/i.test(error.message)) {
      process.stderr.write(
        `finops ${command.name}: the DuckDB file is in use by another process (a running \`finops start\`?).\n` +
          "  Stop it, point FINOPS_DUCKDB_PATH elsewhere, or for reports ask the running stack: finops report --url http://127.0.0.1:8080\n",
      );
      return 1;
    }
    if (error instanceof ConfigError || error instanceof EnvError || error instanceof PriceCatalogError) {
      process.stderr.write(`finops ${command.name}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
