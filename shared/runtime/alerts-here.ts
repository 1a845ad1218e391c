import { TOPICS } from "#ports/bus.ts";
import type { Runtime } from "./runtime.ts";

/**
 * Delivers the alerts published on the in-process bus to this process's notifier, as notifySlack
 * does in the local stack. A command run over its own runtime needs it: the memory bus drops a
 * message nothing subscribes to, and an alert is claimed before it is published, so it would be
 * marked sent and never be. Resolves to what waits until they are delivered, to call before the
 * runtime closes. A Pub/Sub bus needs nothing: notifySlack's subscription keeps them.
 */
export async function deliverAlertsHere(runtime: Runtime): Promise<() => Promise<void>> {
  const bus = runtime.bus;
  if (!("drain" in bus) || typeof bus.drain !== "function") return async () => {};
  const drain = bus.drain.bind(bus) as () => Promise<void>;
  await bus.subscribe(TOPICS.alerts, "notifySlack-here", async (message) => {
    await runtime.notifyAlert.notifyMessage(message.data);
  });
  return drain;
}
