import { http } from "@google-cloud/functions-framework";
import { getRuntime } from "#runtime/runtime.ts";

/** How far back a fresh instance looks: more than the scheduler's period, so a cold start misses nothing. */
const COLD_START_OVERLAP_MS = 2 * 60 * 60 * 1000;
let watermark: Date | undefined;

/** Scheduled (Cloud Scheduler, hourly; locally every second): rebuild the hourly rollup for hours touched since last run. */
http("refreshRollups", async (_req, res) => {
  const { refreshRollups, clock } = await getRuntime();
  const since = watermark ?? new Date(clock.now().getTime() - COLD_START_OVERLAP_MS);
  watermark = await refreshRollups.refresh(since);
  res.status(200).json({ since: since.toISOString(), watermark: watermark.toISOString() });
});
