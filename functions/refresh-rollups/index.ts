import { httpFunction } from "#runtime/http-errors.ts";
import { getRuntime } from "#runtime/runtime.ts";

/** Scheduled (Cloud Scheduler, hourly; locally every second): rebuild the hourly rollup for every hour written since the last run. */
httpFunction("refreshRollups", { methods: ["POST"] }, async (_req, res) => {
  const { refreshRollups } = await getRuntime();
  const ranges = await refreshRollups.refresh();
  res
    .status(200)
    .json({ refreshed: ranges.map((r) => ({ from: r.from.toISOString(), to: r.to.toISOString() })) });
});
