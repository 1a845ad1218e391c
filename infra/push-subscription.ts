import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { after, type ChildOptions } from "./child-options.ts";
import { ROLES } from "./iam-roles.ts";
import { childName } from "./names.ts";

/**
 * Topic-triggered functions get their messages from a push subscription of ours, not from an Eventarc
 * trigger (eventTrigger). Eventarc creates and owns the trigger's subscription: neither the function
 * nor the trigger resource can give it a dead-letter policy (hashicorp/terraform-provider-google#17697,
 * #25069), so with RETRY_POLICY_RETRY a failing message is retried until the subscription's 24-hour
 * retention drops it, unbounded and then silently lost. A subscription we declare has both: a retry
 * policy with backoff and a dead-letter policy whose delivery attempts bound the retries, after which
 * Pub/Sub moves the message to the dead-letter topic. It pushes to the function's Cloud Run URL with
 * an OIDC token of an account that may invoke only that function; the Functions Framework turns the
 * push request into the same messagePublished CloudEvent Eventarc would deliver (the path names the
 * topic, which becomes the event's source), and a thrown error answers 500, which Pub/Sub retries.
 */
export const PUSH_DELIVERY = {
  maxDeliveryAttempts: 10,
  minimumBackoff: "10s",
  maximumBackoff: "600s",
  /** A week of backlog: an outage of the function loses nothing shorter. */
  messageRetention: "604800s",
} as const;

/** Pub/Sub waits for the push response until the ack deadline (10 to 600 s): the function's timeout. */
export function pushAckDeadline(timeoutSeconds: number): number {
  return Math.min(600, Math.max(10, timeoutSeconds));
}

export interface PushSubscriptionArgs {
  project: string;
  /** The subscription's name, and the base of its child resources' names. */
  subscriptionName: string;
  topic: gcp.pubsub.Topic;
  deadLetterTopic: gcp.pubsub.Topic;
  /** The function's Cloud Run URL: the push endpoint's base and the OIDC audience Cloud Run checks. */
  serviceUrl: pulumi.Input<string>;
  pushAccount: gcp.serviceaccount.Account;
  ackDeadlineSeconds: number;
  /** service-PROJECT_NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com, as an IAM member. */
  pubsubAgent: pulumi.Input<string>;
  labels: Readonly<Record<string, string>>;
}

/**
 * The subscription, and what the Pub/Sub service agent needs for it: subscriber on it (to acknowledge
 * what it dead-letters) and token creator on the push identity (projects from before April 2021 need
 * it to sign the OIDC tokens). Publishing to the dead-letter topic is granted once per topic by the caller.
 */
export function declarePushSubscription(
  name: string,
  args: PushSubscriptionArgs,
  opts: ChildOptions,
): gcp.pubsub.Subscription {
  const { project } = args;
  const tokenCreator = new gcp.serviceaccount.IAMMember(
    childName(name, "push-token-creator"),
    { serviceAccountId: args.pushAccount.name, role: ROLES.tokenCreator, member: args.pubsubAgent },
    after(opts),
  );
  const subscription = new gcp.pubsub.Subscription(
    childName(name, "subscription"),
    {
      project,
      name: args.subscriptionName,
      topic: args.topic.id,
      ackDeadlineSeconds: args.ackDeadlineSeconds,
      messageRetentionDuration: PUSH_DELIVERY.messageRetention,
      // The default expires a subscription after 31 days without deliveries; a quiet topic is normal here.
      expirationPolicy: { ttl: "" },
      retryPolicy: {
        minimumBackoff: PUSH_DELIVERY.minimumBackoff,
        maximumBackoff: PUSH_DELIVERY.maximumBackoff,
      },
      deadLetterPolicy: {
        deadLetterTopic: args.deadLetterTopic.id,
        maxDeliveryAttempts: PUSH_DELIVERY.maxDeliveryAttempts,
      },
      pushConfig: {
        pushEndpoint: pulumi.interpolate`${args.serviceUrl}/projects/${project}/topics/${args.topic.name}`,
        oidcToken: { serviceAccountEmail: args.pushAccount.email, audience: args.serviceUrl },
      },
      labels: { ...args.labels },
    },
    after(opts, tokenCreator),
  );
  new gcp.pubsub.SubscriptionIAMMember(
    childName(name, "subscription-agent"),
    { project, subscription: subscription.name, role: ROLES.pubsubSubscriber, member: args.pubsubAgent },
    after(opts),
  );
  return subscription;
}
