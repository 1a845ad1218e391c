import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { parseUtcInstant } from "#domain/time-range.ts";
import { composeRuntime } from "#runtime/compose.ts";
import { type Config, loadConfig } from "#runtime/config.ts";
import { deliverHere } from "#runtime/deliver-here.ts";
import { type Env, EnvError, readEnv } from "#runtime/env.ts";
import type { Runtime } from "#runtime/runtime.ts";
import { CommandFailure } from "./cli-args.ts";
import { systemReason } from "./error-boundary.ts";
import { type Operation, type Output, type Params, processOutput } from "./operation.ts";
import { askStack } from "./stack-client.ts";
import { findRunningStack } from "./stack-discovery.ts";

/**
 * The instant a command takes as now: FINOPS_NOW when set (an ISO date-time, for output that does
 * not move with the clock: default ranges, jobs judged running or abandoned, the scorecard's window,
 * reconcile's default day), else the clock. It travels with the command to a stack.
 */
export function typedNow(env: Env = readEnv()): Date {
  const pinned = env.FINOPS_NOW;
  if (pinned === undefined) return new Date();
  try {
    return parseUtcInstant(pinned, "FINOPS_NOW");
  } catch (error) {
    throw new EnvError(`environment variable ${(error as Error).message}`);
  }
}

/** The configuration a command runs with, read once. */
export function commandConfig(): { env: Env; config: Config } {
  const env = readEnv();
  return { env, config: loadConfig(env) };
}

/**
 * The stack to ask instead of opening the warehouse: --url when given, else the local stack running
 * on this configuration's warehouse (its discovery file, bin/stack-discovery.ts), else none.
 */
export async function stackToAsk(url: string | undefined, config: Config): Promise<string | undefined> {
  if (url !== undefined) return url;
  if (config.warehouse.kind !== "duckdb") return undefined;
  return findRunningStack(config.warehouse.duckdb.path);
}

/** Creates the local warehouse's folder, or says in one line why it cannot be. */
function ensureWarehouseFolder(config: Config): void {
  if (config.warehouse.kind !== "duckdb") return;
  const folder = dirname(config.warehouse.duckdb.path);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    throw new CommandFailure(
      `cannot create the warehouse folder ${folder}: ${systemReason(error as NodeJS.ErrnoException)} ` +
        "(set FINOPS_DUCKDB_PATH, or the config's warehouse.duckdb.path, to a writable place)",
    );
  }
}

/**
 * Runs `work` over a runtime composed in this process, closed after. `mustExist`: the command only
 * reads, so a missing local warehouse is an error (NoWarehouseError) and nothing is created.
 */
export async function withLocalRuntime<T>(
  setup: { env: Env; config: Config; mustExist: boolean },
  work: (runtime: Runtime) => Promise<T>,
): Promise<T> {
  if (!setup.mustExist) ensureWarehouseFolder(setup.config);
  const runtime = await composeRuntime({
    env: setup.env,
    logLevel: "warn",
    mustExist: setup.mustExist,
    // Standard output is the command's answer (a JSON report, a CSV).
    consoleAlerts: (text) => process.stderr.write(`${text}\n`),
  });
  try {
    const delivered = await deliverHere(runtime);
    try {
      return await work(runtime);
    } finally {
      await delivered();
    }
  } finally {
    await runtime.close();
  }
}

export interface RunOptions {
  /** --url: the stack to ask, whatever runs locally. */
  url?: string | undefined;
  /** Where the text goes (default this process's stdout and stderr). */
  output?: Output;
  /** A file the stack needs (billing import): read only when a stack is asked. */
  attachment?: () => Promise<Buffer>;
  /** Checked here first (an --out file's folder), after the flags and before any work. */
  before?: () => void;
}

/**
 * Runs a command's operation where the warehouse is: its flags read first (a usage error opens
 * nothing), then on the running stack when there is one, else over the warehouse opened here.
 */
export async function runOperation(operation: Operation, params: Params, options: RunOptions = {}) {
  const { env, config } = commandConfig();
  const now = typedNow(env);
  const run = operation.prepare(params, { now, config });
  options.before?.();
  const output = options.output ?? processOutput;
  const stack = await stackToAsk(options.url, config);
  if (stack !== undefined) {
    return askStack(stack, operation, params, now, output, await options.attachment?.());
  }
  return withLocalRuntime({ env, config, mustExist: operation.createsWarehouse !== true }, (runtime) =>
    run(runtime, output),
  );
}
