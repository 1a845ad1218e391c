/** A message as the bus carries it: bytes plus string attributes (as Pub/Sub). */
export interface BusMessage {
  data: Buffer;
  attributes: Record<string, string>;
}

export interface DeliveredMessage extends BusMessage {
  id: string;
  publishTime: Date;
  /** 1 on first delivery; >1 on redelivery after a handler failure. */
  deliveryAttempt: number;
}

/** Throwing from a handler means "retry later" (nack); returning means done (ack). */
export type MessageHandler = (message: DeliveredMessage) => Promise<void>;

export interface Subscription {
  close(): Promise<void>;
}

export const TOPICS = {
  events: "finops-cost-events",
  eventsDeadLetter: "finops-cost-events-dead-letter",
  alerts: "finops-alerts",
  alertsDeadLetter: "finops-alerts-dead-letter",
  gcpBudgets: "finops-gcp-budgets",
  gcpBudgetsDeadLetter: "finops-gcp-budgets-dead-letter",
} as const;
export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

export interface Bus {
  /** Publishes in order and resolves with the message ids once the bus has accepted them. */
  publish(topic: string, messages: readonly BusMessage[]): Promise<string[]>;
  /** Delivers every message published to `topic` after this call to `handler`, at least once. */
  subscribe(topic: string, subscription: string, handler: MessageHandler): Promise<Subscription>;
  close(): Promise<void>;
}
