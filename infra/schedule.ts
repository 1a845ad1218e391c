/** Cloud Scheduler settings for a scheduled function, from the registry's cron expression. */
export interface SchedulerSettings {
  schedule: string;
  timeZone: string;
  /** How long Scheduler waits for the function before counting the attempt failed. */
  attemptDeadline: string;
  retryCount: number;
}

export class CronError extends Error {
  override readonly name = "CronError";
}

const FIELDS: readonly { name: string; min: number; max: number }[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day of week", min: 0, max: 7 },
];

function checkPart(part: string, field: { name: string; min: number; max: number }, cron: string): void {
  const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
  if (!match)
    throw new CronError(
      `cron ${JSON.stringify(cron)}: ${field.name} ${JSON.stringify(part)} is not a number, range, * or step`,
    );
  const [, , from, to, step] = match;
  for (const value of [from, to]) {
    if (value !== undefined && (Number(value) < field.min || Number(value) > field.max)) {
      throw new CronError(
        `cron ${JSON.stringify(cron)}: ${field.name} ${value} is outside ${field.min}-${field.max}`,
      );
    }
  }
  if (from !== undefined && to !== undefined && Number(from) > Number(to)) {
    throw new CronError(`cron ${JSON.stringify(cron)}: ${field.name} range ${part} runs backwards`);
  }
  if (step !== undefined && Number(step) < 1)
    throw new CronError(`cron ${JSON.stringify(cron)}: step must be at least 1`);
}

/** Checks a five-field unix cron expression (numbers, ranges, lists, * and steps; no names). */
export function checkCron(cron: string): string {
  const parts = cron.trim().split(/\s+/);
  if (parts.length !== FIELDS.length)
    throw new CronError(`cron ${JSON.stringify(cron)}: expected 5 fields, got ${parts.length}`);
  parts.forEach((field, i) => {
    const spec = FIELDS[i];
    if (spec === undefined) return;
    for (const part of field.split(",")) checkPart(part, spec, cron);
  });
  return parts.join(" ");
}

/**
 * UTC, so the schedule does not shift with daylight saving; the deadline leaves the function its whole
 * timeout plus start-up (Scheduler allows 15 s to 30 min); one retry, since each run also rebuilds
 * whatever the last one missed.
 */
export function schedulerSettings(cron: string, functionTimeoutSeconds: number): SchedulerSettings {
  const deadline = Math.min(1800, Math.max(15, functionTimeoutSeconds + 30));
  return { schedule: checkCron(cron), timeZone: "Etc/UTC", attemptDeadline: `${deadline}s`, retryCount: 1 };
}
