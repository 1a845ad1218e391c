import { CommandFailure } from "./cli-args.ts";
import { RemoteFailure } from "./error-boundary.ts";
import type { Operation, Output, Params } from "./operation.ts";

/**
 * Asking a running stack for what a command would do on the warehouse the stack holds: an
 * operation at /cli/<name> (its text streamed back as NDJSON lines {out} / {err}, then {exit} or
 * {error, exit}), a report at /costReport, events at /v1/events, a rollup refresh at /refreshRollups.
 */

/** One line of a stack's answer to /cli/<name>. */
export type StreamLine =
  | { out: string }
  | { err: string }
  | { exit: number }
  | { error: string; exit: number };

function unreachable(base: string, error: unknown): CommandFailure {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (error as Error).message;
  return new CommandFailure(
    `cannot reach the finops stack at ${base}: ${why} (is finops start running there? check --url)`,
  );
}

async function send(base: string, path: string, init: RequestInit = {}): Promise<Response> {
  let url: URL;
  try {
    url = new URL(path, base);
  } catch {
    throw new CommandFailure(`--url: ${JSON.stringify(base)} is not a URL (e.g. http://127.0.0.1:8080)`);
  }
  return fetch(url, init).catch((error: unknown) => {
    // A request's own time limit is the caller's to tell.
    if (error instanceof DOMException && error.name === "TimeoutError") throw error;
    throw unreachable(base, error);
  });
}

/** A refusal as the stack said it: its JSON {error, exit?} (exit 2 for a 400 without one), or its status. */
async function refusal(base: string, path: string, res: Response): Promise<Error> {
  const text = await res.text();
  let body: { error?: unknown; exit?: unknown } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {}
  if (typeof body?.error === "string") {
    const exit = typeof body.exit === "number" ? body.exit : res.status === 400 ? 2 : 1;
    if (res.status === 404 && body.exit === undefined) {
      return new CommandFailure(
        `the finops stack at ${base} has no ${path.split("?")[0]} (is it an older version? restart it)`,
      );
    }
    return new RemoteFailure(body.error, exit);
  }
  return new CommandFailure(
    `the finops stack at ${base} answered ${res.status} ${res.statusText} to ${path}`,
  );
}

/** The lines of a streamed body, as they arrive. */
async function* lines(res: Response): AsyncGenerator<string> {
  if (res.body === null) return;
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of res.body) {
    pending += decoder.decode(chunk as Uint8Array, { stream: true });
    const parts = pending.split("\n");
    pending = parts.pop() ?? "";
    yield* parts.filter((line) => line !== "");
  }
  pending += decoder.decode();
  if (pending !== "") yield pending;
}

/** Runs `operation` on the stack at `base`, replaying its output here; resolves with its exit code. */
export async function askStack(
  base: string,
  operation: Operation,
  params: Params,
  now: Date,
  output: Output,
  attachment?: Buffer,
): Promise<number> {
  const query = new URLSearchParams({ ...params, now: now.toISOString() });
  const path = `/cli/${operation.name}?${query}`;
  const res = await send(base, path, {
    method: operation.method,
    ...(attachment === undefined
      ? {}
      : { body: new Uint8Array(attachment), headers: { "content-type": "application/octet-stream" } }),
  });
  if (!res.ok) throw await refusal(base, path, res);
  try {
    for await (const text of lines(res)) {
      const line = JSON.parse(text) as StreamLine;
      if ("error" in line) throw new RemoteFailure(line.error, line.exit);
      if ("exit" in line) return line.exit;
      if ("out" in line) await output.out(line.out);
      else if ("err" in line) output.err(line.err);
    }
  } catch (error) {
    if (error instanceof RemoteFailure) throw error;
    throw new CommandFailure(
      `the finops stack at ${base} stopped answering mid-way: ${(error as Error).message} (run the command again)`,
    );
  }
  throw new CommandFailure(`the finops stack at ${base} stopped answering mid-way (run the command again)`);
}

/** A report as costReport prints it. */
export async function askReport(base: string, params: Params): Promise<string> {
  const path = `/costReport?${new URLSearchParams(params)}`;
  const res = await send(base, path);
  if (!res.ok) throw await refusal(base, path, res);
  return res.text();
}

/** What POST /v1/events answers for a body it read: the ingest summary. */
export interface EventsAnswer {
  received: number;
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: Array<{ index: number; id?: string; source?: string; field: string; reason: string }>;
}

/** How long a busy stack is asked again, and how long one body may go unanswered before it is taken as stuck. */
export interface PostLimits {
  busyGiveUpMs: number;
  answerTimeoutMs: number;
}

/** Two minutes each: other clients' bodies pass, and a body of events takes seconds at most. */
const POST_LIMITS: PostLimits = { busyGiveUpMs: 120_000, answerTimeoutMs: 120_000 };
/** The longest wait between two asks, whatever Retry-After says. */
const MAX_WAIT_MS = 10_000;
/** Events are deduped by key, so whatever a failed command did not know about is safe to send again. */
const RESEND = "sending the file again adds only what the stack did not store";

/**
 * Posts one body of events. A busy stack (503) is asked again after its Retry-After, backing off,
 * for up to two minutes; a stack that does not answer a body within two minutes is taken as stuck.
 */
export async function postEvents(
  base: string,
  body: string,
  contentType: string,
  limits: PostLimits = POST_LIMITS,
): Promise<EventsAnswer> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    let res: Response;
    let text: string;
    try {
      res = await send(base, "/v1/events", {
        method: "POST",
        body,
        headers: { "content-type": contentType },
        signal: AbortSignal.timeout(limits.answerTimeoutMs),
      });
      text = await res.text();
    } catch (error) {
      if (!(error instanceof DOMException && error.name === "TimeoutError")) throw error;
      throw new CommandFailure(
        `the finops stack at ${base} did not answer a body of events within ${limits.answerTimeoutMs / 1000} s ` +
          `(is it stuck? see its log); ${RESEND}`,
      );
    }
    if (res.status === 503) {
      const seconds = Number(res.headers.get("retry-after") ?? "1");
      const asked = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000;
      const wait = Math.min(MAX_WAIT_MS, Math.max(asked, 250 * 2 ** Math.min(attempt, 6)));
      if (Date.now() + wait - started <= limits.busyGiveUpMs) {
        await new Promise((resolve) => setTimeout(resolve, wait));
        continue;
      }
    }
    let answer: Partial<EventsAnswer> & { error?: unknown } = {};
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {}
    if (typeof answer.received === "number" && Array.isArray(answer.rejected)) return answer as EventsAnswer;
    const why = typeof answer.error === "string" ? answer.error : `${res.status} ${res.statusText}`;
    const hint =
      res.status === 413
        ? " (a body larger than the stack's local.maxInFlightBytes: raise it, or split the file)"
        : res.status === 503
          ? ` (still busy after ${limits.busyGiveUpMs / 1000} s; ${RESEND})`
          : "";
    throw new CommandFailure(`the finops stack at ${base} did not take the events: ${why}${hint}`);
  }
}

/** Runs the stack's refreshRollups now, as its scheduler does. */
export async function refreshStackRollups(base: string): Promise<void> {
  const res = await send(base, "/refreshRollups", { method: "POST" });
  if (!res.ok) throw await refusal(base, "/refreshRollups", res);
  await res.arrayBuffer();
}
