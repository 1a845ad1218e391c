import type { Logger } from "#ports/logger.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SEVERITY: Record<LogLevel, string> = { debug: "DEBUG", info: "INFO", warn: "WARNING", error: "ERROR" };
/** Fields never logged as given. A token (a credential) is, tokens (a count of a model's) are not. */
const SECRET_KEY = /token(?!s)|secret|password|authorization|signature/i;

export interface LoggerOptions {
  level?: LogLevel;
  /** json: one object per line, as Cloud Logging reads it; pretty: for a terminal. */
  format?: "json" | "pretty";
  write?: (line: string) => void;
}

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).map(([k, v]) => [
      k,
      SECRET_KEY.test(k) ? "[redacted]" : typeof v === "bigint" ? v.toString() : v,
    ]),
  );
}

export function createLogger({
  level = "info",
  format = "json",
  write = (l) => process.stderr.write(`${l}\n`),
}: LoggerOptions = {}): Logger {
  const log = (at: LogLevel, message: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[at] < ORDER[level]) return;
    const safe = redact(fields);
    if (format === "json") {
      write(JSON.stringify({ severity: SEVERITY[at], message, ...safe }));
      return;
    }
    const extra = Object.keys(safe).length ? ` ${JSON.stringify(safe)}` : "";
    write(`${at.padEnd(5)} ${message}${extra}`);
  };
  return {
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
  };
}
