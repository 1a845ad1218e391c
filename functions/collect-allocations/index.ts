import { http } from "@google-cloud/functions-framework";
import { collectErrorAnswer, summaryToJson, windowFromQuery } from "#app/collect-allocations.ts";
import { getRuntime } from "#runtime/runtime.ts";

/** Scheduled (hourly): the previous hour's Kubernetes allocations become events; ?from=&to= re-collects a window. */
http("collectAllocations", async (req, res) => {
  const { collectAllocations } = await getRuntime();
  if (!collectAllocations) {
    res.status(200).json({ skipped: "no allocations source configured" });
    return;
  }
  try {
    res.status(200).json(summaryToJson(await collectAllocations.collect(windowFromQuery(req.query))));
  } catch (error) {
    const answer = collectErrorAnswer(error);
    if (!answer) throw error;
    res.status(answer.status).set(answer.headers).json(answer.body);
  }
});
