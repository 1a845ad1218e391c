import { collectErrorAnswer, summaryToJson, windowFromQuery } from "#app/collect-allocations.ts";
import { HttpError, httpFunction } from "#runtime/http-errors.ts";
import { getRuntime } from "#runtime/runtime.ts";

/** Scheduled (hourly): the previous hour's Kubernetes allocations become events; ?from=&to= re-collects a window. */
httpFunction("collectAllocations", { methods: ["POST"] }, async (req, res) => {
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
    const field = /^(from|to|window): /.exec(answer.body.error)?.[1];
    throw new HttpError(answer.status, answer.body.error, {
      headers: answer.headers,
      ...(field === undefined ? {} : { field }),
    });
  }
});
