import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { getFunction, getTestServer } from "@google-cloud/functions-framework/testing";
import { installFrameworkBoundary } from "../http-errors.ts";

/**
 * Hosts registered functions in one process the way the Functions Framework serves each alone:
 * the framework's own request handling (body parsing, CloudEvent binary/structured decoding,
 * error-to-status mapping) runs for every call, with the error boundary's JSON answers for what
 * fails before a function runs (../http-errors.ts), event functions' included.
 */
export interface FunctionHost {
  targets(): string[];
  /** Serves `req` with the function's own framework app, as if it were the function's root URL. */
  serve(target: string, req: IncomingMessage, res: ServerResponse): boolean;
  /** Invokes a CloudEvent function in process, as Eventarc would. Throws when the function throws. */
  deliver(target: string, cloudEvent: Record<string, unknown>): Promise<void>;
}

export function createFunctionHost(targets: readonly string[]): FunctionHost {
  installFrameworkBoundary();
  const apps = new Map<string, RequestListener>();
  for (const target of targets) {
    const listener = getTestServer(target).listeners("request")[0];
    if (typeof listener !== "function") throw new Error(`no request handler for function ${target}`);
    apps.set(target, listener as RequestListener);
  }
  return {
    targets: () => [...apps.keys()],
    serve(target, req, res) {
      const app = apps.get(target);
      if (!app) return false;
      app(req, res);
      return true;
    },
    async deliver(target, cloudEvent) {
      const fn = getFunction(target);
      if (!fn) throw new Error(`function ${target} is not registered`);
      await (fn as (event: unknown) => unknown)(cloudEvent);
    },
  };
}
