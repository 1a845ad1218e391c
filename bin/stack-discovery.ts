import { readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";

/**
 * How a command finds the local stack that holds its warehouse. DuckDB lets one process open the
 * file, so while `finops start` runs, the other commands ask it over HTTP instead: the stack writes
 * `<warehouse>.stack.json` (its URL, pid and warehouse) when it listens and removes it when it stops
 * cleanly. A file whose pid is gone, or whose URL does not answer as that stack, is ignored (a stack
 * killed with -9 leaves it behind), and the command opens the warehouse itself.
 */
export interface StackFile {
  url: string;
  pid: number;
  /** The warehouse's absolute path, as the stack's configuration resolved it. */
  warehouse: string;
  started_at: string;
}

/** Whether two paths name one file, through symbolic links too (a path that does not exist is taken as written). */
export function sameFile(a: string, b: string): boolean {
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return path;
    }
  };
  return a === b || real(a) === real(b);
}

/** Where the stack holding `warehouse` says so. */
export function stackFilePath(warehouse: string): string {
  return `${warehouse}.stack.json`;
}

/** Writes the discovery file (whole or not at all); the returned function removes it if it is still this one. */
export function writeStackFile(warehouse: string, url: string, now = new Date()): () => void {
  const path = stackFilePath(warehouse);
  const file: StackFile = { url, pid: process.pid, warehouse, started_at: now.toISOString() };
  const partial = `${path}.${process.pid}.part`;
  writeFileSync(partial, `${JSON.stringify(file, null, 2)}\n`);
  renameSync(partial, path);
  return () => {
    if (readStackFile(warehouse)?.pid === process.pid) rmSync(path, { force: true });
  };
}

/** The discovery file beside `warehouse`, if there is a readable one. */
export function readStackFile(warehouse: string): StackFile | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(stackFilePath(warehouse), "utf8"));
  } catch {
    return undefined;
  }
  const file = raw as Partial<StackFile> | null;
  if (
    typeof file?.url !== "string" ||
    !Number.isInteger(file.pid) ||
    typeof file.warehouse !== "string" ||
    !sameFile(file.warehouse, warehouse)
  )
    return undefined;
  return file as StackFile;
}

/** Whether a process `pid` runs (one of another user's counts). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The stack file beside `warehouse` when its process still runs (its URL not yet asked). */
export function liveStackFile(warehouse: string): StackFile | undefined {
  const file = readStackFile(warehouse);
  return file !== undefined && file.pid !== process.pid && isRunning(file.pid) ? file : undefined;
}

/** What a stack answers at GET /cli: who it is. */
export interface StackIdentity {
  pid: number;
  warehouse: string | null;
}

/** How long a stack may take to say who it is before the file is taken as stale. */
const ANSWER_MS = 3000;

/**
 * The URL of the local stack running on `warehouse`, when there is one: its file names a live
 * process, and its URL answers as that process on that warehouse. Otherwise undefined.
 */
export async function findRunningStack(warehouse: string): Promise<string | undefined> {
  const file = liveStackFile(warehouse);
  if (file === undefined) return undefined;
  try {
    const res = await fetch(new URL("/cli", file.url), { signal: AbortSignal.timeout(ANSWER_MS) });
    if (!res.ok) return undefined;
    const who = (await res.json()) as Partial<StackIdentity>;
    return who.pid === file.pid && typeof who.warehouse === "string" && sameFile(who.warehouse, warehouse)
      ? file.url
      : undefined;
  } catch {
    return undefined;
  }
}
