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

/** Five weeks of diurnal inference traffic for two teams (fixed seed), each with its own model and unit. */
function inferenceRows(): CostRow[] {
  const rng = createSeededRandom("anomaly-integration");
  const teams = [
    { team: "risk", model: "fraud-scorer", business_unit: "payments", peak: 40 },
    { team: "search", model: "query-ranker", business_unit: "discovery", peak: 120 },
  ];
  const rows: CostRow[] = [];
  for (let hour = FROM; hour < JUDGED + HOUR; hour += HOUR) {
    const date = new Date(hour);
    const diurnal = 0.15 + 0.85 * Math.max(0, Math.sin(((date.getUTCHours() - 6) / 16) * Math.PI));
    const weekend = date.getUTCDay() === 0 || date.getUTCDay() === 6;
    for (const t of teams) {
      const usd = t.peak * diurnal * (weekend ? 0.4 : 1) * rng.float(0.9, 1.1);
      rows.push(
        costRow({
          event_id: `${t.team}-${hour}`,
          team: t.team,
          model: t.model,
          business_unit: t.business_unit,
          event_time: new Date(hour + 10 * 60_000),
          ingested_at: new Date(hour + 11 * 60_000),
          cost_nanos: BigInt(Math.round(usd * 1e6)) * 1000n,
        }),
      );
    }
  }
  // The spike: search's judged hour costs 1,500 USD more.
  rows.push(
    costRow({
      event_id: "search-spike",
      team: "search",
      model: "query-ranker",
      business_unit: "discovery",
      event_time: new Date(JUDGED + 30 * 60_000),
      ingested_at: new Date(JUDGED + 31 * 60_000),
      cost_nanos: 1_500n * USD,
    }),
  );
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

describe("detectAnomalies with the DuckDB warehouse, memory bus and memory claims", () => {
  it("catches the runaway job and the spike exactly once across two runs; quiet scopes raise nothing", async () => {
    const warehouse = createDuckDbWarehouse({ path: ":memory:" });
    const bus = createMemoryBus({ logger: silentLogger });
    const claims = createMemoryAlertClaims();
    const received: Alert[] = [];
    try {
      await warehouse.init();
      await warehouse.insertEvents([...inferenceRows(), ...trainingRows()]);
      await warehouse.refreshHourly({ from: new Date(FROM), to: new Date(TO) });
      await bus.subscribe(TOPICS.alerts, "notify", async (message) => {
        const parsed = parseAlert(JSON.parse(message.data.toString()));
        if (!parsed.ok) throw new Error(parsed.reason);
        received.push(parsed.alert);
      });
      const detector = createDetectAnomalies({ warehouse, bus, claims, clock: fixedClock(NOW) });

      const first = await detector.detect();
      await bus.drain();
      const second = await detector.detect();
      await bus.drain();

      const spikeStart = new Date(JUDGED).toISOString();
      // The spike shows in search's team, model and business unit: one incident, one alert.
      const expected = [
        `spend.anomaly:team=search,model=query-ranker,business_unit=discovery:USD:${spikeStart}`,
        "spend.runaway://training/launcher:ft-runaway",
      ];
      expect(first.hour.toISOString()).toBe(spikeStart);
      expect(first.reports).toBe(66);
      expect(first.published.map((p) => p.key).sort()).toEqual(expected);
      // The runaway's own hourly spend (102 USD an hour for 50 hours) is an incident older than the
      // grouping window in each of its three scopes: ongoing, not alerted by this run.
      expect(first.ongoing).toBe(3);
      expect(second.published).toEqual([]);
      expect(second.alreadySent).toBe(2);
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
    } finally {
      await bus.close();
      await warehouse.close();
    }
  });
});
