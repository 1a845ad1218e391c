import { describe, expect, it } from "vitest";
import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import { createMemoryAlertClaims } from "#adapters/memory-alert-claims/memory-alert-claims.ts";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import { createDetectAnomalies } from "#app/detect-anomalies.ts";
import { type Alert, parseAlert } from "#domain/alerts/alert.ts";
import type { CostRow } from "#domain/cost-row.ts";
import { createSeededRandom } from "#domain/demo/seeded-random.ts";
import { TOPICS } from "#ports/bus.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import { costRow, trainingRow } from "../support/cost-row-builder.ts";

const USD = 1_000_000_000n;
const HOUR = 3_600_000;
const NOW = new Date("2026-11-25T10:20:00Z");
/** The hour the run judges: the last whole one. */
const JUDGED = Date.parse("2026-11-25T09:00:00Z");
const FROM = JUDGED - 5 * 168 * HOUR;
const TO = Date.parse("2026-11-25T11:00:00Z");

interface Owner {
  team: string;
  model: string;
  business_unit: string;
}

/** Diurnal inference traffic for one owner over [from, to) (fixed seed): `peak` USD an hour mid-day. */
function diurnalRows(owner: Owner, peak: number, from: number, to: number): CostRow[] {
  const rng = createSeededRandom(`anomaly-integration-${owner.team}`);
  const rows: CostRow[] = [];
  for (let hour = from; hour < to; hour += HOUR) {
    const date = new Date(hour);
    const diurnal = 0.15 + 0.85 * Math.max(0, Math.sin(((date.getUTCHours() - 6) / 16) * Math.PI));
    const weekend = date.getUTCDay() === 0 || date.getUTCDay() === 6;
    const usd = peak * diurnal * (weekend ? 0.4 : 1) * rng.float(0.9, 1.1);
    rows.push(usdIn(owner, `${owner.team}-${hour}`, hour, BigInt(Math.round(usd * 1e6)) * 1000n));
  }
  return rows;
}

/** One inference cost of `nanos` for `owner` within `hour`. */
function usdIn(owner: Owner, id: string, hour: number, nanos: bigint): CostRow {
  return costRow({
    ...owner,
    event_id: id,
    event_time: new Date(hour + 10 * 60_000),
    ingested_at: new Date(hour + 11 * 60_000),
    cost_nanos: nanos,
  });
}

const RISK = { team: "risk", model: "fraud-scorer", business_unit: "payments" };
const SEARCH = { team: "search", model: "query-ranker", business_unit: "discovery" };

/** Five weeks of diurnal inference traffic for two teams, each with its own model and unit. */
function inferenceRows(): CostRow[] {
  const rows = [
    ...diurnalRows(RISK, 40, FROM, JUDGED + HOUR),
    ...diurnalRows(SEARCH, 120, FROM, JUDGED + HOUR),
  ];
  // The spike: search's judged hour costs 1,500 USD more.
  rows.push(usdIn(SEARCH, "search-spike", JUDGED, 1_500n * USD));
  return rows;
}

/** Like the demo's chat-finetune: peers cost ~500 USD each; one run stalls and costs 5,100 USD so far. */
function trainingRows(): CostRow[] {
  const owner = { team: "ml-platform", model: "chat-finetune", business_unit: "ai-platform" };
  const job = (id: string, startMs: number, hours: number, usdPerHour: bigint, finished: boolean) =>
    Array.from({ length: hours }, (_, i) => {
      const elapsed = (i + 1) * 3600;
      const at = new Date(startMs + elapsed * 1000);
      return trainingRow(id, elapsed, BigInt(i + 1) * usdPerHour * USD, {
        ...owner,
        event_time: at,
        ingested_at: new Date(at.getTime() + 60_000),
        job_phase: finished && i === hours - 1 ? "finished" : "progress",
      });
    });
  const start = NOW.getTime() - 50 * HOUR - 15 * 60_000;
  return [
    ...[8, 9, 10].flatMap((days) => job(`ft-peer-${days}`, NOW.getTime() - days * 24 * HOUR, 5, 100n, true)),
    ...job("ft-runaway", start, 50, 102n, false),
  ];
}

/** The rows in a DuckDB warehouse, rolled up; detectAnomalies run `runs` times at NOW. */
async function detectRuns(rows: CostRow[], runs: number) {
  const warehouse = createDuckDbWarehouse({ path: ":memory:" });
  const bus = createMemoryBus({ logger: silentLogger });
  const claims = createMemoryAlertClaims();
  const received: Alert[] = [];
  try {
    await warehouse.init();
    await warehouse.insertEvents(rows);
    await warehouse.refreshHourly({ from: new Date(FROM), to: new Date(TO) });
    await bus.subscribe(TOPICS.alerts, "notify", async (message) => {
      const parsed = parseAlert(JSON.parse(message.data.toString()));
      if (!parsed.ok) throw new Error(parsed.reason);
      received.push(parsed.alert);
    });
    const detector = createDetectAnomalies({ warehouse, bus, claims, clock: fixedClock(NOW) });
    const results = [];
    for (let run = 0; run < runs; run++) {
      results.push(await detector.detect());
      await bus.drain();
    }
    return { results, received };
  } finally {
    await bus.close();
    await warehouse.close();
  }
}

describe("detectAnomalies with the DuckDB warehouse, memory bus and memory claims", () => {
  it("catches the runaway job and the spike exactly once across two runs; quiet scopes raise nothing", async () => {
    const {
      results: [first, second],
      received,
    } = await detectRuns([...inferenceRows(), ...trainingRows()], 2);
    const spikeStart = new Date(JUDGED).toISOString();
    // The spike shows in search's team, model and business unit: one incident, one alert.
    const expected = [
      `spend.anomaly:team=search,model=query-ranker,business_unit=discovery:USD:${spikeStart}`,
      "spend.runaway://training/launcher:ft-runaway",
    ];
    expect(first?.hour.toISOString()).toBe(spikeStart);
    expect(first?.hoursRead).toBe(5 + 4 * 168 + 1);
    expect(first?.published.map((p) => p.key).sort()).toEqual(expected);
    // The runaway's own hourly spend (102 USD an hour for 50 hours) is an incident older than the
    // grouping window in each of its three scopes: ongoing, not alerted by this run.
    expect(first?.ongoing).toBe(3);
    expect(second?.published).toEqual([]);
    expect(second?.alreadySent).toBe(2);
    expect(received.map((a) => a.idempotency_key).sort()).toEqual(expected);

    const runaway = received.find((a) => a.kind === "spend.runaway");
    expect(runaway).toMatchObject({
      severity: "critical",
      scope: { team: "ml-platform", model: "chat-finetune" },
      amounts: { spend_nanos: 5_100n * USD, forecast_nanos: 500n * USD, currency: "USD" },
    });
    const spike = received.find((a) => a.kind === "spend.anomaly");
    expect(spike).toMatchObject({
      severity: "critical",
      scope: { team: "search", model: "query-ranker", business_unit: "discovery" },
      thread_key: expected[0],
    });
    expect(spike?.summary).toMatch(
      /Over their own baselines too: team=search \+1\d{3}\.\d\d USD, model=query-ranker \+1\d{3}\.\d\d USD, business_unit=discovery \+1\d{3}\.\d\d USD\.$/,
    );
  });

  it("judges a two-day-old team by its own two days and a new team's first hour against no spend", async () => {
    const VISION = { team: "vision", model: "tagger", business_unit: "media" };
    const BATCH = { team: "batch", model: "summarizer", business_unit: "labs" };
    const PROBE = { team: "probe", model: "prober", business_unit: "platform" };
    const { results, received } = await detectRuns(
      [
        ...diurnalRows(RISK, 40, FROM, JUDGED + HOUR),
        ...diurnalRows(VISION, 60, JUDGED - 48 * HOUR, JUDGED + HOUR),
        usdIn(VISION, "vision-spike", JUDGED, 300n * USD),
        // Teams whose first spend is the judged hour, after weeks of the warehouse's data.
        usdIn(BATCH, "batch-first", JUDGED, 250n * USD),
        usdIn(PROBE, "probe-first", JUDGED, 5n * USD),
      ],
      1,
    );
    const at = new Date(JUDGED).toISOString();
    expect(results[0]?.published.map((p) => p.key).sort()).toEqual([
      `spend.anomaly:team=batch,model=summarizer,business_unit=labs:USD:${at}`,
      `spend.anomaly:team=vision,model=tagger,business_unit=media:USD:${at}`,
    ]);
    const alertOf = (team: string) => received.find((a) => a.scope.team === team);
    // Not the zeros of the weeks before the team existed: its own last day.
    expect(alertOf("vision")?.amounts?.forecast_nanos).toBeGreaterThan(10n * USD);
    expect(alertOf("vision")?.summary).toMatch(/\(the median of the 24 hours before, at any time of day;/);
    expect(alertOf("batch")).toMatchObject({ severity: "warning", amounts: { forecast_nanos: 0n } });
    expect(alertOf("batch")?.summary).toMatch(/\(new spend: the scope had none before\)\./);
  });
});
