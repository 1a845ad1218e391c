import { type CloudEvent, cloudEvent } from "@google-cloud/functions-framework";
import { budgetMessageOf, type RouteGcpBudgetRuntime } from "#app/route-gcp-budget.ts";
import { pubSubMessageOf } from "#domain/events/decode-body.ts";
import { getRuntime, type Runtime } from "#runtime/runtime.ts";

/**
 * Pub/Sub (the Cloud Billing budget topic) → alerts when a budget's threshold rises. Returning
 * acknowledges, invalid notifications included (logged with the field, dead-lettered when
 * configured); a transient failure throws, so Pub/Sub redelivers.
 */
cloudEvent("routeGcpBudget", async (event: CloudEvent<unknown>) => {
  const { routeGcpBudget }: Runtime & RouteGcpBudgetRuntime = await getRuntime();
  if (!routeGcpBudget) throw new Error("routeGcpBudget is not in the runtime: no seen-store configured");
  await routeGcpBudget.route(budgetMessageOf(pubSubMessageOf(event.data)));
});
