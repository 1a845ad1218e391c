import { join } from "node:path";
import { syntheticInferenceEvents } from "#domain/demo/load-events.ts";
import { TOPICS } from "#ports/bus.ts";
import { composeRuntime } from "#runtime/compose.ts";
import { readEnv } from "#runtime/env.ts";
import { startLocalStack } from "#runtime/local/local-stack.ts";
import { setRuntime } from "#runtime/runtime.ts";
import { loadFunctions } from "../functions/registry.ts";

const HOUR_MS = 3_600_000;
const TICK_MS = 100;
/** A reader asking four times a second: each answer is live, so this adds at most 250 ms to a latency. */
const POLL_MS = 250;

export interface FreshnessResult {
  probes: number;
  seen: number;
  eventsPublished: number;
  latenciesMs: number[];
}

/**
 * Publishes a steady stream on the local bus and, in every message, one probe event whose model
 * name is unique; polls the report (as `finops report` reads it) until each probe's cost shows.
 */
export async function measureFreshness(
  dir: string,
  eventsPerSecond: number,
  seconds: number,
): Promise<FreshnessResult> {
  const env = readEnv({ FINOPS_DUCKDB_PATH: join(dir, "freshness.duckdb"), FINOPS_LOG_LEVEL: "warn" });
  const runtime = await composeRuntime({ env });
  setRuntime(runtime);
  const stack = await startLocalStack({
    runtime,
    // Only the rollup's schedule: the other scheduled jobs (digests, scorecard, reconciliation) would
    // run on the same short interval and measure their own CPU, not the path to the report.
    functions: (await loadFunctions()).filter(
      (f) => f.trigger.kind !== "schedule" || f.target === "refreshRollups",
    ),
    port: 0,
    scheduleEveryMs: () => runtime.config.local.rollupIntervalMs,
  });
  const perTick = Math.max(1, Math.round((eventsPerSecond * TICK_MS) / 1000));
  const published = new Map<string, number>();
  const seenAt = new Map<string, number>();
  let eventsPublished = 0;
  let tick = 0;

  const publisher = setInterval(() => {
    const now = Date.now();
    const events = syntheticInferenceEvents(perTick, `tick-${tick}`, {
      from: new Date(now - TICK_MS),
      hours: TICK_MS / HOUR_MS,
    });
    const probe = `probe-${tick}`;
    // A GPU request: a provider's model name is what prices its tokens, so it cannot be renamed.
    const carrier = events.find((e) => !("provider" in e.data && e.data.provider));
    if (carrier) carrier.data = { ...carrier.data, model: probe };
    tick += 1;
    published.set(probe, performance.now());
    eventsPublished += events.length;
    void runtime.bus.publish(TOPICS.events, [{ data: Buffer.from(JSON.stringify(events)), attributes: {} }]);
  }, TICK_MS);

  const poll = async () => {
    const from = new Date(Math.floor(Date.now() / HOUR_MS) * HOUR_MS - HOUR_MS);
    const rows = await runtime.warehouse.report({
      by: ["model"],
      from,
      to: new Date(from.getTime() + 3 * HOUR_MS),
      reads: "live",
    });
    const now = performance.now();
    for (const row of rows) {
      const model = row.group.model;
      if (model && published.has(model) && !seenAt.has(model)) seenAt.set(model, now);
    }
  };
  const endAt = performance.now() + seconds * 1000;
  while (performance.now() < endAt) {
    await poll();
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  clearInterval(publisher);
  const graceUntil = performance.now() + 10_000;
  while (seenAt.size < published.size && performance.now() < graceUntil) {
    await poll();
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  await stack.close();
  await runtime.close();
  const latenciesMs = [...seenAt]
    .map(([probe, at]) => at - (published.get(probe) ?? at))
    .sort((a, b) => a - b);
  return { probes: published.size, seen: seenAt.size, eventsPublished, latenciesMs };
}
