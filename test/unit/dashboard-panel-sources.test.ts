import { describe, expect, it } from "vitest";
import { reconciliationPanel, scorecardPanel } from "#app/dashboard-panel-sources.ts";
import {
  type ReconciliationView,
  ReconciliationViewError,
  type ReconciliationViewRow,
} from "#app/reconciliation-view.ts";
import type { Scorecard, ScorecardQuery, ScorecardReport } from "#app/scorecard.ts";
import type { ModelScorecard } from "#domain/scorecard/scorecard.ts";
import { fixedClock } from "#ports/clock.ts";

const USD = 1_000_000_000n;
const RANGE = { from: new Date("2026-11-01T00:00:00Z"), to: new Date("2026-11-03T05:00:00Z") };

function viewRow(day: string, value: string | null, estimated: bigint, billed: bigint, currency = "USD") {
  return { day, value, currency, estimated, reconciled: estimated, billed, drift: billed - estimated };
}

describe("the reconciliation panel", () => {
  const rows: ReconciliationViewRow[] = [
    viewRow("2026-11-01", "nlp", 10n * USD, 12n * USD),
    viewRow("2026-11-01", "vision", 5n * USD, 5n * USD),
    viewRow("2026-11-02", null, 0n, 3n * USD),
    viewRow("2026-11-02", "nlp", 1n * USD, 1n * USD, "EUR"),
  ];

  it("sums estimate and bill by day in the main currency, names the largest drifts and what is left out", async () => {
    // Prepare
    const asked: unknown[] = [];
    const view: ReconciliationView = async (query) => {
      asked.push(query);
      return rows;
    };

    // Act
    const panel = await reconciliationPanel(view)({ ...RANGE, filters: { model: "llm" } });

    // Assess
    expect(asked).toEqual([{ from: "2026-11-01", to: "2026-11-04", by: "team" }]);
    expect(panel).toEqual({
      currency: "USD",
      estimated: 15n * USD,
      billed: 20n * USD,
      drift: 5n * USD,
      drift_percent: "25.00",
      days: [
        { day: "2026-11-01", estimated: 15n * USD, billed: 17n * USD },
        { day: "2026-11-02", estimated: 0n, billed: 3n * USD },
      ],
      largest: [
        {
          day: "2026-11-02",
          label: "team=-",
          drift: 3n * USD,
          drift_percent: "100.00",
          status: "unattributed",
        },
        { day: "2026-11-01", label: "team=nlp", drift: 2n * USD, drift_percent: "16.67", status: "matched" },
      ],
      note: expect.stringMatching(/model filter does not apply.*Also billed in EUR/),
    });
  });

  it("keeps the chosen team's rows, and answers null when nothing was reconciled", async () => {
    const panel = await reconciliationPanel(async () => rows)({ ...RANGE, filters: { team: "vision" } });
    expect(panel).toMatchObject({
      estimated: 5n * USD,
      billed: 5n * USD,
      drift_percent: "0.00",
      largest: [],
    });
    expect(await reconciliationPanel(async () => [])({ ...RANGE, filters: {} })).toBeNull();
  });

  it("reads days reconciled on other keys by the first key they have, when no team is chosen", async () => {
    // Prepare
    const view: ReconciliationView = async ({ by }) => {
      if (by !== "namespace") throw new ReconciliationViewError("by", `reconciled on namespace, not ${by}`);
      return [viewRow("2026-11-01", "serving", 1n * USD, 2n * USD)];
    };

    // Act
    const panel = await reconciliationPanel(view)({ ...RANGE, filters: {} });
    const forTeam = reconciliationPanel(view)({ ...RANGE, filters: { team: "nlp" } });

    // Assess
    expect(panel?.largest.map((r) => r.label)).toEqual(["namespace=serving"]);
    await expect(forTeam).rejects.toThrow(/not team/);
  });
});

function model(name: string, savings: bigint, currency = "USD"): ModelScorecard {
  return {
    model: name,
    teams: ["nlp"],
    currency,
    monthly_cost_nanos: 100n * USD,
    levers: [
      {
        lever: "right_sizing",
        monthly_savings_nanos: savings,
        percent: Number(savings / USD),
        risk: { level: "medium", text: "" },
        roi_weeks: 3.5,
      },
    ],
    combined: { monthly_savings_nanos: savings, percent: Number(savings / USD) },
  } as unknown as ModelScorecard;
}

describe("the scorecard panel", () => {
  const report = (models: ModelScorecard[]) =>
    ({
      window: { from: "2026-10-04T05:00:00.000Z", to: "2026-11-03T05:00:00.000Z", observed_days: 30 },
      models,
    }) as unknown as ScorecardReport;

  it("asks for the range's length in days and the chosen team and model, most savings first", async () => {
    // Prepare
    const asked: ScorecardQuery[] = [];
    const scorecard: Scorecard = async (query = {}) => {
      asked.push(query);
      return report([model("small", 5n * USD), model("big", 40n * USD), model("euro", 90n * USD, "EUR")]);
    };

    // Act
    const panel = await scorecardPanel(scorecard, { clock: fixedClock(RANGE.to) })({
      ...RANGE,
      filters: { team: "nlp", business_unit: "research" },
    });

    // Assess
    expect(asked).toEqual([{ days: 3, team: "nlp" }]);
    expect(panel?.models.map((m) => [m.model, m.combined_savings])).toEqual([
      ["big", 40n * USD],
      ["small", 5n * USD],
    ]);
    expect(panel?.models[0]?.levers).toEqual([
      { lever: "right-sizing", monthly_savings: 40n * USD, percent: 40, risk: "medium", roi_weeks: 3.5 },
    ]);
    expect(panel?.note).toMatch(/last 30 days.*business unit filter does not apply.*EUR are not shown/);
  });

  it("reads each scorecard once while it is fresh, and answers null when no model has one", async () => {
    // Prepare
    let now = RANGE.to;
    let reads = 0;
    const scorecard: Scorecard = async () => {
      reads += 1;
      return report([]);
    };
    const panel = scorecardPanel(scorecard, { clock: { now: () => now } });

    // Act
    const first = await panel({ ...RANGE, filters: {} });
    await panel({ ...RANGE, filters: {} });
    now = new Date(now.getTime() + 600_000);
    await panel({ ...RANGE, filters: {} });

    // Assess
    expect(first).toBeNull();
    expect(reads).toBe(2);
  });
});
