import type { DeliveredMessage } from "#ports/bus.ts";

export const MESSAGE_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished";

/** The CloudEvent Eventarc hands a Pub/Sub-triggered function, built from a bus delivery. */
export function toMessagePublishedEvent(message: DeliveredMessage, projectId: string, topic: string) {
  return {
    specversion: "1.0",
    id: message.id,
    source: `//pubsub.googleapis.com/projects/${projectId}/topics/${topic}`,
    type: MESSAGE_PUBLISHED,
    time: message.publishTime.toISOString(),
    datacontenttype: "application/json",
    data: {
      message: {
        data: message.data.toString("base64"),
        attributes: message.attributes,
        messageId: message.id,
        publishTime: message.publishTime.toISOString(),
        deliveryAttempt: message.deliveryAttempt,
      },
      subscription: `projects/${projectId}/subscriptions/${topic}-local`,
    },
  };
}
