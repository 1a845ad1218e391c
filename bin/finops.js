#!/usr/bin/env node
// The installed `finops` command. The CLI is TypeScript run by Node's type stripping (22.18 and
// later, the Cloud Functions runtime's major); this file is plain JavaScript so that an older Node
// (a machine's system Node 20) can start it and hand over to the project's pinned Node 22.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const entry = fileURLToPath(new URL("./finops.ts", import.meta.url));
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);

if (major > 22 || (major === 22 && minor >= 18)) {
  await import(entry);
} else {
  let pinned;
  try {
    pinned = join(dirname(createRequire(import.meta.url).resolve("node/package.json")), "bin", "node");
  } catch {
    process.stderr.write(
      `finops: needs Node.js 22.18 or later, and this is ${process.version}; run npm ci in the project to install its pinned Node 22, or start it with npx finops\n`,
    );
    process.exit(1);
  }
  const child = spawn(pinned, [entry, ...process.argv.slice(2)], { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("error", (error) => {
    process.stderr.write(`finops: cannot start ${pinned}: ${error.message}\n`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
