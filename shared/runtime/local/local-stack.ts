import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { FunctionSpec } from "../../../functions/registry.ts";
import { answerError, HttpError } from "../http-errors.ts";
import type { Runtime } from "../runtime.ts";
import { createBodyGate } from "./body-gate.ts";
import { createFunctionHost } from "./function-host.ts";
import { cachedHealthProbe } from "./health-probe.ts";
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
  /**
   * Stops taking request bodies (503, Retry-After) and scheduling runs; resolves once the bodies
   * in flight and the running jobs are done (or after a grace period). Requests without a body,
   * trigger() among them, are still served until close().
   */
  drain(): Promise<void>;
  /** Drains, then closes the listener and every connection, kept alive or not. */
  close(): Promise<void>;
}

/** What a browser gets at the root URL; anything else there gets the list of functions. */
const ROOT_TARGET = "dashboard";
/** How long a stop waits for the bodies and scheduled runs in flight, then for open connections' answers. */
const STOP_GRACE_MS = 3000;

/** `work`, or nothing once `ms` have passed. */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function parseUrl(url: string | undefined): URL {
  try {
    return new URL(url ?? "/", "http://local");
  } catch {
    throw new HttpError(400, "the request's URL cannot be read");
  }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}

/**
 * One process hosting every function: the dashboard at / (to a browser), HTTP functions at
 * /<target>, event functions fed by the in-process bus, `POST /events/<target>` to hand any event
 * function a CloudEvent by hand, `POST /v1/events` for ingest, `POST /v1/traces` for OTLP traces
 * (ingestTraces), `POST /v1/litellm` for LiteLLM's logging callback (ingestLiteLlm), and an
 * in-process scheduler for the scheduled ones.
 */
const V1_ROUTES: Readonly<Record<string, string>> = {
  events: "ingestHttp",
  traces: "ingestTraces",
  litellm: "ingestLiteLlm",
};
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { runtime, functions, projectId = "local" } = options;
  const host = createFunctionHost(functions.map((f) => f.target));
  const gate = createBodyGate({
    maxBodies: runtime.config.local.maxInFlightBodies,
    maxBytes: runtime.config.local.maxInFlightBytes,
  });
  const writable = cachedHealthProbe(() => runtime.warehouse.checkWritable());
  let stopping = false;
  const eventTargets = new Set(functions.filter((f) => f.trigger.kind === "topic").map((f) => f.target));
  /** Throws HttpError for a method the route does not take. */
  const only = (req: IncomingMessage, ...methods: string[]) => {
    if (methods.includes(req.method ?? "")) return;
    const allow = methods.join(", ");
    throw new HttpError(405, `${req.method} is not supported here: use ${allow}`, { headers: { allow } });
  };
  const route = (req: IncomingMessage, res: ServerResponse) => {
    if (stopping) res.setHeader("connection", "close");
    const { pathname: path, search } = parseUrl(req.url);
    const [, first = "", second = ""] = path.split("/");
    if (path === "/healthz") {
      only(req, "GET", "HEAD");
      void writable().then((error) => {
        if (error === undefined && !stopping) json(res, 200, { status: "ok" });
        else json(res, 503, { status: "unavailable", error: error ?? "stopping" }, { "retry-after": "1" });
      });
      return;
    }
    const browser = (req.headers.accept ?? "").includes("text/html");
    if (path === "/" && !(browser && host.targets().includes(ROOT_TARGET))) {
      only(req, "GET", "HEAD");
      json(res, 200, { functions: functions.map((f) => ({ target: f.target, trigger: f.trigger })) });
      return;
    }
    if (first === "events") {
      if (!eventTargets.has(second)) throw new HttpError(404, `no event function at ${path}`);
      only(req, "POST");
    }
    // The function sees the path below its mount, as under its own URL, and the mount as a proxy names it.
    const mount =
      path === "/"
        ? `/${ROOT_TARGET}`
        : first === "v1" && Object.hasOwn(V1_ROUTES, second)
          ? `/v1/${second}`
          : first === "events"
            ? `/events/${second}`
            : `/${first}`;
    const target =
      first === "v1" && mount === `/v1/${second}`
        ? (V1_ROUTES[second] as string)
        : (mount.split("/").at(-1) ?? "");
    req.url = `${path.slice(mount.length) || "/"}${search}`;
    req.headers["x-forwarded-prefix"] = mount;
    if (!host.serve(target, req, res)) {
      throw new HttpError(404, `no function at ${path}: GET / lists them`);
    }
  };
  /** Routes a request; whatever goes wrong is answered as JSON by the error boundary. */
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    try {
      route(req, res);
    } catch (error) {
      void answerError(req, res, error, runtime.logger);
    }
  };
  const server = createServer((req, res) => {
    if (gate.admit(req, res)) serve(req, res);
  });
  // A client that asks first (Expect: 100-continue) sends no body that the gate refuses.
  server.on("checkContinue", (req, res) => {
    if (!gate.admit(req, res)) return;
    res.writeContinue();
    serve(req, res);
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

  let drained: Promise<void> | undefined;
  const drain = () => {
    stopping = true;
    drained ??= within(Promise.all([gate.drain(), scheduler.stop()]), STOP_GRACE_MS);
    return drained;
  };
  return {
    url,
    server,
    targets: host.targets(),
    trigger,
    drain,
    async close() {
      await drain();
      await Promise.all(subscriptions.map((s) => s.close()));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await within(closed, STOP_GRACE_MS);
      server.closeAllConnections();
      await closed;
    },
  };
}
