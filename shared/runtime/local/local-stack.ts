import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { FunctionSpec } from "../../../functions/registry.ts";
import type { Runtime } from "../runtime.ts";
import { createFunctionHost } from "./function-host.ts";
import { startIntervalScheduler } from "./interval-scheduler.ts";
import { toMessagePublishedEvent } from "./pubsub-cloud-event.ts";

export interface LocalStackOptions {
  runtime: Runtime;
  functions: readonly FunctionSpec[];
  port: number;
  host?: string;
  projectId?: string;
  /** How often each scheduled function runs locally (cron schedules are for the cloud). */
  scheduleEveryMs: (target: string) => number;
}

export interface LocalStack {
  url: string;
  server: Server;
  targets: string[];
  /** Runs a scheduled function now, through its HTTP handler, and waits for it. */
  trigger(target: string): Promise<Response>;
  close(): Promise<void>;
}

/** What a browser gets at the root URL; anything else there gets the list of functions. */
const ROOT_TARGET = "dashboard";

/**
 * One process hosting every function: the dashboard at / (to a browser), HTTP functions at
 * /<target>, event functions fed by the in-process bus, `POST /events/<target>` to hand any event
 * function a CloudEvent by hand, `POST /v1/events` for ingest, and an in-process scheduler for the
 * scheduled ones.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { runtime, functions, projectId = "local" } = options;
  const host = createFunctionHost(functions.map((f) => f.target));
  const server = createServer((req, res) => {
    const { pathname: path, search } = new URL(req.url ?? "/", "http://local");
    const [, first = "", second = ""] = path.split("/");
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    const browser = (req.headers.accept ?? "").includes("text/html");
    if (path === "/" && !(browser && host.targets().includes(ROOT_TARGET))) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ functions: functions.map((f) => ({ target: f.target, trigger: f.trigger })) }),
      );
      return;
    }
    // The function sees the path below its mount, as under its own URL, and the mount as a proxy names it.
    const mount =
      path === "/"
        ? `/${ROOT_TARGET}`
        : first === "v1" && second === "events"
          ? "/v1/events"
          : first === "events"
            ? `/events/${second}`
            : `/${first}`;
    const route = mount === "/v1/events" ? "ingestHttp" : (mount.split("/").at(-1) ?? "");
    req.url = `${path.slice(mount.length) || "/"}${search}`;
    req.headers["x-forwarded-prefix"] = mount;
    if (!host.serve(route, req, res)) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: `no function at ${path}`, functions: host.targets() }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? "127.0.0.1"}:${port}`;

  const subscriptions = await Promise.all(
    functions.flatMap((f) =>
      f.trigger.kind === "topic"
        ? [
            runtime.bus.subscribe(f.trigger.topic, `${f.target}-local`, (message) =>
              host.deliver(
                f.target,
                toMessagePublishedEvent(message, projectId, (f.trigger as { topic: string }).topic),
              ),
            ),
          ]
        : [],
    ),
  );

  const trigger = (target: string) => fetch(`${url}/${target}`, { method: "POST" });
  const scheduler = startIntervalScheduler(
    functions
      .filter((f) => f.trigger.kind === "schedule")
      .map((f) => ({
        name: f.target,
        everyMs: options.scheduleEveryMs(f.target),
        run: async () => {
          const res = await trigger(f.target);
          if (!res.ok) throw new Error(`${f.target} answered ${res.status}: ${await res.text()}`);
        },
      })),
    runtime.logger,
  );

  return {
    url,
    server,
    targets: host.targets(),
    trigger,
    async close() {
      await scheduler.stop();
      await Promise.all(subscriptions.map((s) => s.close()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
