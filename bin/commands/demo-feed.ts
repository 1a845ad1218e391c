import { generateDemoEvents } from "#domain/demo/demo-events.ts";
import type { Bus } from "#ports/bus.ts";
import { TOPICS } from "#ports/bus.ts";

/** Events per bus message: emitters batch hundreds of events into one CloudEvents batch. */
export const EVENTS_PER_MESSAGE = 500;
const HOUR_MS = 3_600_000;

export interface DemoFeedOptions {
  hours: number;
  seed: string;
  requestsPerHour?: number;
  now: Date;
  progress?: (published: number, total: number) => void;
}

/** The window a demo covers: whole hours ending at the current hour's end. */
export function demoWindow(now: Date, hours: number): { from: Date; to: Date } {
  const to = new Date(Math.ceil(now.getTime() / HOUR_MS) * HOUR_MS);
  return { from: new Date(to.getTime() - hours * HOUR_MS), to };
}

/** Publishes the synthetic org's events on the events topic, as CloudEvents batches, the way emitters do. */
export async function publishDemo(
  bus: Bus,
  options: DemoFeedOptions,
): Promise<{ events: number; messages: number }> {
  const { from } = demoWindow(options.now, options.hours);
  const events = generateDemoEvents({
    from,
    hours: options.hours,
    seed: options.seed,
    ...(options.requestsPerHour === undefined ? {} : { requestsPerHour: options.requestsPerHour }),
  }).filter((e) => Date.parse(e.time) <= options.now.getTime());
  let messages = 0;
  for (let i = 0; i < events.length; i += EVENTS_PER_MESSAGE) {
    const batch = events.slice(i, i + EVENTS_PER_MESSAGE);
    await bus.publish(TOPICS.events, [
      {
        data: Buffer.from(JSON.stringify(batch)),
        attributes: { "content-type": "application/cloudevents-batch+json" },
      },
    ]);
    messages += 1;
    options.progress?.(Math.min(i + EVENTS_PER_MESSAGE, events.length), events.length);
  }
  return { events: events.length, messages };
}
