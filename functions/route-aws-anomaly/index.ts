import type { RouteAwsAnomalyRuntime } from "#app/route-aws-anomaly.ts";
import { HttpError, httpFunction } from "#runtime/http-errors.ts";
import { getRuntime, type Runtime } from "#runtime/runtime.ts";

/**
 * SNS HTTP/S endpoint for AWS Cost Anomaly Detection: 200 handled, 4xx refused (unsigned, forged,
 * stale, replayed, other topic: no alert, no retry), 503 retry later (certificate unreachable).
 * A refusal's answer says why in `error` beside its `outcome`.
 */
httpFunction("routeAwsAnomaly", { methods: ["POST"] }, async (req, res) => {
  const { routeAwsAnomaly }: Runtime & RouteAwsAnomalyRuntime = await getRuntime();
  if (!routeAwsAnomaly) throw new HttpError(404, "no awsAnomalies section in the configuration");
  const answer = await routeAwsAnomaly.handle({ body: req.rawBody ?? "", headers: req.headers });
  const { outcome, detail } = answer.body;
  const body =
    answer.status < 400 ? answer.body : { error: detail ?? outcome.replace(/_/g, " "), ...answer.body };
  res.status(answer.status).set(answer.headers).json(body);
});
