import { createCostReport } from "#app/cost-report.ts";
import type { Dimension } from "#domain/cost-row.ts";
import { formatReport } from "#domain/report-format.ts";
import { type ComposeOptions, composeRuntime } from "#runtime/compose.ts";
import { type LocalStack, startLocalStack } from "#runtime/local/local-stack.ts";
import { localSubscriptions } from "#runtime/local-subscriptions.ts";
import { type Runtime, setRuntime } from "#runtime/runtime.ts";
import { FUNCTIONS, loadFunctions } from "../../functions/registry.ts";
import { writeStackFile } from "../stack-discovery.ts";
import { CLI_FUNCTION } from "../stack-endpoints.ts";
import { demoWindow, publishDemo } from "./demo-feed.ts";
import { sendGatewayDemo } from "./demo-gateway.ts";

const HOUR_MS = 3_600_000;

/**
 * How often scheduled functions run locally, by target; cron schedules are for the cloud. The hourly
 * evaluators run every minute (LOCAL_EVERY_MS), so a local stack shows its alerts soon.
 */
const LOCAL_SCHEDULES: Record<string, (local: Runtime["config"]["local"]) => number> = {
  refreshRollups: (local) => local.rollupIntervalMs,
  collectAllocations: () => 300_000,
  // Each run adds a progress event per running MLflow run: often enough that none looks abandoned.
  importMlflowRuns: () => 300_000,
  // Each run may pull the bill from the clouds' APIs (a Cost Explorer page costs $0.01): a few a day.
  reconcileDaily: () => 6 * HOUR_MS,
  // Weekly digests, one per team and ISO week whatever the re-runs: hourly sends a new week's within
  // the hour without rebuilding the scorecard and the budgets' standing every minute.
  sendBudgetDigest: () => HOUR_MS,
  sendScorecardDigest: () => HOUR_MS,
};
const LOCAL_EVERY_MS = 60_000;

/** How often the scheduled function `target` runs in the local stack. */
export function localScheduleEveryMs(target: string, local: Runtime["config"]["local"]): number {
  return LOCAL_SCHEDULES[target]?.(local) ?? LOCAL_EVERY_MS;
}

export interface LocalSession {
  runtime: Runtime;
  stack: LocalStack;
  close(): Promise<void>;
}

/** What a session may replace in the composed runtime: the environment (tests), the demo's budgets and AWS topic. */
export type SessionOverrides = Pick<
  ComposeOptions,
  "env" | "budgets" | "awsAnomalies" | "certificateFetch" | "extraDeployments"
> & {
  /** How often each scheduled function runs (tests trigger them by hand instead). */
  scheduleEveryMs?: (target: string) => number;
};

/** Where the demo writes what it shows (standard output, or a test's buffer). */
export interface DemoOut {
  write(text: string): unknown;
}

/** Builds the runtime, registers every function and starts the local stack on `port` (0: any free port; negative: the configured port, $PORT or local.port). */
export async function openLocalSession(
  port: number,
  overrides: SessionOverrides = {},
): Promise<LocalSession> {
  const { scheduleEveryMs, ...compose } = overrides;
  const runtime = await composeRuntime({
    logLevel: "warn",
    busSubscriptions: localSubscriptions(FUNCTIONS),
    ...compose,
  });
  setRuntime(runtime);
  // Every function, and the CLI's local-only endpoints (/cli, bin/stack-endpoints.ts).
  const functions = [...(await loadFunctions()), CLI_FUNCTION];
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      runtime,
      functions,
      port: port < 0 ? runtime.config.local.port : port,
      scheduleEveryMs: scheduleEveryMs ?? ((target) => localScheduleEveryMs(target, runtime.config.local)),
    });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  // Beside the warehouse, so that the CLI's commands find this stack and ask it (bin/stack-discovery.ts).
  const { warehouse } = runtime.config;
  let removeStackFile = () => {};
  if (warehouse.kind === "duckdb") {
    try {
      removeStackFile = writeStackFile(warehouse.duckdb.path, stack.url);
    } catch (error) {
      runtime.logger.warn("cannot write the stack's discovery file: commands will not find this stack", {
        error: (error as Error).message,
      });
    }
  }
  return {
    runtime,
    stack,
    async close() {
      try {
        await stack.close();
        await runtime.close();
      } finally {
        removeStackFile();
      }
    },
  };
}

/** Streams the demo org through the bus and the ingest function, waits until it is stored and rolled up. */
export async function runDemo(session: LocalSession, options: { hours: number; seed: string; out: DemoOut }) {
  const { runtime, stack } = session;
  const now = runtime.clock.now();
  const window = demoWindow(now, options.hours);
  const began = performance.now();
  let lastShown = 0;
  const published = await publishDemo(runtime.bus, {
    hours: options.hours,
    seed: options.seed,
    now,
    progress(done, total) {
      if (done - lastShown >= 20_000 || done === total) {
        lastShown = done;
        options.out.write(`  published ${done}/${total} events\n`);
      }
    },
  });
  await (runtime.bus as { drain?: () => Promise<void> }).drain?.();
  await sendGatewayDemo(session, {
    ...window,
    hours: options.hours,
    seed: options.seed,
    now,
    out: options.out,
  });
  const res = await stack.trigger("refreshRollups");
  if (!res.ok) throw new Error(`refreshRollups answered ${res.status}: ${await res.text()}`);
  const seconds = (performance.now() - began) / 1000;
  options.out.write(
    `  ${published.events} events in ${published.messages} messages ingested in ${seconds.toFixed(1)} s (${Math.round(published.events / seconds)} events/s)\n\n`,
  );
  const by: Dimension[] = ["team", "model"];
  const rows = await createCostReport({ warehouse: runtime.warehouse })({ by, ...window });
  options.out.write(
    `Cost by team and model, ${window.from.toISOString()} to ${window.to.toISOString()}:\n${formatReport(rows, by, "table")}`,
  );
  return published;
}
