import type { Config } from "#runtime/config.ts";
import type { Runtime } from "#runtime/runtime.ts";

/**
 * What a command does once its flags are read, written once and run in either of two places: in
 * this process over the warehouse it opens, or in the local stack that holds the warehouse (asked
 * over HTTP at /cli/<name>, bin/stack-endpoints.ts). Either way the same code prints the same text
 * and returns the same exit code; only where the text travels differs.
 */

/** The command's flags, as text (what a query string carries). */
export type Params = Readonly<Record<string, string>>;

/** Where a command's text goes: standard output (or the file it writes) and standard error. */
export interface Output {
  /** Writes to standard output (or the command's file), resolving when it may write more. */
  out(text: string): Promise<void>;
  /** Progress and notes for standard error. */
  err(text: string): void;
}

export interface OperationContext {
  /** The instant the command was typed: defaults (the range's end) are taken from it, wherever it runs. */
  now: Date;
  config: Config;
}

/** The prepared work: runs over a runtime, writing to `output`; `attachment` is a file the command sent along. */
export type Run = (runtime: Runtime, output: Output, attachment?: Buffer) => Promise<number>;

export interface Operation {
  /** Its path under /cli/ on a stack. */
  name: string;
  /** GET for what only reads; POST for what writes (and a body). */
  method: "GET" | "POST";
  /**
   * It stores the estimates it reads from elsewhere (allocations, runs), so in this process it creates
   * the local warehouse when there is none, as `finops ingest` does; the others refuse to.
   */
  createsWarehouse?: true;
  /**
   * Reads the flags (usage errors here, before anything is opened) and returns the work. The same
   * function reads them in the CLI and, from the query string, in the stack.
   */
  prepare(params: Params, context: OperationContext): Run;
}

/** Standard output and error of this process. */
export const processOutput: Output = {
  out(text) {
    return process.stdout.write(text)
      ? Promise.resolve()
      : new Promise((resolve) => process.stdout.once("drain", () => resolve()));
  },
  err(text) {
    process.stderr.write(text);
  },
};

/** The defined string values of parsed flags (`url` and the like left out by the caller). */
export function textParams(values: Readonly<Record<string, unknown>>, omit: readonly string[] = []): Params {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (typeof value === "string" && !omit.includes(name)) params[name] = value;
  }
  return params;
}
