import { deflateSync, gzipSync } from "node:zlib";
import { expect } from "vitest";
import { MAX_BODY_BYTES } from "#domain/events/decode-body.ts";
import type { ErrorBody } from "#runtime/http-errors.ts";

/** One bad request and what the error boundary must answer to it. */
export interface BadInput {
  name: string;
  method?: string;
  /** Below the surface's root URL ("" for the root itself). */
  path?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  status: number;
  /** The `field` the answer names; absent when it must name none. */
  field?: string;
  /** The Allow header a 405 carries. */
  allow?: string;
  /** The answer carries Retry-After. */
  retryAfter?: boolean;
  /** What the `error` must say. */
  error?: RegExp;
}

const JSON_TYPE = { "content-type": "application/json" };

/**
 * The bad bodies the issue found answered with an HTML stack trace (and the body-size and encoding
 * rules around them): the same for any surface that takes a body, through the Functions Framework.
 */
export const BAD_BODIES: readonly BadInput[] = [
  {
    name: "truncated JSON",
    headers: JSON_TYPE,
    body: '{"specversion": "1.0", "id": ',
    status: 400,
    field: "body",
  },
  {
    name: "the body 42",
    headers: JSON_TYPE,
    body: "42",
    status: 400,
    field: "body",
    error: /object or array/,
  },
  {
    name: "a body that is not gzip sent as gzip",
    headers: { ...JSON_TYPE, "content-encoding": "gzip" },
    body: '{"not": "gzip"}',
    status: 400,
    field: "body",
    error: /gzip/,
  },
  {
    name: "content-encoding br",
    headers: { ...JSON_TYPE, "content-encoding": "br" },
    body: "{}",
    status: 415,
    field: "content-encoding",
    error: /br/,
  },
  {
    name: "content-encoding deflate, really deflated",
    headers: { ...JSON_TYPE, "content-encoding": "deflate" },
    body: new Uint8Array(deflateSync("{}")),
    status: 415,
    field: "content-encoding",
  },
  {
    name: "an unknown content-encoding",
    headers: { "content-type": "text/plain", "content-encoding": "compress" },
    body: "{}",
    status: 415,
    field: "content-encoding",
  },
  {
    name: "a charset JSON cannot be in",
    headers: { "content-type": "application/json; charset=iso-8859-1" },
    body: "{}",
    status: 415,
    field: "content-type",
  },
];

/** What only ingest refuses: bodies over its limit, and a body without a content-type. */
export const BAD_INGEST_BODIES: readonly BadInput[] = [
  {
    name: "a body over MAX_BODY_BYTES",
    headers: { "content-type": "application/x-ndjson" },
    body: " ".repeat(MAX_BODY_BYTES + 1),
    status: 413,
    field: "body",
  },
  {
    name: "a gzip body that inflates over MAX_BODY_BYTES",
    headers: { "content-type": "application/x-ndjson", "content-encoding": "gzip" },
    body: new Uint8Array(gzipSync(" ".repeat(MAX_BODY_BYTES + 1))),
    status: 413,
    field: "body",
  },
  {
    name: "a body without a content-type",
    body: new Uint8Array(Buffer.from("{}")),
    status: 415,
    field: "content-type",
  },
  { name: "GET", method: "GET", status: 405, allow: "POST" },
  { name: "PUT", method: "PUT", body: "{}", headers: JSON_TYPE, status: 405, allow: "POST" },
];

/** Sends `input` to `base` (the surface's root URL) and returns the answer. */
export function send(base: string, input: BadInput): Promise<Response> {
  const method = input.method ?? "POST";
  return fetch(`${base}${input.path ?? ""}`, {
    method,
    headers: input.headers ?? {},
    ...(input.body === undefined ? {} : { body: input.body }),
  });
}

/**
 * Asserts an error answer: its status, JSON `{error, field?}` (error one line), the headers it
 * must carry, and nothing of an HTML page, a stack or a server path. Returns the body.
 */
export async function expectErrorAnswer(res: Response, input: Omit<BadInput, "name">): Promise<ErrorBody> {
  const text = await res.text();
  const what = `${res.status} ${text.slice(0, 300)}`;
  expect(res.status, what).toBe(input.status);
  expect(res.headers.get("content-type"), what).toMatch(/^application\/json/);
  expect(text.toLowerCase(), what).not.toContain("<html");
  expect(text, what).not.toMatch(/\bat .*[(/].*:\d+:\d+/);
  expect(text, what).not.toContain("/node_modules/");
  expect(text, what).not.toContain(process.cwd());
  const body = JSON.parse(text) as ErrorBody;
  expect(
    Object.keys(body).filter((k) => k !== "error" && k !== "field"),
    what,
  ).toEqual([]);
  expect(body.error, what).toEqual(expect.any(String));
  expect(body.error, what).not.toMatch(/[\r\n]/);
  expect(body.field, what).toBe(input.field);
  if (input.error) expect(body.error, what).toMatch(input.error);
  if (input.allow !== undefined) expect(res.headers.get("allow"), what).toBe(input.allow);
  expect(res.headers.get("retry-after") !== null, what).toBe(input.retryAfter === true);
  return body;
}
