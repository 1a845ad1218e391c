import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, existsSync, realpathSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, dirname, join } from "node:path";

export interface PubSubEmulator {
  /** host:port, as PUBSUB_EMULATOR_HOST or the client's apiEndpoint expects it. */
  host: string;
  projectId: string;
  stop(): Promise<void>;
}

/** Why the emulator cannot run here, or undefined when it can. */
export function emulatorUnavailableReason(path = process.env.PATH ?? ""): string | undefined {
  const gcloud = path
    .split(delimiter)
    .filter((dir) => dir !== "")
    .map((dir) => join(dir, "gcloud"))
    .find((candidate) => {
      try {
        accessSync(candidate, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  if (gcloud === undefined) return "gcloud not found";
  const sdkRoot = dirname(dirname(realpathSync(gcloud)));
  if (!existsSync(join(sdkRoot, "platform", "pubsub-emulator"))) {
    return `the pubsub-emulator component is not installed in ${sdkRoot}`;
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === "object" && address !== null) resolve(address.port);
        else reject(new Error("could not read the free port"));
      });
    });
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/**
 * Starts `gcloud beta emulators pubsub start` in its own process group on a free port and resolves
 * once it answers HTTP. stop() ends the whole group (gcloud's python and the emulator's java).
 */
export async function startPubSubEmulator(
  projectId = "finops-test",
  timeoutMs = 30_000,
): Promise<PubSubEmulator> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const child = spawn(
    "gcloud",
    ["beta", "emulators", "pubsub", "start", `--host-port=${host}`, `--project=${projectId}`, "--quiet"],
    { detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const killOnExit = () => killGroup(child, "SIGKILL");
  process.once("exit", killOnExit);

  const stop = async () => {
    process.removeListener("exit", killOnExit);
    killGroup(child, "SIGTERM");
    const stopped = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000)),
    ]);
    // gcloud may exit before its java child: make sure nothing of the group is left.
    killGroup(child, "SIGKILL");
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
      }
    }
    if (!stopped) await exited;
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`the Pub/Sub emulator exited before answering:\n${output}`);
    }
    const ready = await fetch(`http://${host}/`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return { host, projectId, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the Pub/Sub emulator did not answer on ${host} within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
