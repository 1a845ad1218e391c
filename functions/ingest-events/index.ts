import { type CloudEvent, cloudEvent } from "@google-cloud/functions-framework";
import { decodePubSubMessage, pubSubMessageOf } from "#domain/events/decode-body.ts";
import { getRuntime } from "#runtime/runtime.ts";

/**
 * Pub/Sub (events topic) → ingest. Returning acknowledges, bad events included: they are in the
 * rejected table and on the dead-letter topic. A transient failure throws, so Pub/Sub redelivers.
 * A CloudEvent that is not a Pub/Sub message (posted by hand) is ingested as the event itself.
 */
cloudEvent("ingestEvents", async (event: CloudEvent<unknown>) => {
  const { ingestEvents } = await getRuntime();
  const message = pubSubMessageOf(event.data);
  const { body, contentType, contentEncoding } = message
    ? decodePubSubMessage(message)
    : { body: JSON.stringify(event), contentEncoding: undefined };
  await ingestEvents.ingest(body, contentType, contentEncoding);
});
