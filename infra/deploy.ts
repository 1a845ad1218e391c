import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * `npm run deploy` runs the project's checks (type-check, lint, tests), then `pulumi up`;
 * `npm run preview` runs `pulumi preview`, which builds the real program (no mocks) and shows what
 * would change. Arguments after `--` go to Pulumi: `npm run deploy -- --stack prod`.
 */
const USAGE = "usage: node infra/deploy.ts up|preview [pulumi arguments]";

function onPath(program: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const [command, ...pulumiArgs] = process.argv.slice(2);
if (command !== "up" && command !== "preview") {
  console.error(USAGE);
  process.exit(2);
}
if (!onPath("pulumi")) {
  console.error(
    `${command === "up" ? "npm run deploy" : "npm run preview"}: the Pulumi CLI is not on PATH. Install it ` +
      "(https://www.pulumi.com/docs/iac/download-install/), run `pulumi login`, then run this again.",
  );
  process.exit(1);
}
const checks = command === "up" ? [["run", "typecheck"], ["run", "lint"], ["test"]] : [];
const steps: [string, string[]][] = [
  ...checks.map((args): [string, string[]] => ["npm", args]),
  ["pulumi", [command, ...pulumiArgs]],
];
for (const [program, args] of steps) {
  const result = spawnSync(program, args, { stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
