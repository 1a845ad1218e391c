import { describe, expect, it } from "vitest";
import { createMemoryAlertClaims } from "#adapters/memory-alert-claims/memory-alert-claims.ts";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import { createDetectAnomalies } from "#app/detect-anomalies.ts";
import { type Alert, parseAlert } from "#domain/alerts/alert.ts";
import { syntheticOrg } from "#domain/demo/synthetic-org.ts";
import { TOPICS } from "#ports/bus.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import { demoWarehouse } from "../support/demo-warehouse.ts";

const HOUR_MS = 3_600_000;
// Two days ending on a Wednesday at noon UTC; the spike takes the last four hours, 08:00 to 12:00.
const FROM = new Date("2026-11-23T12:00:00Z");
const HOURS = 48;
const END = FROM.getTime() + HOURS * HOUR_MS;
const SPIKE_START = END - syntheticOrg().inferenceSpike.hours * HOUR_MS;
/** The hours judged, one hourly run each: from the hour before the spike to the hour after it. */
const JUDGED = Array.from({ length: 6 }, (_, i) => SPIKE_START - HOUR_MS + i * HOUR_MS);

/** Runs detectAnomalies as the scheduler would, once per judged hour, and returns what reached the alerts topic. */
async function hourlyRuns(inferenceSpike: boolean): Promise<Alert[]> {
  const warehouse = await demoWarehouse({ from: FROM, hours: HOURS, seed: "demo-anomalies", inferenceSpike });
  const bus = createMemoryBus({ logger: silentLogger });
  const claims = createMemoryAlertClaims();
  const received: Alert[] = [];
  try {
    await bus.subscribe(TOPICS.alerts, "notify", async (message) => {
      const parsed = parseAlert(JSON.parse(message.data.toString()));
      if (!parsed.ok) throw new Error(parsed.reason);
      received.push(parsed.alert);
    });
    for (const hour of JUDGED) {
      const clock = fixedClock(new Date(hour + HOUR_MS + 10 * 60_000));
      const result = await createDetectAnomalies({ warehouse, bus, claims, clock }).detect();
      expect(result.hour.getTime()).toBe(hour);
      await bus.drain();
    }
    return received.filter((a) => a.kind === "spend.anomaly");
  } finally {
    await bus.close();
    await warehouse.close();
  }
}

describe("the demo's inference spike through the hourly detectAnomalies (DuckDB, fixed seed)", () => {
  it("is caught exactly once: one alert, one thread, for the team, model and business unit it shows in", async () => {
    const alerts = await hourlyRuns(true);
    const key =
      "spend.anomaly:team=support-automation,model=gpt-4o-mini,business_unit=enterprise:USD:" +
      new Date(SPIKE_START).toISOString();
    expect(alerts.map((a) => a.idempotency_key)).toEqual([key]);
    const [alert] = alerts;
    expect(alert).toMatchObject({
      thread_key: key,
      scope: { team: "support-automation", model: "gpt-4o-mini", business_unit: "enterprise" },
      period: { start: new Date(SPIKE_START).toISOString() },
    });
    expect(alert?.summary).toMatch(
      /Over their own baselines too: team=support-automation \+\d+\.\d\d USD, model=gpt-4o-mini \+\d+\.\d\d USD, business_unit=enterprise \+\d+\.\d\d USD\.$/,
    );
    // Two days of history: the baseline is the combination's own last day (cents an hour), not the
    // empty weeks before the demo began.
    expect(alert?.amounts?.forecast_nanos).toBeGreaterThan(0n);
    expect(alert?.summary).toMatch(
      /\((each hour: )?the median of the 24 hours before, at any time of day; too few earlier days/,
    );
  }, 120_000);

  it("the same two days with normal diurnal traffic raise nothing", async () => {
    expect(await hourlyRuns(false)).toEqual([]);
  }, 120_000);
});
