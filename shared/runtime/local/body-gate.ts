import type { IncomingMessage, ServerResponse } from "node:http";

export interface BodyLimits {
  /** Request bodies being read or worked on at once. */
  maxBodies: number;
  /** Their bytes: each declared Content-Length, and what has been read of a body sent without one. */
  maxBytes: number;
}

export interface BodyGate {
  /**
   * True when `req` may be served: it has no body, or its body fits in what is left of the limits
   * and holds its share until the handler has answered (or the client left before sending it all).
   * Otherwise the gate has answered at once, without keeping the body: 503 with Retry-After, or 413
   * for a body larger than the whole byte limit.
   */
  admit(req: IncomingMessage, res: ServerResponse): boolean;
  /** Refuses every body from now on (503); resolves once the admitted ones are done. */
  drain(): Promise<void>;
}

const RETRY_AFTER_SECONDS = 1;
/**
 * How long a body refused while read stays paused, its answer sent, before its connection is cut;
 * cutting at once would reset the connection under a client still sending, which may lose the answer.
 */
const LINGER_MS = 1000;

/** The declared body length: 0 for none, undefined for a body sent without one (chunked). */
function declaredLength(req: IncomingMessage): number | undefined {
  const length = req.headers["content-length"];
  if (length !== undefined) return Number(length);
  return req.headers["transfer-encoding"] === undefined ? 0 : undefined;
}

/**
 * Answers at once. Node reads and drops the rest of the body (or the gate cuts the connection, for
 * a body it was reading), so nothing of it is kept; the connection goes on serving.
 */
function refuse(res: ServerResponse, status: 413 | 503, error: string): void {
  res.writeHead(status, {
    "content-type": "application/json",
    ...(status === 503 ? { "retry-after": String(RETRY_AFTER_SECONDS) } : {}),
  });
  res.end(JSON.stringify({ error }));
}

/** Bounds the request bodies a server holds at once, in number and bytes: its memory for bodies. */
export function createBodyGate(limits: BodyLimits): BodyGate {
  let bodies = 0;
  let bytes = 0;
  let draining = false;
  let idle: PromiseWithResolvers<void> | undefined;

  function hold(req: IncomingMessage, res: ServerResponse, length: number | undefined): void {
    let held = length ?? 0;
    bodies += 1;
    bytes += held;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      bodies -= 1;
      bytes -= held;
      if (bodies === 0) idle?.resolve();
    };
    // 'prefinish' comes when the handler ends its answer, even to a client that has gone; 'close'
    // alone comes as soon as the client goes, while the handler may still be working on the body.
    res.once("prefinish", release);
    res.once("close", () => {
      if (!req.complete) release();
    });
    if (length !== undefined) return;
    // Counted as the body parser reads it: 'resume' comes just before the first chunk flows.
    req.once("resume", () =>
      req.on("data", (chunk: Buffer) => {
        if (released) return;
        held += chunk.length;
        bytes += chunk.length;
        if (bytes <= limits.maxBytes || res.headersSent) return;
        req.pause();
        // Alone over the limit, it would be refused whatever the others: no use sending it again.
        if (held > limits.maxBytes)
          refuse(
            res,
            413,
            `a body of more than ${limits.maxBytes} bytes is over the ${limits.maxBytes} bytes allowed in flight`,
          );
        else refuse(res, 503, `over ${limits.maxBytes} body bytes in flight, retry later`);
        setTimeout(() => req.socket.destroy(), LINGER_MS).unref();
      }),
    );
  }

  return {
    admit(req, res) {
      const length = declaredLength(req);
      if (length === 0) return true;
      if (draining) {
        refuse(res, 503, "stopping, retry later");
      } else if (length !== undefined && length > limits.maxBytes) {
        refuse(res, 413, `a body of ${length} bytes is over the ${limits.maxBytes} bytes allowed in flight`);
      } else if (bodies >= limits.maxBodies || bytes + (length ?? 1) > limits.maxBytes) {
        refuse(res, 503, `${bodies} bodies (${bytes} bytes) in flight, retry later`);
      } else {
        hold(req, res, length);
        return true;
      }
      return false;
    },
    drain() {
      draining = true;
      if (bodies === 0) return Promise.resolve();
      idle ??= Promise.withResolvers();
      return idle.promise;
    },
  };
}
