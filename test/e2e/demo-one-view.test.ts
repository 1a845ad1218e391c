import { afterAll, describe, expect, it } from "vitest";
import type { CostRow } from "#domain/cost-row.ts";
import { generateDemoEvents } from "#domain/demo/demo-events.ts";
import { ALLOCATION_V1, FIXED_V1, INFERENCE_V1, TRAINING_V1 } from "#domain/events/cloud-event.ts";
import { parseCostEvent } from "#domain/events/parse.ts";
import { toCostRows } from "#domain/ingest/to-cost-rows.ts";
import { formatAmount } from "#domain/money.ts";
import { demoWindow, publishDemo } from "../../bin/commands/demo-feed.ts";
import { shippedPricer } from "../support/expected-costs.ts";
import {
  drainBus,
  HOUR_MS,
  openTestSession,
  refreshRollups,
  report,
  type TestSession,
  tempDuckDb,
  totalsByGroup,
} from "../support/local-stack-session.ts";
import { runCli } from "../support/run-cli.ts";

const HOURS = 6;
const SEED = "e2e-demo-one-view";

const db = tempDuckDb("finops-demo-view-");
let session: TestSession | undefined;

afterAll(async () => {
  await session?.close();
  db.remove();
});

/** What each stored row adds to its hour: its cost, a training row the difference to its job's previous one. */
function charges(events: readonly unknown[], now: Date): Array<{ row: CostRow; nanos: bigint }> {
  const pricer = shippedPricer();
  const out: Array<{ row: CostRow; nanos: bigint }> = [];
  const jobs = new Map<string, CostRow[]>();
  for (const raw of events) {
    const parsed = parseCostEvent(raw, now);
    if (!parsed.ok) throw new Error(parsed.rejection.reason);
    const costed = toCostRows(parsed.event, pricer, now);
    if (!costed.ok) throw new Error(costed.rejection.reason);
    for (const row of costed.rows) {
      if (row.event_type !== TRAINING_V1 || row.job_id === null) out.push({ row, nanos: row.cost_nanos });
      else jobs.set(row.job_id, [...(jobs.get(row.job_id) ?? []), row]);
    }
  }
  for (const rows of jobs.values()) {
    let previous = 0n;
    for (const row of rows.sort((a, b) => (a.elapsed_seconds ?? 0) - (b.elapsed_seconds ?? 0))) {
      out.push({ row, nanos: row.cost_nanos - previous });
      previous = row.cost_nanos;
    }
  }
  return out;
}

describe("the demo's GPU cluster through the one view", () => {
  it("reports idle and unallocated next to the teams, and every dollar once", async () => {
    // Prepare
    const now = new Date();
    const window = demoWindow(now, HOURS);
    const events = generateDemoEvents({ from: window.from, hours: HOURS, seed: SEED }).filter(
      (e) => Date.parse(e.time) <= now.getTime(),
    );
    session = await openTestSession(db.path);

    // Act: the way `finops demo` feeds the local stack, then `report --by team`.
    const published = await publishDemo(session.runtime.bus, { hours: HOURS, seed: SEED, now });
    await drainBus(session.runtime);
    await refreshRollups(session.stack);
    const byTeam = totalsByGroup(await report(session.runtime, { by: ["team"], ...window }), ["team"]);
    await session.close();
    session = undefined;
    const range = ["--from", window.from.toISOString(), "--to", window.to.toISOString()];
    const cli = await runCli(["report", "--by", "team", ...range], {
      FINOPS_DUCKDB_PATH: db.path,
      FINOPS_LOG_LEVEL: "error",
    });

    // Assess: the expected view, from the events alone.
    expect(published.events).toBe(events.length);
    const inRange = charges(events, now).filter(
      ({ row }) => row.event_time >= window.from && row.event_time < window.to,
    );
    const hourOf = (row: CostRow) => Math.floor(row.event_time.getTime() / HOUR_MS);
    const cell = (row: CostRow) => `${hourOf(row)}|${row.namespace}`;
    const isWorkload = (row: CostRow) => row.event_type === INFERENCE_V1 || row.event_type === TRAINING_V1;
    const allocationCells = new Set(
      inRange
        .filter(({ row }) => row.basis === "allocation" && row.namespace !== null)
        .map(({ row }) => cell(row)),
    );
    const covered = new Set(
      inRange
        .filter(({ row, nanos }) => isWorkload(row) && nanos > 0n && allocationCells.has(cell(row)))
        .map(({ row }) => cell(row)),
    );
    const sum = (pick: (c: { row: CostRow; nanos: bigint }) => boolean) =>
      inRange.filter(pick).reduce((n, c) => n + c.nanos, 0n);

    const allocations = sum(({ row }) => row.basis === "allocation");
    const coveredAllocations = sum(({ row }) => row.basis === "allocation" && covered.has(cell(row)));
    const estimatesElsewhere = sum(({ row }) => isWorkload(row) && !covered.has(cell(row)));
    const fixed = sum(({ row }) => row.event_type === FIXED_V1);
    const reportTotal = [...byTeam.values()].reduce((a, b) => a + b, 0n);

    // Allocation rows of every whole hour but the current one, with the estimates they replace.
    expect(events.filter((e) => e.type === ALLOCATION_V1).length).toBeGreaterThanOrEqual((HOURS - 1) * 12);
    expect(covered.size).toBeGreaterThanOrEqual(2 * (HOURS - 1));
    expect(coveredAllocations).toBeGreaterThan(0n);
    // Each dollar once: the allocations (covered namespace-hours, idle, unallocated, kube-system),
    // the estimates where no allocation covers them, and the fixed licence.
    expect(reportTotal).toBe(allocations + estimatesElsewhere + fixed);
    expect(reportTotal).toBeLessThan(sum(() => true));

    // The licence is shared by usage: every hour of the window had usage, so none of it stays under
    // `shared`, and the team that pays it bears only its share of it.
    expect(fixed).toBeGreaterThan(0n);
    expect(byTeam.get("shared") ?? 0n).toBe(0n);
    expect(byTeam.get("ml-platform") ?? 0n).toBeLessThan(fixed / 10n);
    // Idle is not usage: exactly the cluster's idle, no share of the licence.
    expect(byTeam.get("idle")).toBe(sum(({ row }) => row.team === "idle"));
    expect(byTeam.get("idle")).toBeGreaterThan(0n);
    // The unlabelled namespace and a team whose namespace the cluster covers: its allocations there,
    // not its estimates, plus its estimates in the hour no allocation covers yet, plus a share of the
    // licence for what they used.
    const own = {
      unallocated: sum(({ row }) => row.namespace === "scratch-notebooks"),
      ...Object.fromEntries(
        ["chat-experience", "doc-intelligence"].map((team) => [
          team,
          sum(
            ({ row }) =>
              row.namespace === team &&
              (covered.has(cell(row)) ? row.basis === "allocation" : isWorkload(row)),
          ),
        ]),
      ),
    } as Record<string, bigint>;
    let shares = 0n;
    for (const [team, nanos] of Object.entries(own)) {
      const share = (byTeam.get(team) ?? 0n) - nanos;
      expect({ team, shareOfLicence: share > 0n }).toEqual({ team, shareOfLicence: true });
      // In proportion: a share never exceeds the licence times the team's part of what was used.
      expect(share * (reportTotal - fixed)).toBeLessThanOrEqual(fixed * nanos * 2n);
      shares += share;
    }
    expect(shares).toBeLessThan(fixed);

    // `finops report --by team` prints them.
    expect(cli).toMatchObject({ code: 0, stderr: "" });
    for (const team of ["idle", "unallocated", "chat-experience", "doc-intelligence"]) {
      expect(cli.stdout).toMatch(
        new RegExp(`^${team}\\s+${formatAmount(byTeam.get(team) ?? -1n).replace(".", "\\.")} USD`, "m"),
      );
    }
    expect(cli.stdout).toMatch(
      new RegExp(`^TOTAL\\s+${formatAmount(reportTotal).replace(".", "\\.")} USD`, "m"),
    );
  }, 120_000);
});
