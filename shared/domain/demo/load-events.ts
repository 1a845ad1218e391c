/**
 * Many valid inference events, fast, for benchmarks: the demo org's traffic mix (GPU models and the
 * provider API) spread evenly over a few hours, without the diurnal shape or training jobs.
 */
import { type DemoCloudEvent, eventId, inferenceEvent } from "./demo-cloud-event.ts";
import { compileTraffic } from "./inference-traffic.ts";
import { createSeededRandom, hashSeed, type Seed, weightedPicker } from "./seeded-random.ts";
import { syntheticOrg } from "./synthetic-org.ts";

/** Fixed default start, so the same (count, seed) gives the same events on any day. */
export const LOAD_EVENTS_DEFAULT_FROM = new Date("2026-11-02T00:00:00.000Z");
export const LOAD_EVENTS_DEFAULT_HOURS = 4;

export interface LoadEventOptions {
  /**
   * Start of the spread. Defaults to LOAD_EVENTS_DEFAULT_FROM: a receiver that checks event times
   * against a real clock (older than 400 days is rejected) should pass a recent `from`.
   */
  from?: Date;
  hours?: number;
}

/** `count` inference events in time order over `hours` from `from`, with unique deterministic ids. */
export function syntheticInferenceEvents(
  count: number,
  seed: Seed,
  options: LoadEventOptions = {},
): DemoCloudEvent[] {
  if (!Number.isSafeInteger(count) || count < 0)
    throw new RangeError(`count must be an integer ≥ 0, got ${count}`);
  const fromMs = (options.from ?? LOAD_EVENTS_DEFAULT_FROM).getTime();
  const hours = options.hours ?? LOAD_EVENTS_DEFAULT_HOURS;
  if (!Number.isFinite(fromMs)) throw new RangeError("from must be a valid Date");
  if (!(hours > 0) || !Number.isFinite(hours))
    throw new RangeError(`hours must be a positive number, got ${hours}`);

  const runTag = `load-${hashSeed(`${seed}|${fromMs}|${hours}|${count}`).toString(16).padStart(8, "0")}`;
  const root = createSeededRandom(seed);
  const sources = compileTraffic(syntheticOrg(), root.fork("traffic"));
  const pickSource = weightedPicker(
    sources,
    sources.map((s) => s.trafficWeight),
  );
  const rng = root.fork("load");
  const slot = (hours * 3_600_000) / Math.max(count, 1);
  const events: DemoCloudEvent[] = [];
  for (let i = 0; i < count; i++) {
    const ms = Math.floor(fromMs + (i + rng.next()) * slot);
    const request = pickSource(rng.next()).request(rng);
    events.push(inferenceEvent(eventId(runTag, i), request.source, ms, request.data));
  }
  return events;
}
