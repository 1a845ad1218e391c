import { execFileSync, spawnSync } from "node:child_process";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The installed `finops` (bin/finops.js) started by a Node older than 22.18, as a machine's system
// Node 20 would: it hands over to the project's pinned Node 22 instead of dying on the .ts entry.

const LAUNCHER = fileURLToPath(new URL("../../bin/finops.js", import.meta.url));

/** A node on PATH, outside node_modules, older than 22.18; undefined when the machine has none. */
function olderNode(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir.includes("node_modules")) continue;
    const candidate = join(dir, "node");
    try {
      const version = execFileSync(candidate, ["--version"], { encoding: "utf8" }).trim();
      const [major = 0, minor = 0] = version.slice(1).split(".").map(Number);
      if (major < 22 || (major === 22 && minor < 18)) return candidate;
    } catch {
      // not there, or not runnable
    }
  }
  return undefined;
}

const older = olderNode();

describe.skipIf(older === undefined)(`bin/finops.js under ${older ?? "an older Node"}`, () => {
  it("runs the CLI on the pinned Node 22: help, and usage errors' exit code", () => {
    const help = spawnSync(older as string, [LAUNCHER, "--help"], { encoding: "utf8" });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^finops: /);
    expect(help.stderr).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION/);

    const usage = spawnSync(older as string, [LAUNCHER, "report", "--bogus"], { encoding: "utf8" });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--bogus/);
  });
});
