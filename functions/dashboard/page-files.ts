import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The dashboard page's files, served by the dashboard function itself: no CDN, so the page works
 * offline and the Content-Security-Policy can allow this origin only.
 */

const PAGE_DIR = fileURLToPath(new URL("./page/", import.meta.url));
const CHART_JS = join(dirname(fileURLToPath(import.meta.resolve("chart.js"))), "chart.umd.js");

/** Only what this origin serves: scripts and styles from files, data from /data, no inline code. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

const FILES: Readonly<Record<string, { path: string; type: string }>> = {
  "/": { path: join(PAGE_DIR, "index.html"), type: "text/html; charset=utf-8" },
  "/assets/dashboard.css": { path: join(PAGE_DIR, "dashboard.css"), type: "text/css; charset=utf-8" },
  "/assets/dashboard.js": { path: join(PAGE_DIR, "dashboard.js"), type: "text/javascript; charset=utf-8" },
  "/assets/charts.js": { path: join(PAGE_DIR, "charts.js"), type: "text/javascript; charset=utf-8" },
  "/assets/format.js": { path: join(PAGE_DIR, "format.js"), type: "text/javascript; charset=utf-8" },
  "/assets/tables.js": { path: join(PAGE_DIR, "tables.js"), type: "text/javascript; charset=utf-8" },
  "/assets/chart.umd.js": { path: CHART_JS, type: "text/javascript; charset=utf-8" },
};

/** A path prefix as a proxy names it (X-Forwarded-Prefix: "/dashboard"); anything else is ignored. */
const PREFIX = /^(\/[A-Za-z0-9_-]+)+$/;

const cache = new Map<string, Buffer>();

function read(path: string): Buffer {
  let body = cache.get(path);
  if (body === undefined) {
    body = readFileSync(path);
    cache.set(path, body);
  }
  return body;
}

/**
 * The file served at `path` (of the function's URL), or undefined. The page's links are relative to
 * its <base>, the prefix the function is mounted under (the local stack serves it under /dashboard).
 */
export function pageFile(
  path: string,
  prefix: string | undefined,
): { body: Buffer; type: string } | undefined {
  const file = FILES[path];
  if (file === undefined) return undefined;
  const body = read(file.path);
  if (path !== "/") return { body, type: file.type };
  const base = prefix !== undefined && PREFIX.test(prefix) ? `${prefix}/` : "/";
  return { body: Buffer.from(body.toString("utf8").replace("{{base}}", base)), type: file.type };
}
