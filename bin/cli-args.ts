import { type ParseArgsConfig, parseArgs } from "node:util";
import { type RangeFields, rangeHelp } from "#domain/time-range.ts";

/** A command-line usage error: one line pointing at the command's --help, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A failure that is not the command line's fault: one line saying what is wrong and what to do, exit code 1. */
export class CommandFailure extends Error {
  override readonly name = "CommandFailure";
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * A node:util parseArgs error in one line. Its messages go on with advice over several sentences
 * (how to pass a positional that starts with a dash, to a command that takes files): the first
 * names the problem; for a value starting with a dash, how to give one is kept.
 */
export function argsErrorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const first = message.split(/\.\s|\n/)[0] ?? message;
  const dashed = /use '(--[\w-]+)=-XYZ'/.exec(message)?.[1];
  return dashed === undefined ? first : `${first}: give a value that starts with a dash as ${dashed}=-…`;
}

export function parseCommandArgs<T extends Options>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(argsErrorLine(error));
  }
}

/** The value of a flag that takes one of `values`, `fallback` when it is not given; a usage error naming the flag otherwise. */
export function oneOf<V extends string>(
  flag: string,
  text: string | undefined,
  values: readonly V[],
  fallback: V,
): V {
  const value = text ?? fallback;
  if (!(values as readonly string[]).includes(value))
    throw new UsageError(`${flag}: one of ${values.join(", ")}`);
  return value as V;
}

/** A flag's value as a whole number, or a usage error naming the flag and what was given. */
export function wholeNumber(flag: string, text: string): number {
  if (!/^\d+$/.test(text.trim()))
    throw new UsageError(`${flag}: ${JSON.stringify(text)} is not a whole number`);
  return Number(text);
}

/** The action a command's one positional names (`budgets check`), one of `actions`, or a usage error saying which. */
export function commandAction<A extends string>(positionals: readonly string[], actions: readonly A[]): A {
  const [action, ...extra] = positionals;
  const choices = actions.join(" or ");
  if (action === undefined) throw new UsageError(`name an action: ${choices}`);
  if (!(actions as readonly string[]).includes(action))
    throw new UsageError(`unknown action ${JSON.stringify(action)}: ${choices}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  return action as A;
}

/** The flags' names on a command line, as errors and help say them. */
export const FLAG_FIELDS: RangeFields = { from: "--from", to: "--to" };

/** `text` wrapped to lines of at most `width` characters, each after the first indented by `indent` spaces. */
export function wrap(text: string, indent: number, width = 104): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.join(`\n${" ".repeat(indent)}`);
}

/** One flag's help: `  --name   text`, the text wrapped under itself; `column` is where the text starts. */
export function flagHelp(flag: string, text: string, column: number): string {
  return `  ${flag.padEnd(column - 2)}${wrap(text, column)}`;
}

/** --from and --to, said the same way by every command that reads a range (shared/domain/time-range.ts). */
export function rangeFlagsHelp(column: number): string {
  const help = rangeHelp(FLAG_FIELDS);
  return `${flagHelp("--from", help.from, column)}\n${flagHelp("--to", help.to, column)}`;
}

/** --url, said the same way by every command that can ask a running stack; `more` adds to it. */
export function urlFlagHelp(column: number, more = ""): string {
  return flagHelp(
    "--url",
    `ask the finops stack at URL (e.g. http://127.0.0.1:8080)${more}. Without --url, a finops start ` +
      "running on this warehouse is found and asked on its own; with none, the warehouse file is opened",
    column,
  );
}

/** A TCP port from a flag or variable: a whole number 0..65535 (0: any free port). */
export function parsePort(text: string, flag = "--port"): number {
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(port) || port > 65_535)
    throw new UsageError(
      `${flag}: ${JSON.stringify(text)} is not a port (a whole number 0..65535; 0: any free one)`,
    );
  return port;
}
