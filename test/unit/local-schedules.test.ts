import { describe, expect, it } from "vitest";
import { localScheduleEveryMs } from "../../bin/commands/local-session.ts";
import { FUNCTIONS } from "../../functions/registry.ts";

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const local = { port: 0, rollupIntervalMs: 1000, maxInFlightBodies: 16, maxInFlightBytes: 16 * 1024 ** 2 };

/** The scheduled functions, and whether their cron runs every hour. */
const scheduled = FUNCTIONS.flatMap((f) =>
  f.trigger.kind === "schedule"
    ? [{ target: f.target, hourly: /^\d+ \* \* \* \*$/.test(f.trigger.cron) }]
    : [],
);

describe("the local stack's schedules (bin/commands/local-session.ts)", () => {
  it("runs the weekly digests hourly, not every minute", () => {
    expect(localScheduleEveryMs("sendBudgetDigest", local)).toBe(HOUR_MS);
    expect(localScheduleEveryMs("sendScorecardDigest", local)).toBe(HOUR_MS);
  });

  it("runs only the hourly cron jobs more often than hourly; the rollup refresh as configured", () => {
    expect(scheduled.map((s) => s.target)).toEqual(
      expect.arrayContaining(["sendBudgetDigest", "sendScorecardDigest", "reconcileDaily"]),
    );
    for (const { target, hourly } of scheduled) {
      if (!hourly) expect(localScheduleEveryMs(target, local), target).toBeGreaterThanOrEqual(HOUR_MS);
    }
    expect(localScheduleEveryMs("refreshRollups", local)).toBe(1000);
    expect(localScheduleEveryMs("detectAnomalies", local)).toBe(MINUTE_MS);
  });
});
