import { TOPICS } from "#ports/bus.ts";
import type { Runtime } from "./runtime.ts";

/**
 * Delivers what a command publishes on the in-process bus to this process's own use cases, as the
 * local stack's topic functions do: events to ingest (collected allocations), alerts to the notifier
 * (reconciliation's drift alerts). A command run over its own runtime needs it: the memory bus drops
 * a message nothing subscribes to, and an alert is claimed before it is published, so it would be
 * marked sent and never be. Resolves to what waits until all of it is delivered, to call before the
 * runtime closes. A Pub/Sub bus needs nothing: the topics' subscriptions keep the messages.
 */
export async function deliverHere(runtime: Runtime): Promise<() => Promise<void>> {
  const bus = runtime.bus;
  if (!("drain" in bus) || typeof bus.drain !== "function") return async () => {};
  const drain = bus.drain.bind(bus) as () => Promise<void>;
  await bus.subscribe(TOPICS.events, "ingestEvents-here", async ({ data, attributes }) => {
    await runtime.ingestEvents.ingest(data, attributes["content-type"], attributes["content-encoding"]);
  });
  await bus.subscribe(TOPICS.alerts, "notifySlack-here", async (message) => {
    await runtime.notifyAlert.notifyMessage(message.data);
  });
  return drain;
}
