import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { ReportQueryError } from "#app/cost-report.ts";
import { ImportBillError } from "#app/import-bill.ts";
import { ReconcileDailyError } from "#app/reconcile-daily.ts";
import { ScorecardQueryError } from "#app/scorecard.ts";
import { PriceCatalogError } from "#domain/pricing/catalog.ts";
import { TimeRangeError } from "#domain/time-range.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";
import { ConfigError } from "#runtime/config.ts";
import { EnvError } from "#runtime/env.ts";
import { NoWarehouseError } from "#runtime/warehouse-file.ts";
import { CommandFailure, UsageError } from "./cli-args.ts";
import { isRunning, readStackFile, type StackFile, sameFile } from "./stack-discovery.ts";

/**
 * The CLI's one error boundary: every failure, whatever threw it, becomes one line saying what is
 * wrong and what to do, and an exit code: 2 for a usage or configuration error (the line points at
 * the command's --help), 1 for a failure. Never a stack trace. A stack answering for a command
 * (bin/stack-endpoints.ts) describes its failures the same way, so the line is the same either way.
 */
export interface Failure {
  /** 2: the command line (or the configuration) is wrong; 1: something else failed. */
  code: 1 | 2;
  /** One line, without the `finops <command>:` prefix. */
  message: string;
  /** Point at `finops <command> --help` after the message. */
  usage: boolean;
}

/** A failure a stack reported for a command it ran: told as it was described there. */
export class RemoteFailure extends Error {
  override readonly name = "RemoteFailure";
  readonly code: 1 | 2;
  constructor(message: string, code: number) {
    super(message);
    this.code = code === 2 ? 2 : 1;
  }
}

/** One line: the lines of a message joined with "; ", the indentation dropped. */
export function oneLine(text: string): string {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join("; ")
    .replace(/:;/g, ":");
}

const SYSTEM_REASONS: Readonly<Record<string, string>> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOENT: "no such file or folder",
  EISDIR: "it is a folder",
  ENOTDIR: "a part of the path is not a folder",
  ENOSPC: "no space left on the disk",
  EMFILE: "too many open files",
};

/** What a Node system error (code, syscall, path) means, in words. */
export function systemReason(error: NodeJS.ErrnoException): string {
  return (error.code === undefined ? undefined : SYSTEM_REASONS[error.code]) ?? error.message;
}

function isSystemError(error: unknown): error is NodeJS.ErrnoException & { address?: string; port?: number } {
  const code = (error as NodeJS.ErrnoException).code;
  return error instanceof Error && typeof code === "string" && /^E[A-Z0-9_]+$/.test(code);
}

/** A live finops stack whose discovery file is in `folder` (the warehouse's; its alert log, claims and seen keys lie beside it). */
function stackIn(folder: string): StackFile | undefined {
  let names: string[] = [];
  try {
    names = readdirSync(folder).filter((name) => name.endsWith(".stack.json"));
  } catch {}
  for (const name of names) {
    const file = readStackFile(join(folder, name.slice(0, -".stack.json".length)));
    if (file !== undefined && isRunning(file.pid)) return file;
  }
  return undefined;
}

/** DuckDB's lock refusal, told with who holds the file: a finops stack (its URL) or another process. */
function lockMessage(message: string): string {
  const path = /file "([^"]+)"/.exec(message)?.[1];
  const pid = /PID (\d+)/.exec(message)?.[1];
  const stack = path === undefined ? undefined : stackIn(dirname(path));
  if (stack !== undefined && path !== undefined && sameFile(path, stack.warehouse)) {
    return `the warehouse ${path} is held by the finops stack at ${stack.url} (pid ${stack.pid}), which did not take this command: the commands that can ask it do so while it answers (if it does not, see its log); stop it to run this one`;
  }
  if (stack !== undefined) {
    return `${path} is held by the finops stack at ${stack.url} (pid ${stack.pid}), whose warehouse ${stack.warehouse} shares this folder (the alert log, claims and seen keys live beside a warehouse): stop it, or give this warehouse a folder of its own`;
  }
  return (
    `the warehouse${path === undefined ? "" : ` ${path}`} is in use by another process` +
    `${pid === undefined ? "" : ` (pid ${pid})`}, a finops ingest, demo or start: wait for it to finish or stop it, ` +
    "or point FINOPS_DUCKDB_PATH elsewhere"
  );
}

function warehouseMessage(error: WarehouseError): string {
  const text = oneLine(error.message);
  const open = /Cannot open file "([^"]+)": (.+)$/i.exec(text);
  if (open) {
    return `cannot open the warehouse ${open[1]}: ${open[2]?.toLowerCase()} (make its folder writable, or set FINOPS_DUCKDB_PATH to a writable place)`;
  }
  return text;
}

function systemMessage(error: NodeJS.ErrnoException & { address?: string; port?: number }): string {
  if (error.code === "EADDRINUSE") {
    const where =
      error.port === undefined ? "" : ` ${error.port}${error.address ? ` on ${error.address}` : ""}`;
    return `port${where} is in use by another process: pick another with --port N (or PORT), or stop that process`;
  }
  if (error.code === "EADDRNOTAVAIL" || (error.code === "EACCES" && error.syscall === "listen")) {
    return `cannot listen on port ${error.port ?? ""}: ${error.code === "EACCES" ? "permission denied (ports below 1024 need privileges): pick another with --port N" : "no such address"}`;
  }
  const verb: Readonly<Record<string, string>> = {
    mkdir: "cannot create the folder",
    open: "cannot open",
    read: "cannot read",
    write: "cannot write",
    rename: "cannot write",
    scandir: "cannot read the folder",
    stat: "cannot find",
  };
  const what = `${(error.syscall && verb[error.syscall]) ?? "cannot use"}${error.path ? ` ${error.path}` : ""}`;
  return `${what}: ${systemReason(error)}`;
}

/** The one line and exit code for any error a command threw. */
export function describeFailure(error: unknown): Failure {
  if (error instanceof RemoteFailure)
    return { code: error.code, message: error.message, usage: error.code === 2 };
  // DuckDB lets one process open a file: whichever store refused, say who holds it.
  if (error instanceof Error && /Could not set lock on file/i.test(error.message)) {
    return { code: 1, message: lockMessage(oneLine(error.message)), usage: false };
  }
  if (error instanceof ReportQueryError || error instanceof ScorecardQueryError) {
    // The query names its parameter (by, days); on a command line that is the flag.
    const flagged = error.field === "" || error.field.startsWith("--") ? error.message : `--${error.message}`;
    return { code: 2, message: oneLine(flagged), usage: true };
  }
  if (error instanceof UsageError || error instanceof TimeRangeError) {
    return { code: 2, message: oneLine(error.message), usage: true };
  }
  if (error instanceof ImportBillError)
    return { code: 2, message: oneLine(`--${error.message}`), usage: true };
  if (error instanceof ReconcileDailyError && error.code === "invalid_option") {
    return { code: 2, message: oneLine(error.message), usage: true };
  }
  if (error instanceof ConfigError || error instanceof EnvError || error instanceof PriceCatalogError) {
    return { code: 2, message: oneLine(error.message), usage: false };
  }
  if (error instanceof NoWarehouseError || error instanceof CommandFailure) {
    return { code: 1, message: oneLine(error.message), usage: false };
  }
  if (error instanceof WarehouseError) return { code: 1, message: warehouseMessage(error), usage: false };
  if (isSystemError(error)) return { code: 1, message: systemMessage(error), usage: false };
  if (error instanceof Error) return { code: 1, message: oneLine(error.message) || error.name, usage: false };
  return { code: 1, message: oneLine(String(error)), usage: false };
}

/** The line a command prints for `error` (`finops <command>: ...`), and its exit code. */
export function failureLine(command: string | undefined, error: unknown): { code: 1 | 2; line: string } {
  const { code, message, usage } = describeFailure(error);
  const name = command === undefined ? "finops" : `finops ${command}`;
  return { code, line: `${name}: ${message}${usage ? ` (see ${name} --help)` : ""}` };
}
