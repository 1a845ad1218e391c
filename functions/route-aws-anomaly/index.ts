import { http } from "@google-cloud/functions-framework";
import type { RouteAwsAnomalyRuntime } from "#app/route-aws-anomaly.ts";
import { getRuntime, type Runtime } from "#runtime/runtime.ts";

/**
 * SNS HTTP/S endpoint for AWS Cost Anomaly Detection: 200 handled, 4xx refused (unsigned, forged,
 * stale, replayed, other topic: no alert, no retry), 503 retry later (certificate unreachable).
 */
http("routeAwsAnomaly", async (req, res) => {
  if (req.method !== "POST") {
    res.set("Allow", "POST").status(405).json({ error: "use POST" });
    return;
  }
  const { routeAwsAnomaly }: Runtime & RouteAwsAnomalyRuntime = await getRuntime();
  if (!routeAwsAnomaly) {
    res.status(404).json({ error: "no awsAnomalies section in the configuration" });
    return;
  }
  const answer = await routeAwsAnomaly.handle({ body: req.rawBody ?? "", headers: req.headers });
  res.status(answer.status).set(answer.headers).json(answer.body);
});
