import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const CLI = fileURLToPath(new URL("../../bin/finops.ts", import.meta.url));

/** A Node that runs .ts files as they are (type stripping is on by default from 22.18). */
export function nodeBinary(): string {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  if (major > 22 || (major === 22 && minor >= 18)) return process.execPath;
  return fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnCli(args: readonly string[], env: Record<string, string>, cwd = REPO) {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("FINOPS_") && name !== "PORT"),
  );
  return spawn(nodeBinary(), [CLI, ...args], {
    cwd,
    env: { ...inherited, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/**
 * Runs `finops <args>` as a child process from the repository root (or `cwd`), with the project's
 * FINOPS_* variables replaced by `env` (so the caller's environment cannot leak in), and `stdin`
 * piped in.
 */
export function runCli(
  args: readonly string[],
  env: Record<string, string>,
  stdin?: string,
  cwd?: string,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, env, cwd);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.once("error", reject);
    child.once("close", (code) =>
      resolve({
        code,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
      }),
    );
    child.stdin.end(stdin ?? "");
  });
}

export interface RunningCli {
  /** Resolves with stdout so far once it or stderr matches `pattern`; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<string>;
  /** Sends SIGINT (Ctrl-C) and resolves with the exit code and the whole output. */
  interrupt(): Promise<CliResult>;
  /** Kills the process if it is still running (cleanup after a failed test). */
  kill(): void;
}

/** Starts a long-running `finops <args>` (start) in the background; the environment as for runCli. */
export function startCli(args: readonly string[], env: Record<string, string>): RunningCli {
  const child = spawnCli(args, env);
  child.stdin.end();
  let stdout = "";
  let stderr = "";
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    stdout += text;
  });
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  return {
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(stdout) && !pattern.test(stderr)) return;
          child.stdout.off("data", check);
          child.stderr.off("data", check);
          resolve(stdout);
        };
        child.stdout.on("data", check);
        child.stderr.on("data", check);
        check();
        void exited.then((r) =>
          reject(
            new Error(`finops exited with ${r.code} before printing ${pattern}:\n${r.stdout}${r.stderr}`),
          ),
        );
      });
    },
    async interrupt() {
      child.kill("SIGINT");
      return exited;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}
