import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { http, type Request, type Response } from "@google-cloud/functions-framework";
import { MAX_BODY_BYTES } from "#domain/events/decode-body.ts";
import type { Logger } from "#ports/logger.ts";
import { isRetryableError, PortError, SourceError } from "#ports/port-error.ts";
import { requiresBearerToken } from "../../functions/registry.ts";
import { createTokenSource, judge } from "./bearer-token.ts";
import { readEnv } from "./env.ts";
import { createLogger } from "./logger.ts";
import { getRuntime } from "./runtime.ts";

/**
 * One error boundary for every HTTP surface: whatever goes wrong, the answer is JSON
 * `{"error": "<one line>", "field"?: "<name>"}` with a status that says whose fault it is: 400 bad
 * input, 401 without the bearer token a receiver requires, 404 nothing there, 405 wrong method, 413
 * body too large, 415 unsupported content-type or content-encoding, 502 when a system the function
 * reads from refused it or answered what it cannot read (its one-line message), 503 with Retry-After
 * for a fault that may pass, 500 for a bug (a generic message with a reference; the detail goes to
 * the log only). Never HTML, a stack or a server path.
 *
 * Two places need it. A function's own handler: `httpFunction` registers it with the Functions
 * Framework inside a try/catch. And the framework itself, which reads every body before the handler
 * runs (body-parser: JSON for application/json and application/cloudevents+json, text, urlencoded,
 * raw for the rest; gzip, deflate, br inflated; `rawBody` kept; a 1024 MB limit) and hands a failure
 * (bad JSON, broken gzip, unknown encoding or charset, too large) to Express's default final handler,
 * an HTML page with the stack unless NODE_ENV=production. Version 5 offers no hook for that
 * (functions-framework-nodejs issue #686), so `installFrameworkBoundary` gives the Express it uses
 * a final handler of ours, and refuses content-encodings we do not read before any byte is parsed.
 */

/** The body of every error answer. */
export interface ErrorBody {
  error: string;
  field?: string;
}

export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: ErrorBody;
}

/** An answer a handler chooses: throw it and the boundary sends it as JSON. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  readonly status: number;
  readonly field: string | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    message: string,
    options: { field?: string; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.field = options.field;
    this.headers = options.headers ?? {};
  }
}

/** What a body may be encoded with: what the ingest decoder reads, the same on HTTP and the bus. */
export const ACCEPTED_CONTENT_ENCODINGS: readonly string[] = ["identity", "gzip"];
/** How long a client should wait before resending after a 503. */
export const RETRY_AFTER_SECONDS = 30;
const MAX_MESSAGE_CHARS = 300;

/** `text` as one line of at most MAX_MESSAGE_CHARS: whitespace and control characters collapsed. */
export function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  const flat = text.replace(/[\s\u0000-\u001f\u007f]+/g, " ").trim();
  return flat.length <= MAX_MESSAGE_CHARS ? flat : `${flat.slice(0, MAX_MESSAGE_CHARS - 1)}…`;
}

/** Whether a request carries a body: a Content-Length above 0, or a chunked one. */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  if (length !== undefined) return Number(length) > 0;
  return req.headers["transfer-encoding"] !== undefined;
}

function answer(
  status: number,
  error: string,
  field?: string,
  headers: Record<string, string> = {},
): ErrorAnswer {
  return { status, headers, body: { error: oneLine(error), ...(field === undefined ? {} : { field }) } };
}

function contentEncoding(req: IncomingMessage): string {
  return (req.headers["content-encoding"] ?? "identity").trim().toLowerCase() || "identity";
}

/** 415 for a body in a content-encoding we do not read (br, deflate, zstd, x-gzip, several at once). */
export function refuseContentEncoding(req: IncomingMessage): ErrorAnswer | undefined {
  if (!hasBody(req)) return undefined;
  const encoding = contentEncoding(req);
  if (ACCEPTED_CONTENT_ENCODINGS.includes(encoding)) return undefined;
  return answer(
    415,
    `content-encoding ${encoding} is not supported: send the body as is or gzip-compressed`,
    "content-encoding",
  );
}

type Fields = Record<string, unknown>;

/** The message of a body-parser JSON error, from the body it failed on (strict mode takes objects and arrays). */
function jsonMessage(error: Fields): string {
  const text = typeof error.body === "string" ? error.body.trim() : "";
  if (text !== "" && text[0] !== "{" && text[0] !== "[") {
    try {
      JSON.parse(text);
      return "body: must be a JSON object or array";
    } catch {
      // Not JSON at all: the parser's message says where.
    }
  }
  return `body: not valid JSON (${String(error.message)})`;
}

/**
 * The answer for an error the Functions Framework raised before the handler ran: body-parser's
 * (http-errors with a `type`) and zlib's (a `code`, wrapped with status 400). Undefined for
 * anything else.
 */
function frameworkAnswer(req: IncomingMessage, error: Fields): ErrorAnswer | undefined {
  const status = typeof error.status === "number" ? error.status : undefined;
  if (status === undefined || status < 400 || status > 499) return undefined;
  switch (error.type) {
    case "entity.parse.failed":
      return answer(400, jsonMessage(error), "body");
    case "entity.too.large":
      return answer(413, `body: larger than the ${String(error.limit)} bytes allowed`, "body");
    case "parameters.too.many":
      return answer(413, "body: too many form parameters", "body");
    case "encoding.unsupported":
      return answer(
        415,
        `content-encoding ${contentEncoding(req)} is not supported: send the body as is or gzip-compressed`,
        "content-encoding",
      );
    case "charset.unsupported":
      return answer(415, `content-type: charset ${String(error.charset)} is not supported`, "content-type");
    case "request.aborted":
      return answer(400, "body: the client stopped sending it", "body");
    case "request.size.invalid":
      return answer(400, "body: its length is not the Content-Length given", "body");
  }
  if (typeof error.code === "string" && status === 400) {
    // zlib: the body is not what its content-encoding says.
    return answer(400, `body: not valid ${contentEncoding(req)} (${String(error.message)})`, "body");
  }
  return answer(status, String(error.message));
}

/**
 * What to answer for `error`, and whether it is a fault to log: HttpError as it says, a retryable
 * port error 503, a source's refusal 502, the framework's parse errors by their kind (never a port
 * error, though one may carry an upstream's status), anything else 500.
 */
export function errorAnswer(req: IncomingMessage, error: unknown): { answer: ErrorAnswer; fault: boolean } {
  if (error instanceof HttpError) {
    return { answer: answer(error.status, error.message, error.field, { ...error.headers }), fault: false };
  }
  if (isRetryableError(error)) {
    const headers = { "retry-after": String(RETRY_AFTER_SECONDS) };
    return { answer: answer(503, "temporarily unavailable: retry later", undefined, headers), fault: true };
  }
  if (error instanceof SourceError) {
    return { answer: answer(502, error.message), fault: true };
  }
  if (error !== null && typeof error === "object" && !(error instanceof PortError)) {
    const parsed = frameworkAnswer(req, error as Fields);
    if (parsed) return { answer: parsed, fault: false };
  }
  return { answer: answer(500, "internal error"), fault: true };
}

/**
 * Sends `answer` as JSON, replacing whatever the handler had set for its own answer. When the
 * headers are already out, the answer cannot change: the connection is cut so the client sees a
 * failure, not a truncated success.
 */
export function sendError(res: ServerResponse, { status, headers, body }: ErrorAnswer): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const name of ["content-encoding", "content-length", "content-disposition", "etag", "last-modified"]) {
    res.removeHeader(name);
  }
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.end(JSON.stringify(body));
}

let fallbackLogger: Logger | undefined;

/** The runtime's logger, or one of our own (JSON on stderr) when the runtime cannot be built. */
async function logger(): Promise<Logger> {
  try {
    return (await getRuntime()).logger;
  } catch {
    fallbackLogger ??= createLogger();
    return fallbackLogger;
  }
}

function requestPath(req: IncomingMessage): string {
  return new URL(req.url ?? "/", "http://request").pathname;
}

/**
 * Answers `error` and logs a fault with its detail. A 500 names a reference that is in the log
 * line too; a 503 logs at warn (the fault may pass).
 */
export async function answerError(
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
  log?: Logger,
): Promise<void> {
  const { answer: chosen, fault } = errorAnswer(req, error);
  const ref = chosen.status === 500 ? randomUUID().slice(0, 8) : undefined;
  if (ref !== undefined) chosen.body.error = `internal error (ref ${ref}); the detail is in the server's log`;
  sendError(res, chosen);
  if (!fault) return;
  try {
    const to = log ?? (await logger());
    const fields = {
      method: req.method,
      path: requestPath(req),
      status: chosen.status,
      ...(ref === undefined ? {} : { ref }),
      error: error instanceof Error ? error.message : String(error),
      ...(error instanceof Error && error.stack !== undefined ? { stack: error.stack } : {}),
    };
    if (chosen.status === 503) to.warn("retryable fault answered 503", fields);
    else to.error("unexpected error answered 500", fields);
  } catch {
    // Logging must not fail the answer, which is already sent.
  }
}

type NextFunction = (error?: unknown) => void;
type Handle = (this: unknown, req: IncomingMessage, res: ServerResponse, next?: NextFunction) => unknown;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: NextFunction) => unknown;
type ParserFactory = (options: Record<string, unknown>) => Middleware;
const BODY_PARSERS = ["json", "raw", "text", "urlencoded"] as const;

/**
 * The body parsers the framework builds its app with, each reading an encoded (gzip) body only up
 * to what a receiver takes once inflated: the framework allows 1024 MB, so a 1 MB body of zeros
 * would be inflated whole, to a gigabyte, before a receiver could refuse it. Past the bound the
 * parser stops inflating and answers 413 (the boundary's entity.too.large). A body as sent keeps
 * the framework's limit: the local stack's gate and Cloud Functions bound those.
 */
function boundInflatedBodies(framework: string): void {
  const parsers = createRequire(framework)("body-parser") as Record<
    (typeof BODY_PARSERS)[number],
    ParserFactory
  >;
  for (const name of BODY_PARSERS) {
    const make = parsers[name];
    parsers[name] = (options) => {
      const asSent = make(options);
      const inflated = make({ ...options, limit: MAX_BODY_BYTES });
      return (req, res, next) => (contentEncoding(req) === "identity" ? asSent : inflated)(req, res, next);
    };
  }
}

let frameworkBoundaryInstalled = false;

/**
 * Makes the Express that the Functions Framework builds its apps with answer like our handlers:
 * - a body in a content-encoding we do not read is refused (415) before any parser inflates it,
 *   and one we read is inflated no further than a receiver reads (boundInflatedBodies);
 * - what reaches the end of an app's middleware (a body parser's error, no route for the method)
 *   is answered as JSON instead of by Express's default HTML final handler.
 * Express copies `application.handle` into every app it creates, so this must run before the
 * framework creates its app: `httpFunction` runs it when a function registers, which is before
 * the framework (deployed) or `getTestServer` (tests, the local stack) builds the server.
 * Only a top-level call (the server's request, no `next`) is changed. Idempotent.
 */
export function installFrameworkBoundary(): void {
  if (frameworkBoundaryInstalled) return;
  const framework = createRequire(import.meta.url).resolve("@google-cloud/functions-framework");
  boundInflatedBodies(framework);
  const express = createRequire(framework)("express") as { application: { handle: Handle } };
  const handle = express.application.handle;
  express.application.handle = function boundedHandle(req, res, next) {
    if (next !== undefined) return handle.call(this, req, res, next);
    const refused = refuseContentEncoding(req);
    if (refused) {
      sendError(res, refused);
      return undefined;
    }
    return handle.call(this, req, res, (error?: unknown) => {
      // Express's router ends with nothing (no route took the request) or null (`next("router")`).
      if (error === undefined || error === null) {
        sendError(res, answer(404, `nothing at ${req.method} ${requestPath(req)}`));
        return;
      }
      void answerError(req, res, error);
    });
  };
  frameworkBoundaryInstalled = true;
}

const CHALLENGE = 'Bearer realm="finops"';

const expectedToken = createTokenSource({
  env: () => readEnv(),
  onUnavailable: (reason) => {
    void logger().then((log) => log.error(`the token-checked receivers refuse every request: ${reason}`));
  },
});

/**
 * Lets a request through only with the ingest bearer token (./bearer-token.ts): 401 with a Bearer
 * challenge without it or with another, 503 while no token is configured where one is required.
 * It runs before the handler, so a refused request leaves nothing behind.
 */
async function admitBearer(req: Request): Promise<void> {
  const expected = await expectedToken();
  if (expected.kind === "open") return;
  if (expected.kind === "unavailable") {
    throw new HttpError(503, "this receiver has no token to check senders against yet: retry later", {
      headers: { "retry-after": String(RETRY_AFTER_SECONDS) },
    });
  }
  const verdict = judge(req.get("authorization"), expected.token);
  if (verdict === "missing") {
    throw new HttpError(401, "authorization: send the ingest token as Authorization: Bearer <token>", {
      field: "authorization",
      headers: { "www-authenticate": CHALLENGE },
    });
  }
  if (verdict === "wrong") {
    throw new HttpError(401, "authorization: the bearer token is not the ingest token", {
      field: "authorization",
      headers: { "www-authenticate": `${CHALLENGE}, error="invalid_token"` },
    });
  }
}

export type HttpHandler = (req: Request, res: Response) => Promise<void> | void;

export interface HttpFunctionOptions {
  /** The methods the function serves (GET brings HEAD); any other is answered 405 with Allow. */
  methods: readonly string[];
  /** Headers every answer carries, errors included (the dashboard's security headers). */
  headers?: Readonly<Record<string, string>>;
}

/**
 * Registers an HTTP function with the Functions Framework behind the error boundary: the method is
 * checked, then the bearer token when the registry says the function checks it (functions/registry.ts,
 * `public.check`), and whatever the handler throws is answered as JSON (see the top of this file).
 */
export function httpFunction(name: string, options: HttpFunctionOptions, handler: HttpHandler): void {
  installFrameworkBoundary();
  const tokenChecked = requiresBearerToken(name);
  const methods = new Set(options.methods.flatMap((m) => (m === "GET" ? ["GET", "HEAD"] : [m])));
  const allow = [...methods].join(", ");
  http(name, async (req, res) => {
    if (options.headers) res.set(options.headers);
    try {
      if (!methods.has(req.method)) {
        throw new HttpError(405, `${req.method} is not supported here: use ${allow}`, {
          headers: { allow },
        });
      }
      if (tokenChecked) await admitBearer(req);
      await handler(req, res);
    } catch (error) {
      await answerError(req, res, error);
    }
  });
}
