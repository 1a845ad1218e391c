import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAlert } from "#domain/alerts/alert.ts";
import {
  type AnomalyDimension,
  AnomalySettingsError,
  anomalySettings,
} from "#domain/anomalies/anomaly-settings.ts";
import {
  type CombinationSeries,
  groupAlert,
  groupIncidents,
  type IncidentGroup,
  type ScopeValues,
} from "#domain/anomalies/incident-groups.ts";
import {
  baselineAt,
  detectSpendAnomalies,
  HOUR_MS,
  hoursToRead,
  incidentAlert,
  madNanos,
  measuredSeries,
  medianNanos,
  type ScopeSeries,
  type SpendIncident,
  scopeLabel,
} from "#domain/anomalies/spend-anomalies.ts";
import { detectRunaways, runawayAlert } from "#domain/anomalies/training-runaway.ts";
import { createSeededRandom } from "#domain/demo/seeded-random.ts";
import type { Nanos } from "#domain/money.ts";
import type { TrainingJobRow } from "#domain/training/job-summary.ts";

const USD = 1_000_000_000n;
const s = anomalySettings();
/** A Monday 00:00 UTC; five weeks of history follow. */
const START = Date.parse("2026-10-19T00:00:00Z");
const WEEKS = 5;
const LAST_WEEK = START + (WEEKS - 1) * 168 * HOUR_MS;

/** Diurnal, weekly traffic with ±10% noise: peak `peakUsd` per hour mid-day on weekdays. */
function quietSeries(team: string, peakUsd: number, seed: number): ScopeSeries {
  const rng = createSeededRandom(seed);
  const spend = new Map<number, Nanos>();
  for (let i = 0; i < WEEKS * 168; i++) {
    const hour = START + i * HOUR_MS;
    const hourOfDay = i % 24;
    const weekend = Math.floor(i / 24) % 7 >= 5;
    const diurnal = 0.15 + 0.85 * Math.max(0, Math.sin(((hourOfDay - 6) / 16) * Math.PI));
    const usd = peakUsd * diurnal * (weekend ? 0.4 : 1) * rng.float(0.9, 1.1);
    spend.set(hour, BigInt(Math.round(usd * 1e6)) * 1000n);
  }
  return { scope: { dimension: "team", value: team, currency: "USD" }, spend };
}

const withExtra = (series: ScopeSeries, extra: [number, Nanos][]): ScopeSeries => {
  const spend = new Map(series.spend);
  for (const [hour, nanos] of extra) spend.set(hour, (spend.get(hour) ?? 0n) + nanos);
  return { ...series, spend };
};

const lastWeekHours = Array.from({ length: 168 }, (_, i) => LAST_WEEK + i * HOUR_MS);
/** Wednesday 14:00 of the last week. */
const SPIKE = LAST_WEEK + (2 * 24 + 14) * HOUR_MS;

describe("robust statistics", () => {
  it("median and MAD of bigints", () => {
    expect(medianNanos([5n, 1n, 3n])).toBe(3n);
    expect(medianNanos([1n, 2n, 3n, 4n])).toBe(3n); // 2.5 rounded half away from zero
    expect(madNanos([1n, 1n, 2n, 2n, 4n, 6n, 9n])).toBe(1n);
  });

  it("falls back from hour-of-week to hour-of-day to the last whole day, then none", () => {
    const hour = START + 30 * 24 * HOUR_MS;
    const week = new Map<number, Nanos>([1, 2, 3].map((k) => [hour - k * 168 * HOUR_MS, 10n * USD]));
    expect(baselineAt(week, hour, s)?.basis).toBe("hour-of-week");
    const day = new Map<number, Nanos>([1, 2, 3].map((d) => [hour - d * 24 * HOUR_MS, 10n * USD]));
    expect(baselineAt(day, hour, s)?.basis).toBe("hour-of-day");
    const hoursBack = (n: number) =>
      new Map<number, Nanos>(Array.from({ length: n }, (_, i) => [hour - (i + 1) * HOUR_MS, 10n * USD]));
    expect(baselineAt(hoursBack(24), hour, s)).toMatchObject({ basis: "last-day", samples: 24 });
    // Less than a whole daily cycle is no baseline: the morning's rise would look like a jump.
    expect(baselineAt(hoursBack(23), hour, s)).toBeNull();
    expect(baselineAt(new Map([[hour - HOUR_MS, 1n]]), hour, s)).toBeNull();
  });

  it("floors a zero MAD so a flat series does not fire on noise", () => {
    const hour = START + 30 * 24 * HOUR_MS;
    const flat = new Map<number, Nanos>([1, 2, 3, 4].map((k) => [hour - k * 168 * HOUR_MS, 200n * USD]));
    const baseline = baselineAt(flat, hour, s);
    expect(baseline?.spread_nanos).toBe(20n * USD); // 10% of the median
    expect(baseline?.threshold_nanos).toBe(300n * USD); // + 5 × 20
  });

  it("reads the window's hours and the weeks their baselines look back", () => {
    // The window's first hour, 5 hours back, looks 4 weeks further back for its hour-of-week slots.
    expect(hoursToRead(SPIKE, s)).toEqual({ from: SPIKE - (5 + 4 * 168) * HOUR_MS, to: SPIKE + HOUR_MS });
  });

  it("rejects invalid settings", () => {
    expect(() => anomalySettings({ k: 0 })).toThrow(AnomalySettingsError);
    expect(() => anomalySettings({ weeks: 1.5 })).toThrow(AnomalySettingsError);
    expect(() => anomalySettings({ criticalImpactNanos: 1n })).toThrow(AnomalySettingsError);
  });
});

describe("spend anomalies on generated traffic (fixed seed)", () => {
  const teams = [quietSeries("risk", 40, 1), quietSeries("search", 400, 2), quietSeries("tiny", 2, 3)];

  it("a quiet week with diurnal traffic raises nothing", () => {
    for (const hour of lastWeekHours) {
      const found = detectSpendAnomalies(teams, hour, s);
      expect({ hour: new Date(hour).toISOString(), ...found }).toEqual({
        hour: new Date(hour).toISOString(),
        fresh: [],
        ongoing: [],
      });
    }
  });

  it("catches a spike in one team's hour, with severity by impact", () => {
    const risk = teams[0] as ScopeSeries;
    const cases: [Nanos, string | null][] = [
      [15n * USD, null], // under 40 + 5 × 4 USD: noise-sized
      [30n * USD, "info"], // over 40 + 5 × 4 USD, under the 100 USD warning impact
      [150n * USD, "warning"],
      [2_000n * USD, "critical"],
    ];
    for (const [extra, severity] of cases) {
      const spiked = [withExtra(risk, [[SPIKE, extra]]), ...teams.slice(1)];
      const { fresh } = detectSpendAnomalies(spiked, SPIKE, s);
      expect(fresh.map((i) => i.severity)).toEqual(severity ? [severity] : []);
      if (severity) {
        expect(fresh[0]?.scope.value).toBe("risk");
        expect(fresh[0]?.start).toBe(SPIKE);
      }
    }
    // A small scope that jumps 7× is still under the minimum impact.
    const tiny = withExtra(teams[2] as ScopeSeries, [[SPIKE, 12n * USD]]);
    expect(detectSpendAnomalies([tiny], SPIKE, s).fresh).toEqual([]);
  });

  it("a 3-hour incident is one key and one thread; the hour after it is quiet", () => {
    const risk = withExtra(teams[0] as ScopeSeries, [
      [SPIKE, 300n * USD],
      [SPIKE + HOUR_MS, 500n * USD],
      [SPIKE + 2 * HOUR_MS, 300n * USD],
    ]);
    const keys = [0, 1, 2].map((h) => {
      const { fresh } = detectSpendAnomalies([risk], SPIKE + h * HOUR_MS, s);
      expect(fresh).toHaveLength(1);
      return fresh[0]?.key;
    });
    expect(new Set(keys)).toEqual(new Set([`spend.anomaly:team=risk:USD:${new Date(SPIKE).toISOString()}`]));
    expect(detectSpendAnomalies([risk], SPIKE + 3 * HOUR_MS, s).fresh).toEqual([]);

    const third = detectSpendAnomalies([risk], SPIKE + 2 * HOUR_MS, s).fresh[0];
    if (!third) throw new Error("expected an incident");
    expect(third.hours).toHaveLength(3);
    expect(third.severity).toBe("critical"); // 1,100 USD over expected in all
    const parsed = parseAlert(
      JSON.parse(
        JSON.stringify(incidentAlert(third, new Date(SPIKE)), (_, v) =>
          typeof v === "bigint" ? v.toString() : v,
        ),
      ),
    );
    expect(parsed.ok).toBe(true);
    expect(parsed.ok && parsed.alert.summary).toMatch(
      /in 3 hour\(s\) from .*, expected \d+\.\d\d USD \(each hour: the median of the same hour of the week in 4 earlier weeks\)\.$/,
    );
    if (parsed.ok) {
      expect(parsed.alert.kind).toBe("spend.anomaly");
      expect(parsed.alert.thread_key).toBe(keys[0]);
      expect(parsed.alert.scope).toEqual({ team: "risk" });
    }
  });

  it("an incident longer than the window is ongoing, not alerted again", () => {
    const long = withExtra(
      teams[0] as ScopeSeries,
      Array.from({ length: 8 }, (_, h): [number, Nanos] => [SPIKE + h * HOUR_MS, 300n * USD]),
    );
    const at = detectSpendAnomalies([long], SPIKE + 7 * HOUR_MS, s);
    expect(at.fresh).toEqual([]);
    expect(at.ongoing).toHaveLength(1);
  });
});

describe("baselines count only the hours a scope had data in", () => {
  const window = (series: ScopeSeries, from: number, to: number) =>
    new Map([...series.spend].filter(([h]) => h >= from && h <= to));
  /** A scope read as detectAnomalies reads it, in a warehouse with data since START. */
  const measured = (series: ScopeSeries, from: number, until: number): ScopeSeries => ({
    scope: series.scope,
    ...measuredSeries(window(series, from, until), until, START),
  });

  it("a scope with two days of history and a spike is judged against its own hours, not zeros", () => {
    const risk = withExtra(quietSeries("risk", 40, 1), [[SPIKE, 300n * USD]]);
    const { fresh } = detectSpendAnomalies([measured(risk, SPIKE - 48 * HOUR_MS, SPIKE)], SPIKE, s);
    expect(fresh).toHaveLength(1);
    const [incident] = fresh as [SpendIncident];
    // Wednesday 14:00: two days of a 40 USD diurnal peak put the median of the day before near 20 USD.
    expect(incident.expected_nanos).toBeGreaterThan(10n * USD);
    expect(incident.hours[0]?.baseline).toMatchObject({ basis: "last-day", samples: 24 });
    expect(incidentAlert(incident, new Date(SPIKE)).summary).toMatch(
      /expected [1-9]\d\.\d\d USD \(the median of the 24 hours before, at any time of day; too few earlier days to compare the same hour\)\.$/,
    );
  });

  it("a quiet diurnal fortnight from the first data on raises nothing", () => {
    const until = START + 14 * 24 * HOUR_MS - HOUR_MS;
    const teams = [quietSeries("risk", 40, 21), quietSeries("search", 400, 22), quietSeries("tiny", 2, 23)];
    const series = teams.map((team) => measured(team, START, until));
    for (let hour = START; hour <= until; hour += HOUR_MS) {
      const { fresh, ongoing } = detectSpendAnomalies(series, hour, s);
      expect({ hour: new Date(hour).toISOString(), fresh, ongoing }).toEqual({
        hour: new Date(hour).toISOString(),
        fresh: [],
        ongoing: [],
      });
    }
  });

  it("a new scope's first hours are judged against no spend: one alert when the minimum impact says so", () => {
    const rng = createSeededRandom(31);
    const steady = (usd: number): ScopeSeries => ({
      scope: { dimension: "team", value: `new-${usd}`, currency: "USD" },
      spend: new Map(
        Array.from({ length: 30 }, (_, i): [number, Nanos] => [
          SPIKE + i * HOUR_MS,
          BigInt(Math.round(usd * rng.float(0.9, 1.1) * 1e6)) * 1000n,
        ]),
      ),
    });
    const big = measured(steady(300), SPIKE, SPIKE + 29 * HOUR_MS);
    const small = measured(steady(5), SPIKE, SPIKE + 29 * HOUR_MS);
    expect(big.newSince).toBe(SPIKE);
    const keys = new Set<string>();
    for (let h = 0; h < 30; h++) {
      const { fresh } = detectSpendAnomalies([big, small], SPIKE + h * HOUR_MS, s);
      for (const incident of fresh) keys.add(incident.key);
      // Judged against nothing for its first minSamples hours, then no baseline until a whole day.
      expect(fresh.length, `hour ${h}`).toBe(h < s.minSamples ? 1 : 0);
    }
    expect([...keys]).toEqual([`spend.anomaly:team=new-300:USD:${new Date(SPIKE).toISOString()}`]);
    const first = detectSpendAnomalies([big], SPIKE, s).fresh[0] as SpendIncident;
    expect(first.expected_nanos).toBe(0n);
    expect(incidentAlert(first, new Date(SPIKE)).summary).toMatch(
      /\(new spend: the scope had none before\)\.$/,
    );

    // At the warehouse's first data nothing is new: the first day waits for a baseline.
    const fromStart = { scope: big.scope, ...measuredSeries(big.spend, SPIKE + 29 * HOUR_MS, SPIKE) };
    expect(fromStart.newSince).toBeUndefined();
    expect(detectSpendAnomalies([fromStart], SPIKE, s).fresh).toEqual([]);
  });

  it("a measured series has a sample for every hour from its first data on, and none before", () => {
    const hourArb = fc.integer({ min: 0, max: 200 }).map((i) => START + i * HOUR_MS);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(hourArb, fc.bigInt({ min: -10n, max: 10n * USD })), {
          minLength: 1,
          selector: ([h]) => h,
        }),
        fc.integer({ min: 0, max: 48 }),
        hourArb,
        (entries, extraHours, dataFrom) => {
          const spent = new Map(entries);
          const first = Math.min(...spent.keys());
          const until = Math.max(...spent.keys()) + extraHours * HOUR_MS;
          const { spend, newSince } = measuredSeries(spent, until, dataFrom);
          expect(spend.size).toBe((until - first) / HOUR_MS + 1);
          for (const [h, nanos] of spend) expect(nanos).toBe(spent.get(h) ?? 0n);
          expect(newSince).toBe(first > dataFrom ? first : undefined);
        },
      ),
    );
  });
});

describe("one incident across the scopes it shows in", () => {
  /** A report group's spend: the sum of its parts, hour by hour. */
  const sum = (...parts: ScopeSeries[]): Map<number, Nanos> => {
    const spend = new Map<number, Nanos>();
    for (const part of parts) for (const [h, v] of part.spend) spend.set(h, (spend.get(h) ?? 0n) + v);
    return spend;
  };
  const scope = (dimension: AnomalyDimension, value: string, spend: Map<number, Nanos>): ScopeSeries => ({
    scope: { dimension, value, currency: "USD" },
    spend,
  });
  const combination = (values: ScopeValues, spend: Map<number, Nanos>): CombinationSeries => ({
    values,
    currency: "USD",
    spend,
  });
  // payments has two teams: risk (fraud-scorer) and cards (card-scorer); discovery has search.
  const risk = quietSeries("risk", 40, 11);
  const cards = quietSeries("cards", 60, 12);
  const search = quietSeries("search", 400, 13);
  const RISK = { team: "risk", model: "fraud-scorer", business_unit: "payments" };
  const CARDS = { team: "cards", model: "card-scorer", business_unit: "payments" };
  const SEARCH = { team: "search", model: "query-ranker", business_unit: "discovery" };

  function judge(riskNow: ScopeSeries, cardsNow: ScopeSeries, searchNow: ScopeSeries, hour: number) {
    const series = [
      scope("team", "risk", sum(riskNow)),
      scope("model", "fraud-scorer", sum(riskNow)),
      scope("team", "cards", sum(cardsNow)),
      scope("model", "card-scorer", sum(cardsNow)),
      scope("business_unit", "payments", sum(riskNow, cardsNow)),
      scope("team", "search", sum(searchNow)),
      scope("model", "query-ranker", sum(searchNow)),
      scope("business_unit", "discovery", sum(searchNow)),
    ];
    const combinations = [
      combination(RISK, sum(riskNow)),
      combination(CARDS, sum(cardsNow)),
      combination(SEARCH, sum(searchNow)),
    ];
    return groupIncidents(detectSpendAnomalies(series, hour, s).fresh, combinations, hour, s);
  }

  it("a spike in one team's model is one alert for its team, model and business unit, every hour of it", () => {
    const spiked = withExtra(risk, [
      [SPIKE, 300n * USD],
      [SPIKE + HOUR_MS, 300n * USD],
    ]);
    const [first, ...others] = judge(spiked, cards, search, SPIKE);
    expect(others).toEqual([]);
    const key = `spend.anomaly:team=risk,model=fraud-scorer,business_unit=payments:USD:${new Date(SPIKE).toISOString()}`;
    expect(first?.key).toBe(key);
    expect(first?.incidents.map((i) => scopeLabel(i.scope))).toEqual([
      "team=risk",
      "model=fraud-scorer",
      "business_unit=payments",
    ]);
    expect(judge(spiked, cards, search, SPIKE + HOUR_MS).map((g) => g.key)).toEqual([key]);

    const alert = groupAlert(first as IncidentGroup, s, new Date(SPIKE + HOUR_MS));
    expect(alert).toMatchObject({
      idempotency_key: key,
      thread_key: key,
      kind: "spend.anomaly",
      severity: "warning",
      scope: RISK,
      period: { start: new Date(SPIKE).toISOString(), end: new Date(SPIKE + HOUR_MS).toISOString() },
    });
    expect(alert.title).toMatch(
      /^Spend anomaly: team=risk, model=fraud-scorer, business_unit=payments \+3\d\d\.\d\d USD/,
    );
    expect(
      parseAlert(JSON.parse(JSON.stringify(alert, (_, v) => (typeof v === "bigint" ? `${v}` : v)))).ok,
    ).toBe(true);
  });

  it("spikes of two teams in the same hour stay two alerts", () => {
    const groups = judge(
      withExtra(risk, [[SPIKE, 300n * USD]]),
      cards,
      withExtra(search, [[SPIKE, 900n * USD]]),
      SPIKE,
    );
    expect(groups.map((g) => [g.cause?.values.team, g.incidents.length])).toEqual([
      ["risk", 3],
      ["search", 3],
    ]);
  });

  it("a rise spread over a business unit's teams, none unusual alone, stays the unit's own alert", () => {
    // At night, 15 USD more in each of payments' teams: under the 20 USD minimum impact for each,
    // 30 USD for the unit.
    const night = LAST_WEEK + (2 * 24 + 3) * HOUR_MS;
    const extra: [number, Nanos][] = [[night, 15n * USD]];
    const groups = judge(withExtra(risk, extra), withExtra(cards, extra), search, night);
    expect(groups.map((g) => [g.key, g.cause])).toEqual([
      [`spend.anomaly:business_unit=payments:USD:${new Date(night).toISOString()}`, null],
    ]);
    const [only] = groups;
    expect(groupAlert(only as IncidentGroup, s, new Date(night))).toEqual(
      incidentAlert(only?.incidents[0] as SpendIncident, new Date(night)),
    );
  });
});

describe("training runaways", () => {
  const job = (id: string, usd: bigint, outcome: TrainingJobRow["outcome"], team = "ml-platform") =>
    ({
      event_source: "//training/launcher",
      job_id: id,
      team,
      model: "chat-finetune",
      business_unit: "ai",
      instance_type: "a3-highgpu-8g",
      currency: "USD",
      started_at: new Date("2026-11-20T00:00:00Z"),
      last_seen_at: new Date("2026-11-22T00:00:00Z"),
      duration_seconds: 3600,
      gpu_count: 8,
      epochs: 2,
      cost_nanos: usd * USD,
      outcome,
    }) satisfies TrainingJobRow;
  const rng = createSeededRandom(7);
  const peers = Array.from({ length: 5 }, (_, i) => job(`ft-${i}`, BigInt(rng.int(450, 550)), "finished"));

  it("flags a running job 10× its peers while it runs, once per job", () => {
    const jobs = [
      ...peers,
      job("runaway", 5_600n, "running"),
      job("busy-but-fine", 4_000n, "running"),
      job("done-expensive", 9_000n, "finished"),
      job("abandoned", 9_000n, "abandoned"),
      job("no-peers", 9_000n, "running", "other-team"),
    ];
    const found = detectRunaways(jobs, s);
    expect(found.map((r) => r.job.job_id)).toEqual(["runaway"]);
    const alert = runawayAlert(found[0] as (typeof found)[number], s, new Date("2026-11-22T00:00:00Z"));
    expect(alert).toMatchObject({
      kind: "spend.runaway",
      severity: "critical",
      idempotency_key: "spend.runaway://training/launcher:runaway",
      thread_key: "spend.runaway://training/launcher:runaway",
      scope: { team: "ml-platform", model: "chat-finetune" },
    });
    expect(
      parseAlert(JSON.parse(JSON.stringify(alert, (_, v) => (typeof v === "bigint" ? v.toString() : v)))).ok,
    ).toBe(true);
    // The multiple is configurable.
    expect(detectRunaways(jobs, anomalySettings({ runawayMultiple: 5 })).map((r) => r.job.job_id)).toEqual([
      "runaway",
      "busy-but-fine",
    ]);
  });
});
