import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CLI, nodeBinary } from "./run-cli.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

export interface StackProcess {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) and everything printed. */
  exited: Promise<{ code: number | null; output: string }>;
  /** Its resident memory now and at its peak, in bytes (Linux: /proc). */
  memory(): { rss: number; peakRss: number };
  /** Kills it if it is still running (cleanup after a failed test). */
  kill(): void;
}

/**
 * `finops start --port 0` as a child process from the repository root, with the project's FINOPS_*
 * variables replaced by `env`; resolves once it listens.
 */
export async function startStackProcess(env: Record<string, string>): Promise<StackProcess> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("FINOPS_") && name !== "PORT"),
  );
  const child = spawn(nodeBinary(), [CLI, "start", "--port", "0"], {
    cwd: REPO,
    env: { ...inherited, FINOPS_LOG_LEVEL: "error", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    output += text;
  });
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    output += text;
  });
  const exited = new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const found = /listening on (http:\/\/[\d.]+:\d+)/.exec(output)?.[1];
      if (found === undefined || !/^Ready\./m.test(output)) return;
      child.stdout.off("data", check);
      resolve(found);
    };
    child.stdout.on("data", check);
    void exited.then(({ code }) => reject(new Error(`finops start exited with ${code}:\n${output}`)));
  });
  const kb = (status: string, field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1]) * 1024;
  return {
    url,
    child,
    exited,
    memory() {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      return { rss: kb(status, "VmRSS"), peakRss: kb(status, "VmHWM") };
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}
