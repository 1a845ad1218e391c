import type { ServerResponse } from "node:http";
import { http } from "@google-cloud/functions-framework";
import { queryText } from "#app/cost-report.ts";
import { getRuntime } from "#runtime/runtime.ts";
import type { FunctionSpec } from "../functions/registry.ts";
import { UsageError } from "./cli-args.ts";
import { allocationsCollectOperation } from "./commands/allocations.ts";
import { billingImportOperation } from "./commands/billing.ts";
import { budgetsCheckOperation } from "./commands/budgets.ts";
import { exportOperation } from "./commands/export.ts";
import { jobsOperation } from "./commands/jobs.ts";
import { mlflowImportOperation } from "./commands/mlflow.ts";
import { reconcileOperation } from "./commands/reconcile.ts";
import { scorecardOperation } from "./commands/scorecard.ts";
import { describeFailure } from "./error-boundary.ts";
import type { Operation, Output } from "./operation.ts";
import type { StreamLine } from "./stack-client.ts";

/**
 * The local stack's endpoints for the CLI (local only: not a deployed function). While a stack holds
 * the DuckDB file, `finops jobs`, `budgets check`, `scorecard`, `export`, `reconcile` and `billing
 * import` ask it here instead of opening the file; each endpoint reads the command's flags from the
 * query string with the command's own code and runs it over the stack's runtime, streaming the text
 * back (bin/operation.ts). `report` asks costReport and `ingest` POST /v1/events, as before.
 *
 *   GET  /cli                     who this stack is: {pid, warehouse, commands}
 *   GET  /cli/<command>?<flags>   a command that reads; POST one that writes (billing-import: the file as the body)
 *
 * The answer is NDJSON: {"out": text} and {"err": text} lines, then {"exit": code}, or {"error":
 * line, "exit": code} for a failure (as the CLI's error boundary describes it). Flags the command
 * refuses answer 400 with {"error", "exit": 2} before anything runs (a configuration it cannot use, 500).
 */
export const CLI_TARGET = "cli";

export const CLI_FUNCTION: FunctionSpec = { target: CLI_TARGET, folder: "../bin", trigger: { kind: "http" } };

export const OPERATIONS: readonly Operation[] = [
  jobsOperation,
  budgetsCheckOperation,
  scorecardOperation,
  exportOperation,
  reconcileOperation,
  billingImportOperation,
  allocationsCollectOperation,
  mlflowImportOperation,
];

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}

/** The command's text as NDJSON lines on `res`, the head sent with the first one. */
function streamOutput(res: ServerResponse) {
  const line = (value: StreamLine): Promise<void> => {
    if (!res.headersSent) res.writeHead(200, { "content-type": "application/x-ndjson" });
    return res.write(`${JSON.stringify(value)}\n`)
      ? Promise.resolve()
      : new Promise((resolve) => {
          const done = () => {
            res.off("drain", done).off("close", done);
            resolve();
          };
          res.once("drain", done).once("close", done);
        });
  };
  const output: Output = {
    out: (text) => line({ out: text }),
    err: (text) => void line({ err: text }),
  };
  return { output, line };
}

http(CLI_TARGET, async (req, res) => {
  const runtime = await getRuntime();
  const name = req.path.replace(/^\/+|\/+$/g, "");
  if (name === "") {
    const { warehouse } = runtime.config;
    json(res, 200, {
      pid: process.pid,
      warehouse: warehouse.kind === "duckdb" ? warehouse.duckdb.path : null,
      commands: OPERATIONS.map((o) => ({ name: o.name, method: o.method })),
    });
    return;
  }
  const operation = OPERATIONS.find((o) => o.name === name);
  if (operation === undefined) {
    json(res, 404, {
      error: `no command ${JSON.stringify(name)} here; one of ${OPERATIONS.map((o) => o.name).join(", ")}`,
    });
    return;
  }
  if (req.method !== operation.method) {
    json(res, 405, { error: `use ${operation.method}` }, { allow: operation.method });
    return;
  }
  const now = typeof req.query.now === "string" ? new Date(req.query.now) : runtime.clock.now();
  let run: ReturnType<Operation["prepare"]>;
  try {
    if (Number.isNaN(now.getTime())) throw new UsageError("now: not an ISO date-time");
    // Each flag once, as on a command line; one given twice is refused, never read as absent.
    const params: Record<string, string> = {};
    for (const key of Object.keys(req.query)) {
      const value = key === "now" ? undefined : queryText(req.query, key);
      if (value !== undefined) params[key] = value;
    }
    run = operation.prepare(params, { now, config: runtime.config });
  } catch (error) {
    const failure = describeFailure(error);
    json(res, failure.code === 2 ? 400 : 500, { error: failure.message, exit: failure.code });
    return;
  }
  const stream = streamOutput(res);
  try {
    const attachment = operation.method === "POST" ? (req.rawBody ?? Buffer.alloc(0)) : undefined;
    const code = await run(runtime, stream.output, attachment);
    await stream.line({ exit: code });
  } catch (error) {
    // The command ran and failed: its exit code and line, as the CLI tells them.
    const failure = describeFailure(error);
    await stream.line({ error: failure.message, exit: failure.code });
  }
  res.end();
});
