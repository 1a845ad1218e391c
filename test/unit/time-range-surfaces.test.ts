import { describe, expect, it } from "vitest";
import { ReportQueryError } from "#app/cost-report.ts";
import { parseSelection } from "#app/dashboard-selection.ts";
import { createFocusExport } from "#app/focus-export.ts";
import { createReportText } from "#app/report-views.ts";
import { fixedClock } from "#ports/clock.ts";
import { at, costRow } from "../support/cost-row-builder.ts";
import { createMemoryWarehouse } from "../support/memory-warehouse.ts";

// The one range rule (shared/domain/time-range.ts) as each surface that reads a range says it:
// costReport (and finops report), the dashboard's data, the FOCUS export. The CLI's flags are in
// test/e2e/cli-errors.test.ts.

const NOW = new Date("2026-11-15T10:20:00Z");

/** [query, field, message] every surface answers alike. */
const BAD_RANGES: readonly [Record<string, string>, string, RegExp][] = [
  [{ from: "2026-11-31" }, "from", /^from: "2026-11-31" is not a date: November 2026 has 30 days$/],
  [{ from: "2026-02-30" }, "from", /^from: "2026-02-30" is not a date: February 2026 has 28 days$/],
  [{ to: "2026-11-01T24:00" }, "to", /^to: "2026-11-01T24:00" is not a date: the hour is 00 to 23/],
  [{ from: "2026-11-14T10:30:00Z" }, "from", /^from: 2026-11-14T10:30:00\.000Z is not on a whole UTC hour/],
  [{ from: "2026-11-10", to: "2026-11-09" }, "to", /^to: must be after from$/],
  [{ from: "1970-01-01" }, "from", /^from: the range may span at most 367 days; /],
  [
    { from: "2025-11-01", to: "2026-11-04" },
    "from",
    /^from: the range may span at most 367 days; .* is 368 days$/,
  ],
  [{ from: "yesterday" }, "from", /^from: "yesterday" is not a date \(YYYY-MM-DD, or an ISO 8601 date-time/],
];

/** The ReportQueryError `run` throws or rejects with. */
async function refusal(run: () => unknown): Promise<ReportQueryError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ReportQueryError) return error;
    throw error;
  }
  throw new Error("expected a ReportQueryError");
}

function reportText() {
  const warehouse = createMemoryWarehouse();
  const text = createReportText({
    warehouse,
    trainingCosts: { report: async (range) => ({ asOf: NOW, ...range, jobs: [], byOutcome: [] }) },
    reconciliationView: async () => [],
    clock: fixedClock(NOW),
  });
  return { warehouse, text };
}

describe("costReport (and finops report)", () => {
  it.each(BAD_RANGES)("refuses %j naming %s", async (query, field, message) => {
    const { text } = reportText();
    const error = await refusal(() => text({ view: "cost", ...query }));
    expect(error).toMatchObject({ field, message: expect.stringMatching(message) });
  });

  it.each([
    ["trend", "day", /^by: the trend is daily already \(name hour for an hourly one\); one of hour, team, /],
    ["trend", "team,day", /^by: the trend is daily already/],
    ["trend", "nonsense", /^by: unknown dimension "nonsense"; one of hour, team, model, model_version, /],
    ["cost", "nonsense", /^by: unknown dimension "nonsense"; one of team, .*, day, hour$/],
    ["reconciliation", "model", /^by: unknown dimension "model"; one of cloud, namespace, team$/],
    ["reconciliation", "team,cloud", /^by: the reconciliation view is by one of cloud, namespace, team$/],
  ])("--view %s --by %s lists only what the view takes", async (view, by, message) => {
    const { text } = reportText();
    const error = await refusal(() => text({ view, by }));
    expect(error.message).toMatch(message);
    if (view === "trend") expect(error.message.split("; one of ")[1]).not.toMatch(/\bday\b/);
  });

  it("answers an hourly trend for --by hour: every hour of the range once per group, never day × hour", async () => {
    const { warehouse, text } = reportText();
    await warehouse.insertEvents([
      costRow({ team: "risk", event_time: at(5), cost_nanos: 1_500_000_000n }),
      costRow({ team: "search", event_time: at(65), cost_nanos: 250_000_000n }),
    ]);
    await warehouse.refreshPending(NOW);
    const from = at(-60).toISOString();
    const to = at(180).toISOString();

    const hourly = JSON.parse((await text({ view: "trend", by: "hour,team", from, to })).body);
    const daily = JSON.parse((await text({ view: "trend", by: "team", from, to })).body);

    expect(hourly.map((l: Record<string, string>) => [l.hour, l.team, l.amount])).toEqual([
      ["2026-11-15T09:00:00Z", "risk", "0"],
      ["2026-11-15T09:00:00Z", "search", "0"],
      ["2026-11-15T10:00:00Z", "risk", "1.5"],
      ["2026-11-15T10:00:00Z", "search", "0"],
      ["2026-11-15T11:00:00Z", "risk", "0"],
      ["2026-11-15T11:00:00Z", "search", "0.25"],
      ["2026-11-15T12:00:00Z", "risk", "0"],
      ["2026-11-15T12:00:00Z", "search", "0"],
    ]);
    expect(Object.keys(hourly[0])).toEqual(["hour", "team", "currency", "cost_nanos", "amount"]);
    expect(daily.map((l: Record<string, string>) => [l.day, l.team, l.amount])).toEqual([
      ["2026-11-15", "risk", "1.5"],
      ["2026-11-15", "search", "0.25"],
    ]);
  });
});

describe("the dashboard's data", () => {
  it.each(BAD_RANGES)("refuses %j naming %s", async (query, field, message) => {
    const error = await refusal(() => parseSelection(query, NOW, []));
    expect(error).toMatchObject({ field, message: expect.stringMatching(message) });
  });

  it("takes the range the page asks for: whole days, at most a year and a day", () => {
    const { range } = parseSelection({ from: "2025-11-15", to: "2026-11-16" }, NOW, []);
    expect(range).toEqual({ from: new Date("2025-11-15T00:00:00Z"), to: new Date("2026-11-16T00:00:00Z") });
  });
});

describe("the FOCUS export", () => {
  it.each(BAD_RANGES.filter(([query]) => query.from !== undefined && query.to !== undefined))(
    "refuses %j naming %s before reading anything",
    async (query, field, message) => {
      const exporter = createFocusExport({ warehouse: createMemoryWarehouse() });
      const range = { from: new Date(`${query.from}T00:00:00Z`), to: new Date(`${query.to}T00:00:00Z`) };
      const error = await refusal(() =>
        exporter({ ...range, granularity: "day", billingAccountId: "acct", billingAccountName: null }),
      );
      expect(error).toMatchObject({ field, message: expect.stringMatching(message) });
    },
  );
});
