import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { FUNCTIONS } from "../../functions/registry.ts";
import { ENTRY_FILE, entryModule } from "../../infra/source-archive.ts";
import {
  BAD_BODIES,
  BAD_INGEST_BODIES,
  type BadInput,
  expectErrorAnswer,
  send,
} from "../support/http-error-answers.ts";

/**
 * A function deployed alone: the Functions Framework's own entry point (its main, as Cloud Functions
 * runs it) loads the archive's generated entry module for one FUNCTION_TARGET, with NODE_ENV unset,
 * where Express's default error page would show the stack.
 */

const ROOT = resolve(import.meta.dirname, "../..");
const MAIN = join(ROOT, "node_modules/@google-cloud/functions-framework/build/src/main.js");

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/** Starts the framework on `target` as deployed and resolves with its URL once it serves. */
async function deploy(target: string, dir: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FUNCTION_TARGET: target,
    FINOPS_DUCKDB_PATH: join(dir, "finops.duckdb"),
    FINOPS_LOG_LEVEL: "error",
  };
  delete env.NODE_ENV;
  const child = spawn(process.execPath, [MAIN, `--target=${target}`, `--source=${dir}`, `--port=${port}`], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`${target} did not start: ${output}`)), 20_000);
    child.stdout?.on("data", () => {
      if (output.includes("Serving function")) {
        clearTimeout(timer);
        ready();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`${target} exited ${code}: ${output}`));
    });
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

const dir = mkdtempSync(join(tmpdir(), "finops-deployed-"));
const running = new Map<string, { url: string; child: ChildProcess }>();
const TABLES: Record<string, readonly BadInput[]> = {
  ingestHttp: [...BAD_BODIES, ...BAD_INGEST_BODIES],
  refreshRollups: [
    ...BAD_BODIES,
    { name: "GET", method: "GET", status: 405, allow: "POST" },
    { name: "an unknown method", method: "PATCH", status: 405, allow: "POST" },
  ],
};

beforeAll(async () => {
  // The source archive's layout: its package.json, the generated entry, the functions' code.
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", main: ENTRY_FILE }));
  writeFileSync(join(dir, ENTRY_FILE), entryModule(FUNCTIONS));
  symlinkSync(join(ROOT, "functions"), join(dir, "functions"));
  for (const target of Object.keys(TABLES)) running.set(target, await deploy(target, dir));
}, 60_000);

afterAll(async () => {
  for (const { child } of running.values()) {
    const exited = new Promise((done) => child.once("exit", done));
    child.kill("SIGTERM");
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe.each(Object.keys(TABLES))("%s deployed alone under the Functions Framework", (target) => {
  it.each(TABLES[target] ?? [])("answers $name with $status", async (input) => {
    await expectErrorAnswer(await send(running.get(target)?.url ?? "", input), input);
  });
});
