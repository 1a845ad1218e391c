// `npm test`'s pretest step: the dashboard's browser tests drive Debian's Chromium, so a fresh
// machine with only Node and npm gets it here, without a manual step: installed with apt-get as
// root (or through passwordless sudo). Anything else fails in one line saying what to install.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { CHROMIUM } from "../support/chromium.ts";

function run(command: string, args: readonly string[]): boolean {
  const result = spawnSync(command, args, {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  return result.status === 0;
}

if (!existsSync(CHROMIUM)) {
  const root = process.getuid?.() === 0;
  const sudo = !root && run("sudo", ["-n", "true"]);
  if (process.platform !== "linux" || !existsSync("/usr/bin/apt-get") || !(root || sudo)) {
    process.stderr.write(
      `pretest: ${CHROMIUM} is missing and cannot be installed here (needs Debian's apt-get as root or passwordless sudo): install the chromium package, then run npm test again\n`,
    );
    process.exit(1);
  }
  const apt = (args: readonly string[]) =>
    sudo ? run("sudo", ["-n", "apt-get", ...args]) : run("apt-get", args);
  process.stderr.write("pretest: installing Debian's chromium for the dashboard's browser tests...\n");
  if (!apt(["update", "-qq"]) || !apt(["install", "-y", "-qq", "--no-install-recommends", "chromium"])) {
    process.stderr.write("pretest: apt-get could not install chromium; see its message above\n");
    process.exit(1);
  }
}
