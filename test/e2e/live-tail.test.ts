import { describe, expect, it } from "vitest";
import { TOPICS } from "#ports/bus.ts";
import { inferenceEvent } from "../support/ingest-builders.ts";
import {
  batchMessage,
  drainBus,
  floorHour,
  HOUR_MS,
  refreshRollups,
  useTestSession,
} from "../support/local-stack-session.ts";

// Through the local stack, whose scheduler here never refreshes on its own: an event published on
// the bus shows in costReport and the dashboard once stored, before any refresh, and the refresh
// changes no figure.
describe("publish → report without waiting for the refresh (the live tail)", () => {
  const session = useTestSession();
  const hour = floorHour(Date.now());
  const range = { from: new Date(hour - HOUR_MS), to: new Date(hour + HOUR_MS) };
  const query = `from=${range.from.toISOString()}&to=${range.to.toISOString()}`;

  async function costByTeam(): Promise<unknown> {
    const res = await fetch(`${session().stack.url}/costReport?by=team&${query}`);
    expect(res.status).toBe(200);
    return res.json();
  }

  async function dashboardTotal(): Promise<unknown> {
    const res = await fetch(`${session().stack.url}/dashboard/data?${query}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { total: unknown }).total;
  }

  it("shows a published event in costReport and the dashboard before the rollup has it", async () => {
    const { runtime } = session();
    const at = (minutes: number) => new Date(hour - HOUR_MS + minutes * 60_000).toISOString();
    await runtime.bus.publish(TOPICS.events, [
      batchMessage([
        inferenceEvent({ id: "live-1", time: at(5), data: { cost_nanos: "1500000001", team: "risk" } }),
        inferenceEvent({ id: "live-2", time: at(65), data: { cost_nanos: "250000000", team: "search" } }),
      ]),
    ]);
    await drainBus(runtime);

    const expected = [
      { team: "risk", currency: "USD", cost_nanos: "1500000001", amount: "1.500000001" },
      { team: "search", currency: "USD", cost_nanos: "250000000", amount: "0.25" },
    ];
    expect(await costByTeam()).toEqual(expected);
    expect(await dashboardTotal()).toBe("1.750000001");
    expect(await runtime.warehouse.report({ ...range, by: [], reads: "rollup" })).toEqual([]);

    await refreshRollups(session().stack);
    expect(await costByTeam()).toEqual(expected);
    expect(await dashboardTotal()).toBe("1.750000001");
    const [settled] = await runtime.warehouse.report({ ...range, by: [], reads: "rollup" });
    expect(settled?.cost_nanos).toBe(1_750_000_001n);
  });
});
