import type { NextFunction, Request, RequestHandler, Response } from "express";
import { bindInferenceCost, type InferenceCostRecorder } from "#sdk/inference-cost.ts";

/**
 * Express 5 middleware that records one ai.cost.inference.v1 event per request. Register it before
 * the routes it should measure (and before or after `express.json()`: the body is read when the
 * response has gone out). The event is published on the response's `finish`, or on `close` when the
 * client went away first, so the work never delays the response. Handlers reach the request's
 * handle with `inferenceCostOf(req)` to report GPU-seconds, tokens or a cache hit.
 */
export function inferenceCostMiddleware(recorder: InferenceCostRecorder): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    try {
      const handle = recorder.start({ method: req.method, path: req.originalUrl, headers: req.headers });
      bindInferenceCost(req, handle);
      const end = () => handle.end({ status: res.statusCode, body: req.body });
      res.once("finish", end);
      res.once("close", end);
    } catch {
      // Recording is best effort: whatever happened above, the request goes on unmeasured.
    }
    next();
  };
}
