import type { Logger } from "#ports/logger.ts";

export interface Scheduler {
  stop(): Promise<void>;
}

/**
 * Runs each job every `everyMs`, never two runs of the same job at once (a slow run delays the next
 * instead of piling up). Errors are logged; the next tick tries again, as Cloud Scheduler would.
 */
export function startIntervalScheduler(
  jobs: ReadonlyArray<{ name: string; everyMs: number; run: () => Promise<void> }>,
  logger: Logger,
): Scheduler {
  const running = new Set<Promise<void>>();
  const timers = jobs.map((job) => {
    let busy = false;
    return setInterval(() => {
      if (busy) return;
      busy = true;
      const run = job
        .run()
        .catch((error: unknown) => logger.error(`scheduled ${job.name} failed`, { error: String(error) }))
        .finally(() => {
          busy = false;
          running.delete(run);
        });
      running.add(run);
    }, job.everyMs);
  });
  return {
    async stop() {
      for (const t of timers) clearInterval(t);
      await Promise.all(running);
    },
  };
}
