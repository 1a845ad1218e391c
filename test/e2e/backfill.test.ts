import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import { TOPICS } from "#ports/bus.ts";
import {
  batchMessage,
  drainBus,
  floorHour,
  HOUR_MS,
  postJson,
  refreshRollups,
  report,
  tempDuckDb,
  useTestSession,
} from "../support/local-stack-session.ts";
import { runCli } from "../support/run-cli.ts";

// Backfills of any accepted age reach the reports, through each way in: the CLI, HTTP and the bus.
// Nothing here depends on a lookback window: the rows' hours are recorded with the rows.

const DAY_MS = 24 * HOUR_MS;
const AGES = [60, 200, 399];
const COST = 1_234_567_891n;

function event(id: string, daysAgo: number): Record<string, unknown> {
  return {
    specversion: "1.0",
    id,
    source: "//inference/backfill",
    type: "ai.cost.inference.v1",
    time: new Date(floorHour(Date.now()) - daysAgo * DAY_MS + 90_000).toISOString(),
    data: {
      team: "archive",
      model: "ranker",
      model_version: "v1",
      business_unit: "search",
      provider: "self",
      cost_nanos: String(COST),
    },
  };
}

/** The one day holding the event `daysAgo` old, as a report range. */
function dayOf(daysAgo: number) {
  const from = new Date(floorHour(Date.now()) - daysAgo * DAY_MS);
  return { from, to: new Date(from.getTime() + DAY_MS) };
}

describe("backfills of any accepted age", () => {
  it.each([
    ["on the main thread", []],
    ["prepared by a worker thread", ["--workers", "1"]],
  ])(
    "through finops ingest %s: 60, 200 and 399 days old in their days' reports; 401 refused naming time",
    async (_, flags) => {
      const db = tempDuckDb();
      try {
        const file = join(db.dir, "backfill.ndjson");
        const events = [...AGES.map((age) => event(`cli-${age}`, age)), event("cli-401", 401)];
        writeFileSync(file, events.map((e) => JSON.stringify(e)).join("\n"));
        const result = await runCli(["ingest", file, "--quiet", ...flags], { FINOPS_DUCKDB_PATH: db.path });
        const answer = JSON.parse(result.stdout) as {
          accepted: number;
          rejections: { id: string; field: string }[];
        };
        expect(answer.accepted).toBe(3);
        expect(answer.rejections).toEqual([expect.objectContaining({ id: "cli-401", field: "time" })]);

        const warehouse = createDuckDbWarehouse({ path: db.path });
        try {
          for (const age of AGES) {
            const [row] = await warehouse.report({ ...dayOf(age), by: [], reads: "rollup" });
            expect(row?.cost_nanos, `${age} days old`).toBe(COST);
          }
        } finally {
          await warehouse.close();
        }
      } finally {
        db.remove();
      }
    },
    30_000,
  );

  describe("through the running stack", () => {
    const session = useTestSession();

    it("over HTTP and the bus: each in its day's report to the nano", async () => {
      const http = await postJson(
        session().stack,
        "/v1/events",
        JSON.stringify(AGES.map((age) => event(`http-${age}`, age))),
      );
      expect(http.status).toBe(200);
      await session().runtime.bus.publish(TOPICS.events, [
        batchMessage(AGES.map((age) => event(`bus-${age}`, age))),
      ]);
      await drainBus(session().runtime);
      const refused = await postJson(session().stack, "/v1/events", JSON.stringify(event("http-401", 401)));
      expect(refused.body.rejected).toEqual([expect.objectContaining({ field: "time" })]);

      await refreshRollups(session().stack);
      for (const age of AGES) {
        const [row] = await report(session().runtime, { ...dayOf(age), by: [] });
        expect(row?.cost_nanos, `${age} days old`).toBe(2n * COST);
      }
    });
  });
});
