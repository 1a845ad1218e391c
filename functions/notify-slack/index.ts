import { type CloudEvent, cloudEvent } from "@google-cloud/functions-framework";
import { decodePubSubMessage, pubSubMessageOf } from "#domain/events/decode-body.ts";
import { getRuntime } from "#runtime/runtime.ts";

/**
 * Pub/Sub (alerts topic) → Slack. Returning acknowledges, a poison alert included (logged with the
 * field at fault). A delivery failure throws, so Pub/Sub redelivers and, after its last attempt,
 * dead-letters the alert with the reason. A CloudEvent that is not a Pub/Sub message is the alert.
 */
cloudEvent("notifySlack", async (event: CloudEvent<unknown>) => {
  const { notifyAlert } = await getRuntime();
  const message = pubSubMessageOf(event.data);
  const { body } = message ? decodePubSubMessage(message) : { body: JSON.stringify(event.data ?? null) };
  await notifyAlert.notifyMessage(body);
});
