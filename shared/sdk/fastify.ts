import type { FastifyInstance, FastifyPluginCallback, FastifyRequest } from "fastify";
import {
  bindInferenceCost,
  type InferenceCostHandle,
  type InferenceCostRecorder,
} from "#sdk/inference-cost.ts";

export interface InferenceCostPluginOptions {
  recorder: InferenceCostRecorder;
}

const handles = new WeakMap<FastifyRequest, InferenceCostHandle>();

function end(request: FastifyRequest, status: number | undefined): void {
  try {
    handles.get(request)?.end({ ...(status === undefined ? {} : { status }), body: request.body });
  } catch {
    // Best effort: a failure to record never reaches the reply.
  }
}

function plugin(
  fastify: FastifyInstance,
  options: InferenceCostPluginOptions,
  done: (error?: Error) => void,
): void {
  const { recorder } = options;
  fastify.addHook("onRequest", (request, _reply, next) => {
    try {
      const handle = recorder.start({ method: request.method, path: request.url, headers: request.headers });
      handles.set(request, handle);
      bindInferenceCost(request, handle);
      bindInferenceCost(request.raw, handle);
    } catch {
      // The request goes on unmeasured.
    }
    next();
  });
  // onResponse runs after the reply has been sent; onRequestAbort when the client left first.
  fastify.addHook("onResponse", (request, reply, next) => {
    end(request, reply.statusCode);
    next();
  });
  fastify.addHook("onRequestAbort", (request, next) => {
    end(request, undefined);
    next();
  });
  done();
}

/**
 * Fastify plugin that records one ai.cost.inference.v1 event per request:
 * `app.register(inferenceCostPlugin, { recorder })`. It sets `Symbol.for("skip-override")` (what
 * fastify-plugin does), so its hooks apply to every route of the instance it is registered on,
 * not only to an encapsulated child context. Handlers reach the handle with `inferenceCostOf(request)`.
 */
export const inferenceCostPlugin: FastifyPluginCallback<InferenceCostPluginOptions> = Object.assign(plugin, {
  [Symbol.for("skip-override")]: true,
  [Symbol.for("fastify.display-name")]: "finops-inference-cost",
});
