import { afterAll, describe, expect, it } from "vitest";
import type { Dimension } from "#domain/cost-row.ts";
import type { TimeRange } from "#ports/warehouse.ts";
import { demoWindow, publishDemo } from "../../bin/commands/demo-feed.ts";
import {
  drainBus,
  floorHour,
  HOUR_MS,
  openTestSession,
  refreshRollups,
  report,
  type TestSession,
  tempDuckDb,
  totalsByGroup,
} from "../support/local-stack-session.ts";

// Re-running the demo, as `npm start` and then `finops demo --hours N` do: two runs with other
// --hours, the second a few hours later, over overlapping hours. Whole-hour moments, so each run's
// window holds only hours that were over when it ran.
const SEED = "e2e-demo-rerun";
const FIRST = { hours: 8, now: new Date(floorHour(Date.now()) - 12 * HOUR_MS) };
const SECOND = { hours: 5, now: new Date(FIRST.now.getTime() + 3 * HOUR_MS) };
const BY: Dimension[] = ["team", "model"];

const dbs = [tempDuckDb("finops-demo-rerun-"), tempDuckDb("finops-demo-rerun-alone-")];
const sessions: TestSession[] = [];

afterAll(async () => {
  for (const session of sessions) await session.close();
  for (const db of dbs) db.remove();
});

async function run(session: TestSession, options: { hours: number; now: Date }) {
  const published = await publishDemo(session.runtime.bus, { ...options, seed: SEED });
  await drainBus(session.runtime);
  await refreshRollups(session.stack);
  return published;
}

/** Cost per team and model over `range`, exact nanos, and the total. */
async function costs(session: TestSession, range: TimeRange) {
  const byGroup = totalsByGroup(await report(session.runtime, { by: BY, ...range }), BY);
  const total = [...byGroup.values()].reduce((a, b) => a + b, 0n);
  return { byGroup, total };
}

describe("re-running the demo over overlapping hours", () => {
  it("counts no cost twice: each run's hours report the same to the nano, with or without the other run", async () => {
    // Prepare (one session at a time: a session's functions use the process's one runtime)
    const open = async (path: string) => {
      const session = await openTestSession(path);
      sessions.push(session);
      return session;
    };
    const both = await open(dbs[0]?.path ?? "");
    const first = demoWindow(FIRST.now, FIRST.hours);
    const second = demoWindow(SECOND.now, SECOND.hours);
    // The month so far: the licence, amortized over the month, and every job's whole run are in it.
    const everything = { from: new Date(first.from.getTime() - 8 * 24 * HOUR_MS), to: second.to };

    // Act
    await run(both, FIRST);
    const firstBefore = await costs(both, first);
    const everythingBefore = await costs(both, everything);
    await run(both, SECOND);
    const firstAfter = await costs(both, first);
    const secondAfter = await costs(both, second);
    const spikingInBoth = { from: new Date(second.to.getTime() - 4 * HOUR_MS), to: second.to };
    const bothSpiking = await costs(both, spikingInBoth);
    const onlyFirstSpiking = { from: second.from, to: spikingInBoth.from };
    const bothFirstSpiking = await costs(both, onlyFirstSpiking);
    const everythingAfter = await costs(both, everything);
    const newHours = await costs(both, { from: first.to, to: second.to });
    await both.close();
    sessions.length = 0;
    const alone = await open(dbs[1]?.path ?? "");
    await run(alone, SECOND);
    const secondAlone = await costs(alone, second);
    const aloneSpiking = await costs(alone, spikingInBoth);
    const aloneFirstSpiking = await costs(alone, onlyFirstSpiking);

    // Assess: the first run's hours are untouched by the second run, to the nano.
    expect(second.from.getTime()).toBeLessThan(first.to.getTime());
    expect(firstBefore.total).toBeGreaterThan(0n);
    expect(firstAfter.byGroup).toEqual(firstBefore.byGroup);
    // The second run's hours report what that run alone reports: what both sent is counted once. Only
    // the first run's spike stays where the second run has none (the hour before its last four).
    expect(bothSpiking.byGroup).toEqual(aloneSpiking.byGroup);
    const SPIKE = "support-automation|gpt-4o-mini";
    expect(secondAfter.byGroup.get(SPIKE)).toBeGreaterThan(secondAlone.byGroup.get(SPIKE) ?? 0n);
    expect([...secondAfter.byGroup.keys()].sort()).toEqual([...secondAlone.byGroup.keys()].sort());
    // In that hour the month's licence, shared by usage, leans toward the spike's extra usage: every
    // other group keeps its own cost and gives up at most its share of that hour's licence.
    const HOUR_OF_LICENCE = (18_000n * 1_000_000_000n) / (24n * 28n);
    expect(bothFirstSpiking.total).toBeGreaterThan(aloneFirstSpiking.total);
    for (const [group, nanos] of aloneFirstSpiking.byGroup) {
      if (group === SPIKE) continue;
      const lost = nanos - (bothFirstSpiking.byGroup.get(group) ?? 0n);
      expect({ group, lost: lost >= 0n && lost <= HOUR_OF_LICENCE }).toEqual({ group, lost: true });
    }
    // Overall, the second run added only its three new hours (and the rest of jobs running in them).
    const added = everythingAfter.total - everythingBefore.total;
    expect(added).toBeGreaterThan(0n);
    expect(added).toBeLessThanOrEqual(newHours.total);
    expect(added).toBeLessThan(secondAlone.total);
  }, 240_000);
});
