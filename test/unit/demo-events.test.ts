import { describe, expect, it } from "vitest";
import type { DemoCloudEvent, InferenceWireData, TrainingWireData } from "#domain/demo/demo-cloud-event.ts";
import { isoTime } from "#domain/demo/demo-cloud-event.ts";
import { demoEventStream, generateDemoEvents } from "#domain/demo/demo-events.ts";
import { syntheticInferenceEvents } from "#domain/demo/load-events.ts";
import { createSeededRandom, shuffleInPlace } from "#domain/demo/seeded-random.ts";
import {
  AWS_INSTANCE_TYPES,
  AWS_REGION,
  BUSINESS_UNITS,
  GCP_ACCELERATORS,
  GCP_REGION,
  syntheticOrg,
} from "#domain/demo/synthetic-org.ts";
import { ALLOCATION_V1, FIXED_V1, INFERENCE_V1, TRAINING_V1 } from "#domain/events/cloud-event.ts";
import { parseCostEvent, type Rejection } from "#domain/events/parse.ts";

const HOUR_MS = 3_600_000;
// A Monday and a Tuesday: two whole weekdays.
const FROM = new Date("2026-11-02T00:00:00.000Z");
const HOURS = 48;
const NOW = new Date(FROM.getTime() + (HOURS + 1) * HOUR_MS);
const events = generateDemoEvents({ from: FROM, hours: HOURS, seed: 42 });

const inference = events.flatMap((e) => (e.type === INFERENCE_V1 ? [e.data as InferenceWireData] : []));
const training = events.flatMap((e) => (e.type === TRAINING_V1 ? [e.data as TrainingWireData] : []));

function jobs(list: TrainingWireData[]): Map<string, TrainingWireData[]> {
  const byJob = new Map<string, TrainingWireData[]>();
  for (const d of list) byJob.set(d.job_id, [...(byJob.get(d.job_id) ?? []), d]);
  return byJob;
}

function rejections(list: readonly DemoCloudEvent[], now: Date): Rejection[] {
  return list.flatMap((e) => {
    const parsed = parseCostEvent(e, now);
    return parsed.ok ? [] : [parsed.rejection];
  });
}

describe("generateDemoEvents", () => {
  it("emits only events that parseCostEvent accepts", () => {
    expect(events.length).toBeGreaterThan(20_000);
    expect(rejections(events, NOW)).toEqual([]);
  });

  it("emits structured-mode CloudEvents with unique (source, id), in time order", () => {
    const keys = new Set(events.map((e) => `${e.source}\u0000${e.id}`));
    expect(keys.size).toBe(events.length);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(events.every((e) => e.specversion === "1.0" && e.datacontenttype === "application/json")).toBe(
      true,
    );
    const times = events.map((e) => Date.parse(e.time));
    expect(times.every((t, i) => i === 0 || t >= (times[i - 1] as number))).toBe(true);
    expect(
      events.filter((e) => e.type === INFERENCE_V1).every((e) => e.source.startsWith("//inference/")),
    ).toBe(true);
    // Nothing after the range: only the last hour's allocations are stamped at its end, when that
    // hour is collected. Before it: the start of a training job still running when the range begins
    // (a job is reported whole); the range starts at midnight, so its first day's licence is at its start.
    const end = FROM.getTime() + HOURS * HOUR_MS;
    expect(times.every((t) => t <= end)).toBe(true);
    expect(new Set(events.filter((e) => Date.parse(e.time) === end).map((e) => e.type))).toEqual(
      new Set([ALLOCATION_V1]),
    );
    const before = events.filter((e) => Date.parse(e.time) < FROM.getTime());
    expect(before.filter((e) => e.type === FIXED_V1)).toHaveLength(0);
    const early = before.filter((e) => e.type === TRAINING_V1).map((e) => e.data as TrainingWireData);
    expect(early.length).toBe(before.length);
    // Each of them a job still running when the range starts (the week's runaway among them).
    for (const jobId of new Set(early.map((d) => d.job_id))) {
      const inRange = events.filter(
        (e) =>
          e.type === TRAINING_V1 &&
          (e.data as TrainingWireData).job_id === jobId &&
          Date.parse(e.time) >= FROM.getTime(),
      );
      expect(inRange.length).toBeGreaterThan(0);
    }
  });

  it("is deterministic: same options, same events; another seed, other events", () => {
    const again = generateDemoEvents({ from: FROM, hours: HOURS, seed: 42 });
    expect(again).toEqual(events);
    expect(JSON.stringify(again)).toBe(JSON.stringify(events));
    const other = generateDemoEvents({ from: FROM, hours: HOURS, seed: 43 });
    expect(other.map((e) => e.id)).not.toEqual(events.map((e) => e.id));
    expect(other.slice(0, 200).map((e) => e.data)).not.toEqual(events.slice(0, 200).map((e) => e.data));
  });

  it("streams exactly the same events, lazily", () => {
    const stream = demoEventStream({ from: FROM, hours: HOURS, seed: 42 });
    const first = [...Array(5)].map(() => stream.next().value);
    expect(first).toEqual(events.slice(0, 5));
    expect([...first, ...stream]).toEqual(events);
  });

  it("covers the three business units, the five models with their versions, and the provider API", () => {
    expect(new Set(inference.map((d) => d.business_unit))).toEqual(new Set(BUSINESS_UNITS));
    const org = syntheticOrg();
    expect(org.models.map((m) => m.name).sort()).toEqual(
      ["chat-assistant", "embedder", "fraud-detector", "ranker", "vision-tagger"].sort(),
    );
    for (const model of org.models) {
      const versions = new Set(inference.filter((d) => d.model === model.name).map((d) => d.model_version));
      expect(versions).toEqual(new Set(model.versions.map((v) => v.version)));
    }
    const provider = inference.filter((d) => d.provider !== undefined);
    expect(new Set(provider.map((d) => `${d.provider}/${d.model}`))).toEqual(new Set(["openai/gpt-4o-mini"]));
    expect(provider.every((d) => (d.input_tokens ?? 0) > 0 && (d.output_tokens ?? 0) > 0)).toBe(true);
    const costCenters = new Set(inference.map((d) => d.cost_center));
    expect(costCenters).toContain("CC-1010");
  });

  it("uses the pricing catalog's placement keys exactly", () => {
    const placed = [...inference.filter((d) => d.provider === undefined), ...training];
    const gcpKeys = new Set<string>(GCP_ACCELERATORS);
    const awsKeys = new Set<string>(AWS_INSTANCE_TYPES);
    const misplaced = placed.filter((d) =>
      d.cloud === "gcp"
        ? d.region !== GCP_REGION || !gcpKeys.has(d.accelerator ?? "") || d.instance_type !== undefined
        : d.cloud !== "aws" ||
          d.region !== AWS_REGION ||
          !awsKeys.has(d.instance_type ?? "") ||
          d.accelerator !== undefined,
    );
    expect(misplaced).toEqual([]);
    const used = new Set(placed.map((d) => d.accelerator ?? d.instance_type));
    expect(used).toEqual(new Set([...GCP_ACCELERATORS, ...AWS_INSTANCE_TYPES]));
  });

  it("gives requests realistic GPU time: 10–400 ms, whole GPUs or half a shared L4", () => {
    const gpu = inference.filter((d) => d.provider === undefined);
    const odd = gpu.filter(
      (d) =>
        !((d.gpu_seconds ?? 0) > 0.004 && (d.gpu_seconds ?? 0) < 0.5) ||
        d.gpu_count !== (d.accelerator === "nvidia-l4" ? 0.5 : 1),
    );
    expect(odd).toEqual([]);
    const chat = gpu.filter((d) => d.model === "chat-assistant");
    expect(chat.every((d) => (d.input_tokens ?? 0) > 0 && (d.output_tokens ?? 0) > 0)).toBe(true);
  });

  it("has diurnal inference traffic: the busiest hour of day carries over 3× the quietest", () => {
    const perHour = new Array<number>(24).fill(0);
    for (const e of events) {
      if (e.type !== INFERENCE_V1) continue;
      const hour = new Date(e.time).getUTCHours();
      perHour[hour] = (perHour[hour] ?? 0) + 1;
    }
    const peak = Math.max(...perHour);
    const trough = Math.min(...perHour);
    expect(peak).toBeGreaterThan(3 * trough);
    expect(perHour.indexOf(peak)).toBeGreaterThanOrEqual(12);
    expect(perHour.indexOf(peak)).toBeLessThanOrEqual(18);
    expect(perHour.indexOf(trough)).toBeLessThanOrEqual(6);
  });

  it("reports training jobs as lifecycle events with ~15-minute heartbeats and cumulative elapsed time", () => {
    const byJob = jobs(training);
    expect(byJob.size).toBeGreaterThanOrEqual(8);
    for (const list of byJob.values()) {
      expect(list[0]?.phase).toBe("started");
      expect(list[0]?.elapsed_seconds).toBe(0);
      const elapsed = list.map((d) => d.elapsed_seconds);
      expect(elapsed.every((s, i) => i === 0 || s > (elapsed[i - 1] as number))).toBe(true);
      const beats = list.filter((d) => d.phase === "progress").map((d) => d.elapsed_seconds);
      for (let i = 1; i < beats.length; i++) {
        const gap = (beats[i] as number) - (beats[i - 1] as number);
        expect(gap).toBeGreaterThan(14 * 60);
        expect(gap).toBeLessThan(16 * 60);
      }
      expect(list.slice(0, -1).every((d) => d.phase === "started" || d.phase === "progress")).toBe(true);
    }
  });

  it("includes one runaway job: 8×A100 running 30+ hours with its epochs stalled, far past its peers", () => {
    const byJob = jobs(training);
    const runaways = [...byJob.values()].filter((list) => (list.at(-1)?.elapsed_seconds ?? 0) >= 30 * 3600);
    expect(runaways).toHaveLength(1);
    const runaway = runaways[0] ?? [];
    const last = runaway.at(-1);
    expect(last?.phase).toBe("progress");
    expect(last?.gpu_count).toBe(8);
    expect(last?.accelerator).toMatch(/a100/);
    // The epoch stops moving: the whole second half of the job reports the same epoch.
    const epochs = new Set(runaway.slice(Math.floor(runaway.length / 2)).map((d) => d.epoch));
    expect(epochs.size).toBe(1);
    const peers = [...byJob.values()].filter(
      (list) => list !== runaway && list[0]?.labels?.pipeline === runaway[0]?.labels?.pipeline,
    );
    const finishedPeers = peers.filter((list) => list.at(-1)?.phase === "finished");
    expect(finishedPeers.length).toBeGreaterThanOrEqual(2);
    for (const peer of finishedPeers) {
      expect(peer.at(-1)?.elapsed_seconds ?? 0).toBeLessThan(8 * 3600);
    }
  });

  it("includes exactly one failed job, and its retry finishes", () => {
    const byJob = jobs(training);
    const failed = [...byJob.values()].filter((list) => list.some((d) => d.phase === "failed"));
    expect(failed).toHaveLength(1);
    const failedJob = failed[0] ?? [];
    expect(failedJob.at(-1)?.phase).toBe("failed");
    expect(failedJob.at(-1)?.labels?.failure_reason).toBeTruthy();
    const retries = [...byJob.values()].filter(
      (list) =>
        list !== failedJob &&
        list[0]?.labels?.pipeline === failedJob[0]?.labels?.pipeline &&
        list.at(-1)?.phase === "finished",
    );
    expect(retries.length).toBeGreaterThanOrEqual(1);
  });

  it("includes a team sending the same requests over and over without a cache", () => {
    const counts = new Map<string, InferenceWireData[]>();
    for (const d of inference) {
      if (d.request_fingerprint === undefined) continue;
      counts.set(d.request_fingerprint, [...(counts.get(d.request_fingerprint) ?? []), d]);
    }
    const repeated = [...counts.values()].filter((list) => list.length >= 20);
    expect(repeated.length).toBeGreaterThanOrEqual(5);
    const teams = new Set(repeated.flat().map((d) => d.team));
    expect(teams.size).toBe(1);
    expect(repeated.flat().every((d) => d.cache_hit === false)).toBe(true);
    const team = [...teams][0];
    const teamRequests = inference.filter((d) => d.team === team).length;
    expect(repeated.flat().length / teamRequests).toBeGreaterThan(0.3);
  });

  it("carries the monthly platform licence day by day, shared by usage (paid by ml-platform, naming no model)", () => {
    const fixed = events.filter((e) => e.type === FIXED_V1);
    expect(fixed).toHaveLength(2);
    const data = fixed[0]?.data as {
      period: { start: string; end: string };
      cost_nanos: string;
      allocate?: unknown;
      team: string;
      model?: string;
    };
    expect(data.period).toEqual({ start: "2026-11-02T00:00:00.000Z", end: "2026-11-03T00:00:00.000Z" });
    expect(BigInt(data.cost_nanos)).toBe((18_000n * 1_000_000_000n) / 30n);
    expect([data.allocate, data.team, data.model]).toEqual(["usage", "ml-platform", undefined]);
  });

  it("adds one fixed event per day the range touches", () => {
    const acrossMonths = generateDemoEvents({
      from: new Date("2026-10-31T20:00:00Z"),
      hours: 8,
      seed: 1,
      requestsPerHour: 50,
    });
    const fixed = acrossMonths.filter((e) => e.type === FIXED_V1).map((e) => e.time);
    expect(fixed).toEqual(["2026-10-31T00:00:00.000Z", "2026-11-01T00:00:00.000Z"]);
    expect(rejections(acrossMonths, new Date("2026-11-01T05:00:00Z"))).toEqual([]);
  });

  it("scales with requestsPerHour and handles partial hours", () => {
    const none = generateDemoEvents({ from: FROM, hours: 2.5, seed: 3, requestsPerHour: 0 });
    expect(none.every((e) => e.type !== INFERENCE_V1)).toBe(true);
    // The cluster runs whatever the traffic: two whole hours of allocations, none for the half hour.
    const windows = new Set(none.flatMap((e) => (e.type === ALLOCATION_V1 ? [e.data.window.start] : [])));
    expect([...windows]).toEqual([FROM.toISOString(), new Date(FROM.getTime() + HOUR_MS).toISOString()]);
    const few = generateDemoEvents({ from: FROM, hours: 2.5, seed: 3, requestsPerHour: 100 });
    const many = generateDemoEvents({ from: FROM, hours: 2.5, seed: 3, requestsPerHour: 10_000 });
    expect(many.length).toBeGreaterThan(50 * few.length);
    expect(rejections(many, new Date(FROM.getTime() + 3 * HOUR_MS))).toEqual([]);
  });

  it("rejects nonsense options", () => {
    expect(() => generateDemoEvents({ from: new Date("nope"), hours: 1, seed: 1 })).toThrow(RangeError);
    expect(() => generateDemoEvents({ from: FROM, hours: 0, seed: 1 })).toThrow(RangeError);
    expect(() => generateDemoEvents({ from: FROM, hours: 1, seed: 1, requestsPerHour: -1 })).toThrow(
      RangeError,
    );
  });
});

describe("demo event ids: the same cost event has the same id whatever the run", () => {
  const key = (e: DemoCloudEvent) => `${e.source}\u0000${e.id}`;
  const byKey = (list: readonly DemoCloudEvent[]) => new Map(list.map((e) => [key(e), e]));
  const isLoop = (e: DemoCloudEvent) => e.id.includes("-loop-");
  const inRange = (from: number, to: number) => (e: DemoCloudEvent) =>
    Date.parse(e.time) >= from && Date.parse(e.time) < to;
  const all = byKey(events);

  it("a shorter run ending at the same time sends a subset of the longer one's events, identical", () => {
    const from = FROM.getTime() + 42 * HOUR_MS;
    const short = generateDemoEvents({ from: new Date(from), hours: 6, seed: 42 });

    expect(short.length).toBeGreaterThan(1_000);
    const missing = short.filter((e) => !all.has(key(e)));
    expect(missing).toEqual([]);
    for (const e of short) expect(all.get(key(e))).toEqual(e);
    // And nothing of the window is left out: the longer run's events inside it are all there (but the
    // allocations of the hour before it, collected at its start).
    const shortKeys = new Set(short.map(key));
    const collectedAtStart = (e: DemoCloudEvent) => e.type === ALLOCATION_V1 && Date.parse(e.time) === from;
    expect(
      events
        .filter(inRange(from, from + 6 * HOUR_MS))
        .filter((e) => !shortKeys.has(key(e)) && !collectedAtStart(e)),
    ).toEqual([]);
  });

  it("a run over an earlier, overlapping stretch sends the same events for the hours both cover", () => {
    const from = FROM.getTime() + 20 * HOUR_MS + 30 * 60_000;
    const to = from + 5 * HOUR_MS;
    // Its own spike is in its own last hours: those requests are the loop's, the hours' others are shared.
    const middle = generateDemoEvents({ from: new Date(from), hours: 5, seed: 42 });

    const shared = middle.filter((e) => !isLoop(e));
    expect(shared.filter((e) => all.get(key(e)) === undefined)).toEqual([]);
    for (const e of shared) expect(all.get(key(e))).toEqual(e);
    const middleKeys = new Set(middle.map(key));
    const window = events.filter(inRange(from, to)).filter((e) => e.type !== ALLOCATION_V1);
    expect(window.filter((e) => !middleKeys.has(key(e)))).toEqual([]);
    expect(middle.filter(isLoop).length).toBeGreaterThan(100);
    expect(events.filter(inRange(from, to)).filter(isLoop)).toEqual([]);
  });

  it("names an hour's requests by the hour and their number in it, the same in every run", () => {
    const hour = FROM.getTime() + 15 * HOUR_MS;
    const alone = generateDemoEvents({ from: new Date(hour), hours: 1, seed: 42, inferenceSpike: false });
    const requests = alone.filter((e) => e.type === INFERENCE_V1);

    expect(requests.map((e) => e.id.slice(e.id.indexOf("-", 5) + 1, -7))).toEqual(
      requests.map(() => "20261102t15"),
    );
    expect(requests.map((e) => all.get(key(e)))).toEqual(requests);
    // Another seed is another org's history: other ids (the seed "42" too: it draws other requests).
    for (const seed of [43, "42"]) {
      const other = generateDemoEvents({ from: new Date(hour), hours: 1, seed, inferenceSpike: false });
      expect(other.filter((e) => e.type === INFERENCE_V1).some((e) => all.has(key(e)))).toBe(false);
    }
  });

  it("gives a training job the same events in every run it shows in, up to each run's end", () => {
    const from = FROM.getTime() + 30 * HOUR_MS;
    const later = generateDemoEvents({ from: new Date(from), hours: 30, seed: 42 });
    const jobsOf = (list: readonly DemoCloudEvent[]) =>
      new Set(list.flatMap((e) => (e.type === TRAINING_V1 ? [(e.data as TrainingWireData).job_id] : [])));
    const shared = [...jobsOf(later)].filter((id) => jobsOf(events).has(id));

    // The week's runaway, and the jobs running across the 48th hour, are in both.
    expect(shared.length).toBeGreaterThanOrEqual(3);
    const end = FROM.getTime() + HOURS * HOUR_MS;
    for (const id of shared) {
      const ofJob = (list: readonly DemoCloudEvent[]) =>
        list.filter((e) => e.type === TRAINING_V1 && (e.data as TrainingWireData).job_id === id);
      const mine = ofJob(events);
      expect(ofJob(later).filter((e) => Date.parse(e.time) < end)).toEqual(mine);
    }
  });

  it("ids each day's licence by its day alone, the month's days adding up to the monthly amount", () => {
    const runs = [
      events,
      generateDemoEvents({
        from: new Date("2026-11-20T05:00:00Z"),
        hours: 3,
        seed: "other",
        requestsPerHour: 10,
      }),
      generateDemoEvents({ from: new Date("2026-11-29T22:00:00Z"), hours: 1, seed: 7, requestsPerHour: 0 }),
    ];

    const licences = runs.map((list) => list.filter((e) => e.type === FIXED_V1));
    const byId = new Map(licences.flat().map((e) => [e.id, e]));
    for (const list of licences) for (const e of list) expect(e).toEqual(byId.get(e.id));
    expect(licences[1]?.map((e) => e.id)).toEqual(["demo-fixed-2026-11-20"]);
    expect(licences[2]?.map((e) => e.id)).toEqual(["demo-fixed-2026-11-29"]);
    const december = generateDemoEvents({
      from: new Date("2026-12-01T00:00:00Z"),
      hours: 31 * 24,
      seed: 42,
      requestsPerHour: 0,
    });
    const days = december.filter((e) => e.type === FIXED_V1);
    expect(days.map((e) => e.id)).toHaveLength(31);
    const total = days.reduce((sum, e) => sum + BigInt((e.data as { cost_nanos: string }).cost_nanos), 0n);
    expect(total).toBe(18_000n * 1_000_000_000n);
  });
});

describe("syntheticInferenceEvents", () => {
  it("generates valid, unique, time-ordered inference events deterministically", () => {
    const list = syntheticInferenceEvents(20_000, 9);
    expect(list).toHaveLength(20_000);
    expect(list.every((e) => e.type === INFERENCE_V1)).toBe(true);
    expect(new Set(list.map((e) => e.id)).size).toBe(list.length);
    const times = list.map((e) => Date.parse(e.time));
    expect(times.every((t, i) => i === 0 || t >= (times[i - 1] as number))).toBe(true);
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThan(3.9 * HOUR_MS);
    expect(rejections(list, new Date(Date.parse("2026-11-02T05:00:00Z")))).toEqual([]);
    expect(syntheticInferenceEvents(20_000, 9)).toEqual(list);
    expect(syntheticInferenceEvents(100, 10)[0]?.id).not.toBe(list[0]?.id);
  });

  it("honours from and hours", () => {
    const from = new Date("2027-01-10T06:00:00Z");
    const list = syntheticInferenceEvents(500, 1, { from, hours: 1 });
    const times = list.map((e) => Date.parse(e.time));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(from.getTime());
    expect(Math.max(...times)).toBeLessThan(from.getTime() + HOUR_MS);
    expect(syntheticInferenceEvents(0, 1)).toEqual([]);
  });
});

describe("seeded random helpers", () => {
  it("formats times exactly like Date#toISOString", () => {
    for (const ms of [0, 1, 999, 59_999, 1_764_000_000_123, -1, -60_001, 253_402_300_800_000]) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });

  it("repeats the same sequence for the same seed and stays in range", () => {
    const a = createSeededRandom("seed");
    const b = createSeededRandom("seed");
    const drawsA = Array.from({ length: 1000 }, () => a.int(-3, 3));
    expect(Array.from({ length: 1000 }, () => b.int(-3, 3))).toEqual(drawsA);
    expect(new Set(drawsA)).toEqual(new Set([-3, -2, -1, 0, 1, 2, 3]));
    expect(createSeededRandom(1).next()).not.toBe(createSeededRandom(2).next());
    const c = createSeededRandom(5);
    const picks = Array.from({ length: 10_000 }, () => c.weightedPick(["x", "y", "z"], [1, 0, 3]));
    expect(picks).not.toContain("y");
    expect(picks.filter((p) => p === "z").length / picks.length).toBeCloseTo(0.75, 1);
    const shuffled = shuffleInPlace([1, 2, 3, 4, 5, 6, 7, 8], createSeededRandom(7));
    expect([...shuffled].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
