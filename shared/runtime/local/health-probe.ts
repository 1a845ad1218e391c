/** Why the probe failed, on one line; undefined when it passed. */
export type HealthProbe = () => Promise<string | undefined>;

/**
 * Runs `check` at most once per `ttlMs` after the last one settled, and shares its outcome with
 * every caller meanwhile (and while it runs), so a flood of health checks costs one check a period.
 */
export function cachedHealthProbe(check: () => Promise<void>, ttlMs = 1000): HealthProbe {
  let outcome: Promise<string | undefined> | undefined;
  let settledAt: number | undefined;
  return () => {
    if (outcome === undefined || (settledAt !== undefined && performance.now() - settledAt >= ttlMs)) {
      settledAt = undefined;
      outcome = new Promise<void>((resolve) => resolve(check()))
        .then(
          () => undefined,
          (error: unknown) => (error instanceof Error ? error.message : String(error)).split("\n")[0],
        )
        .finally(() => {
          settledAt = performance.now();
        });
    }
    return outcome;
  };
}
