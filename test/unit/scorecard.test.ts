import { describe, expect, it } from "vitest";
import { LEVERS, type Lever } from "#domain/scorecard/compose-savings.ts";
import {
  type LeverResult,
  modelScorecards,
  paybackText,
  roiOrder,
  roiWeeks,
  teamScorecards,
} from "#domain/scorecard/scorecard.ts";
import { scorecardToJson, scorecardToText } from "#domain/scorecard/scorecard-format.ts";
import { buildScorecardReport } from "#domain/scorecard/scorecard-report.ts";
import { DEFAULT_SCORECARD_SETTINGS, scorecardSettingsSchema } from "#domain/scorecard/scorecard-settings.ts";
import { leverContext, segment, USD, utilization } from "../support/scorecard-builders.ts";

const lever = (card: { levers: LeverResult[] }, name: Lever) => {
  const found = card.levers.find((l) => l.lever === name);
  if (!found) throw new Error(`no ${name} lever`);
  return found;
};

const only = <T>(items: readonly T[]): T => {
  expect(items).toHaveLength(1);
  return items[0] as T;
};

/** Checkpointed training on one on-demand GCP A100 ($2.933908 on demand, $0.88 spot). */
const a100Training = segment({
  team: "search",
  model: "ranker",
  workload: "training",
  interruptible: true,
  cloud: "gcp",
  region: "us-central1",
  accelerator: "nvidia-tesla-a100",
  instance_type: null,
  requests: 0,
});

describe("spot instances", () => {
  it("saves the catalog's spot discount on interruptible work still on demand", () => {
    // Act
    const card = only(modelScorecards([a100Training], leverContext()));

    // Assess: $1,000 × (1 − 0.88 / 2.933908)
    const spot = lever(card, "spot");
    expect(spot.monthly_savings_nanos).toBe(700_058_761_215n);
    expect(spot.percent).toBe(70.01);
    expect(spot.basis).toBe("catalog prices");
    expect(spot.detail).toBe("nvidia-tesla-a100 $2.93 → $0.88 per GPU-hour");
    expect(spot.risk.level).toBe("medium");
    expect(card.assumptions.join(" ")).toMatch(/report epochs are taken to checkpoint/);
  });

  it("claims nothing for serving, for work already on spot, or for a provider's API", () => {
    // Prepare
    const segments = [
      segment({ model: "serving", interruptible: false }),
      segment({ model: "on-spot", interruptible: true, pricing_model: "spot" }),
      segment({ model: "api", interruptible: true, provider: "openai", instance_type: null, cloud: null }),
    ];

    // Act
    const cards = modelScorecards(segments, leverContext());

    // Assess
    const details = Object.fromEntries(cards.map((c) => [c.model, lever(c, "spot")]));
    for (const spot of Object.values(details)) {
      expect(spot.monthly_savings_nanos).toBe(0n);
      expect(spot.roi_weeks).toBeNull();
      expect(spot.basis).toBe("not assessed");
    }
    expect(details.serving?.detail).toMatch(/^no saving: not interruptible/);
    expect(details["on-spot"]?.detail).toBe("no saving: already on spot");
    expect(details.api?.detail).toMatch(/^no saving: no GPU of ours/);
  });
});

describe("right-sizing", () => {
  it("moves a lightly used V100 to the cheapest smaller GPU that fits, from measured utilization and memory", () => {
    // Prepare: p95 20% busy, 6 GiB peak: a T4 (65 TFLOPS, 16 GiB) would be 38% busy and 38% full.
    const ctx = leverContext({
      utilization: utilization({
        "fraud-scorer": { "nvidia-tesla-v100": { p95: 0.2, peakMemoryMiB: 6 * 1024 } },
      }),
    });

    // Act
    const card = only(modelScorecards([segment()], ctx));

    // Assess: $1,000 × (1 − 0.526 / 3.06) on g4dn.xlarge
    const rightSizing = lever(card, "right_sizing");
    expect(rightSizing.monthly_savings_nanos).toBe(828_104_575_163n);
    expect(rightSizing.basis).toBe("measured");
    expect(rightSizing.detail).toMatch(
      /^p3\.2xlarge → g4dn\.xlarge \(p95 20% busy, peak 6\.0 GiB; there about 38% busy, 38% of its 16\.0 GiB\)/,
    );
    expect(rightSizing.risk.level).toBe("low");
  });

  it("passes over a smaller GPU the peak memory would not fit, and one the load would crowd", () => {
    // Prepare: 15 GiB peak does not fit 80% of a T4's 16 GiB; the A10G (24 GiB, 70 TFLOPS) takes it.
    const ctx = (p95: number) =>
      leverContext({
        utilization: utilization({
          "fraud-scorer": { "nvidia-tesla-v100": { p95, peakMemoryMiB: 15 * 1024 } },
        }),
      });

    // Act
    const roomy = lever(only(modelScorecards([segment()], ctx(0.2))), "right_sizing");
    const busy = lever(only(modelScorecards([segment()], ctx(0.5))), "right_sizing");

    // Assess: $1,000 × (1 − 1.006 / 3.06), 63% of the A10G's memory (medium risk); at 50% busy it
    // would be 89% busy, over the 60% target.
    expect(roomy.monthly_savings_nanos).toBe(671_241_830_065n);
    expect(roomy.detail).toMatch(/^p3\.2xlarge → g5\.xlarge/);
    expect(roomy.risk.level).toBe("medium");
    expect(busy.monthly_savings_nanos).toBe(0n);
    expect(busy.detail).toMatch(/no cheaper GPU fits on nvidia-tesla-v100 \(p95 50% busy, peak 15\.0 GiB\)/);
  });

  it("without utilization data claims no saving and says so", () => {
    // Act
    const card = only(modelScorecards([segment()], leverContext({ utilization: null })));

    // Assess
    const rightSizing = lever(card, "right_sizing");
    expect(rightSizing.monthly_savings_nanos).toBe(0n);
    expect(rightSizing.detail).toBe("no saving: no utilization data");
    expect(card.assumptions).toContain(
      "No utilization data: right-sizing is not assessed and no saving is claimed for it.",
    );
  });

  it("overlaps spot: together they keep the smaller GPU's spot rate, less than the independent product", () => {
    // Prepare: checkpointed training on a p3.2xlarge ($3.06, spot $0.918) that fits a g4dn.xlarge (spot $0.2104).
    const ctx = leverContext({
      utilization: utilization({
        "fraud-scorer": { "nvidia-tesla-v100": { p95: 0.2, peakMemoryMiB: 6 * 1024 } },
      }),
    });
    const training = segment({ workload: "training", interruptible: true, requests: 0 });

    // Act
    const card = only(modelScorecards([training], ctx));

    // Assess: 1 − 0.2104 / 3.06 = 93.12%, where 1 − (1 − 0.70)(1 − 0.8281) would claim 94.84%.
    expect(lever(card, "spot").monthly_savings_nanos).toBe(700n * USD);
    expect(lever(card, "right_sizing").monthly_savings_nanos).toBe(828_104_575_163n);
    expect(card.combined.monthly_savings_nanos).toBe(931_241_830_065n);
    expect(card.combined.percent).toBe(93.12);
    expect(card.combined.sum_of_percents).toBe(152.81);
  });
});

describe("quantization and caching", () => {
  it("quantization divides GPU inference time by the configured speed-up, and skips training, APIs and excluded models", () => {
    // Prepare
    const settings = scorecardSettingsSchema.parse({ quantization: { speedup: 3, excludeModels: ["tiny"] } });
    const segments = [
      segment({ model: "llm" }),
      segment({ model: "llm", workload: "training", interruptible: false }),
      segment({ model: "tiny" }),
      segment({ model: "api", provider: "openai", instance_type: null, cloud: null }),
    ];

    // Act
    const cards = modelScorecards(segments, leverContext({ settings }));

    // Assess: a third of the llm's inference $1,000 is left, its training untouched.
    const by = Object.fromEntries(cards.map((c) => [c.model, lever(c, "quantization")]));
    expect(by.llm?.monthly_savings_nanos).toBe(666_666_666_667n);
    expect(by.llm?.percent).toBe(33.33);
    expect(by.llm?.basis).toBe("configured speed-up");
    expect(by.tiny?.detail).toBe("no saving: excluded by scorecard.quantization.excludeModels");
    expect(by.api?.monthly_savings_nanos).toBe(0n);
  });

  it("caching saves the cost of the measured repeats, on GPUs and on a provider's API alike", () => {
    // Prepare: 60% of 1,000 fingerprinted requests repeated within the TTL, $600 of $1,000.
    const api = segment({
      model: "gpt-4o-mini",
      provider: "openai",
      instance_type: null,
      cloud: null,
      region: null,
      requests: 1000,
      fingerprinted: 1000,
      repeats: 600,
      repeat_cost_nanos: 600n * USD,
      cache_hits: 0,
    });

    // Act
    const card = only(modelScorecards([api], leverContext()));

    // Assess
    const caching = lever(card, "caching");
    expect(caching.monthly_savings_nanos).toBe(600n * USD);
    expect(caching.basis).toBe("measured");
    expect(caching.detail).toBe(
      "60% of fingerprinted requests repeat one seen within 24 h and missed the cache",
    );
    expect(card.inputs).toMatchObject({ requests: 1000, repeated_share: 0.6, cache_hit_share: 0 });
    expect(card.levers[0]?.lever).toBe("caching");
  });
});

describe("ROI order and the combined figure", () => {
  it("puts the quickest payback first, levers that save nothing last, and explains the order", () => {
    // Prepare: checkpointed V100 training and V100 serving with repeated requests, utilization unknown.
    const segments = [
      segment({ workload: "training", interruptible: true, requests: 0 }),
      segment({ fingerprinted: 1000, repeats: 250, repeat_cost_nanos: 250n * USD }),
    ];

    // Act
    const card = only(modelScorecards(segments, leverContext()));

    // Assess: spot $700/month for $10,000 (61.9 weeks), caching $250 for $5,000 (86.7), quantization
    // $500 for $15,000 (130).
    expect(card.levers.map((l) => [l.lever, l.roi_weeks])).toEqual([
      ["spot", 61.9],
      ["caching", 86.7],
      ["quantization", 130],
      ["right_sizing", null],
    ]);
    expect(card.combined.steps.map((s) => s.added_nanos)).toEqual([700n * USD, 250n * USD, 375n * USD, 0n]);
    expect(card.combined.monthly_savings_nanos).toBe(1_325n * USD);
    expect(card.combined.percent).toBe(66.25);
    expect(card.combined.sum_of_percents).toBe(72.5);
    expect(card.order).toMatch(
      /^Quickest payback first \(implementation cost over weekly savings\): spot instances \(over a year, for \$700\.00\/month\), then query caching \(over a year/,
    );
    expect(card.order).toContain("not the 72.5% the percents add to");
    expect(card.order).toContain("Nothing to save on this data with right-sizing.");
  });

  it("says a payback past a year is over a year, in the table and the order, and keeps the number in JSON", () => {
    // Prepare: spot on $40,000 a month of checkpointed training pays back in weeks; on 30 cents a month,
    // in thousands of years.
    const report = (cost_nanos: bigint) =>
      buildScorecardReport({
        segments: [segment({ workload: "training", interruptible: true, requests: 0, cost_nanos })],
        window: {
          from: new Date("2026-11-01T00:00:00Z"),
          to: new Date("2026-12-01T00:00:00Z"),
          firstEvent: null,
        },
        now: new Date("2026-12-01T00:00:00Z"),
        ctx: leverContext(),
        utilization: "no DCGM metrics source configured",
      });
    const spotRow = (text: string) => text.split("\n").find((line) => /^\s+1\s+spot instances/.test(line));

    // Act
    const quick = report(40_000n * USD);
    const slow = report(300_000_000n);

    // Assess
    const quickWeeks = quick.models[0]?.levers[0]?.roi_weeks ?? 0;
    const slowWeeks = slow.models[0]?.levers[0]?.roi_weeks ?? 0;
    expect(quickWeeks).toBeLessThan(52);
    expect(slowWeeks).toBeGreaterThan(10_000);
    expect(spotRow(scorecardToText(quick))).toContain(` ${quickWeeks.toFixed(1)} `);
    expect(quick.models[0]?.order).toContain(`spot instances (${quickWeeks} weeks, for`);
    const slowText = scorecardToText(slow);
    expect(spotRow(slowText)).toMatch(/ > 52 /);
    expect(slowText).toContain("spot instances (over a year, for");
    expect(slowText).not.toContain(String(Math.floor(slowWeeks)));
    expect(JSON.parse(scorecardToJson(slow)).models[0].levers[0].roi_weeks).toBe(slowWeeks);
    expect([paybackText(1), paybackText(52), paybackText(52.1)]).toEqual([
      "1 week",
      "52 weeks",
      "over a year",
    ]);
  });

  it("ROI in weeks is the implementation cost over a week's savings (12/52 of a month)", () => {
    expect(roiWeeks(5_000n * USD, 1_000n * USD)).toBe(21.7);
    expect(roiWeeks(5_000n * USD, 0n)).toBeNull();
    const results = LEVERS.map(
      (l, i) => ({ lever: l, roi_weeks: [null, 2, 2, 1][i] ?? null }) as LeverResult,
    );
    expect(roiOrder(results).map((l) => l.lever)).toEqual([
      "caching",
      "right_sizing",
      "quantization",
      "spot",
    ]);
  });
});

describe("scorecards per model and per team", () => {
  it("a model's card holds every team's workloads; a team's cards hold only its own", () => {
    // Prepare
    const segments = [
      segment({ team: "serving-team", model: "chat" }),
      segment({ team: "research", model: "chat", workload: "training", interruptible: true, requests: 0 }),
    ];

    // Act
    const models = modelScorecards(segments, leverContext());
    const teams = teamScorecards(segments, leverContext());

    // Assess
    const chat = only(models);
    expect(chat.teams).toEqual(["research", "serving-team"]);
    expect(chat.monthly_cost_nanos).toBe(2_000n * USD);
    expect(teams.map((t) => [t.team, t.monthly_savings_nanos])).toEqual([
      ["research", 700n * USD],
      ["serving-team", 500n * USD],
    ]);
    expect(teams.reduce((sum, t) => sum + t.monthly_savings_nanos, 0n)).toBe(
      chat.combined.monthly_savings_nanos,
    );
  });

  it("scales the observed part of the window to a month and lists the assumptions", () => {
    // Prepare: $100 over the last two days of a 30-day window.
    const to = new Date("2026-11-30T00:00:00Z");
    const window = {
      from: new Date("2026-10-31T00:00:00Z"),
      to,
      firstEvent: new Date("2026-11-28T00:00:00Z"),
    };

    // Act
    const report = buildScorecardReport({
      segments: [segment({ cost_nanos: 100n * USD })],
      window,
      now: to,
      ctx: leverContext(),
      utilization: "no DCGM metrics source configured",
    });

    // Assess: 30.4375 / 2 × $100
    expect(report.window.observed_days).toBe(2);
    expect(report.models[0]?.monthly_cost_nanos).toBe(1_521_875_000_000n);
    expect(report.assumptions[0]).toMatch(/^Monthly figures: the cost of the 2 days observed/);
    expect(report.assumptions.join(" ")).toMatch(/1 − Π\(1 − sᵢ\)/);
    expect(report.assumptions.join(" ")).toContain("engineer-weeks at $5,000.00 each");
    expect(DEFAULT_SCORECARD_SETTINGS.windowDays).toBe(30);
  });

  it("prices the engineer-week in the scorecard's currencies, never a dollar sign for euros", () => {
    const window = {
      from: new Date("2026-11-01T00:00:00Z"),
      to: new Date("2026-12-01T00:00:00Z"),
      firstEvent: null,
    };
    const implementation = (...currencies: string[]) =>
      buildScorecardReport({
        segments: currencies.map((currency) => segment({ currency })),
        window,
        now: window.to,
        ctx: leverContext(),
        utilization: "no DCGM metrics source configured",
      }).assumptions.find((a) => a.startsWith("Implementation cost"));
    expect(implementation("EUR")).toContain("engineer-weeks at €5,000.00 each");
    expect(implementation("EUR")).not.toContain("$");
    expect(implementation("USD", "CHF")).toContain("engineer-weeks at 5,000.00 CHF or $5,000.00 each");
    expect(implementation()).toContain("engineer-weeks at 5000 in the cost's currency each");
  });
});
