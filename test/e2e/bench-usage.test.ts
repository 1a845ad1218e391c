import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { nodeBinary } from "../support/run-cli.ts";

const BENCH = fileURLToPath(new URL("../../bench/run.ts", import.meta.url));

function bench(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(nodeBinary(), [BENCH, ...args], (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

describe("npm run bench's command line", () => {
  it.each([
    [["ingest", "--events", "abc"], 'bench: --events: "abc" is not a whole number above 0 (try --help)'],
    [["ingest", "--events", "0"], 'bench: --events: "0" is not a whole number above 0 (try --help)'],
    [["faults", "--events", "1.5"], 'bench: --events: "1.5" is not a whole number above 0 (try --help)'],
    [["freshness", "--rate", "fast"], 'bench: --rate: "fast" is not a number above 0 (try --help)'],
    [["--bogus"], "bench: Unknown option '--bogus' (try --help)"],
    [
      ["freshness", "--rate", "-1"],
      "bench: Option '--rate' argument is ambiguous: give a value that starts with a dash as --rate=-… (try --help)",
    ],
    [["freshness", "--rate=-1"], 'bench: --rate: "-1" is not a number above 0 (try --help)'],
    [["nope"], "bench: unknown run nope: one of faults, ingest, freshness, dashboard-bytes (try --help)"],
    [["ingest", "freshness"], "bench: one run at a time, not ingest freshness (try --help)"],
  ])("refuses %j in one line, exit 2, before measuring anything", async (args, line) => {
    const result = await bench(...args);
    expect(result).toEqual({ code: 2, stdout: "", stderr: `${line}\n` });
  });

  it("prints its usage for --help", async () => {
    const result = await bench("--help");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^npm run bench -- \[--events N\]/);
    expect(result.stdout).toContain("default 200,000");
  });
});
