import type { FunctionSpec } from "../../functions/registry.ts";

/** A subscription a process pulls a topic's messages from. */
export interface BusSubscriptionSpec {
  topic: string;
  name: string;
}

/** The subscription the local stack feeds a topic-triggered function from. */
export function localSubscriptionName(target: string): string {
  return `${target}-local`;
}

/** Every subscription the local stack pulls from: one per topic-triggered function. */
export function localSubscriptions(functions: readonly FunctionSpec[]): BusSubscriptionSpec[] {
  return functions.flatMap((f) =>
    f.trigger.kind === "topic" ? [{ topic: f.trigger.topic, name: localSubscriptionName(f.target) }] : [],
  );
}
