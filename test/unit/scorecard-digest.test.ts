import { describe, expect, it } from "vitest";
import { alertToJson, parseAlert } from "#domain/alerts/alert.ts";
import { renderAlertMessage, slackLimitViolations } from "#domain/alerts/slack-message.ts";
import { teamScorecards } from "#domain/scorecard/scorecard.ts";
import {
  biggestSavings,
  buildScorecardDigestAlert,
  scorecardDigestSummary,
} from "#domain/scorecard/scorecard-digest.ts";
import { leverContext, segment, USD } from "../support/scorecard-builders.ts";

const NOW = new Date("2026-11-23T09:30:00Z");

function teams(...segments: Parameters<typeof segment>[0][]) {
  return teamScorecards(segments.map(segment), leverContext());
}

describe("the weekly scorecard digest", () => {
  it("names the team's combined saving and its biggest single savings, quickest payback to start with", () => {
    // Prepare: checkpointed training (spot $700) and serving (quantization $500) of one team.
    const [card] = teams(
      { team: "risk", model: "fraud-scorer", workload: "training", interruptible: true, requests: 0 },
      { team: "risk", model: "fraud-scorer" },
    );
    if (!card) throw new Error("no team scorecard");

    // Act
    const alert = buildScorecardDigestAlert(card, NOW);

    // Assess
    if (!alert) throw new Error("no digest");
    expect(parseAlert(JSON.parse(alertToJson(alert)))).toEqual({ ok: true, alert });
    expect(alert).toMatchObject({
      idempotency_key: "scorecard-digest:risk:USD:2026-W48",
      kind: "scorecard.digest",
      severity: "info",
      title: "Weekly optimization scorecard for risk (2026-W48)",
      scope: { team: "risk" },
      amounts: { spend_nanos: 2_000n * USD, savings_nanos: 1_200n * USD, currency: "USD" },
    });
    expect(alert.summary).toBe(
      "risk could save $1,200.00 a month, 60% of $2,000.00, with the levers combined (they compose; they do not add).\n" +
        "Biggest savings:\n" +
        "• fraud-scorer: spot instances $700.00/month (35% of its cost, pays back in over a year; medium risk)\n" +
        "• fraud-scorer: 4-bit quantization $500.00/month (25% of its cost, pays back in over a year; medium risk)",
    );
    expect(alert.action).toBe(
      "Start with spot instances on fraud-scorer: it pays back first (over a year). See `finops scorecard --team risk` for every lever, its risk and the assumptions.",
    );
  });

  it("gives a payback within a year in weeks", () => {
    // Prepare: $40,000 a month of checkpointed training: spot saves $28,000 for $10,000 of work.
    const [card] = teams({
      team: "risk",
      workload: "training",
      interruptible: true,
      requests: 0,
      cost_nanos: 40_000n * USD,
    });
    const alert = card && buildScorecardDigestAlert(card, NOW);
    if (!alert) throw new Error("no digest");

    // Assess: 10,000 × 52 / (28,000 × 12) = 1.5 weeks
    expect(alert.summary).toContain(
      "spot instances $28,000.00/month (70% of its cost, pays back in 1.5 weeks; ",
    );
    expect(alert.action).toMatch(
      /^Start with spot instances on fraud-scorer: it pays back first \(1\.5 weeks\)\./,
    );
  });

  it("renders in Slack with the monthly spend and what could be saved, within Slack's limits", () => {
    // Prepare
    const [card] = teams({ team: "risk" });
    const alert = card && buildScorecardDigestAlert(card, NOW);
    if (!alert) throw new Error("no digest");

    // Act
    const message = renderAlertMessage(alert);

    // Assess
    const fields = message.attachments[0]?.blocks[0];
    expect(fields).toMatchObject({
      type: "section",
      fields: [
        { type: "mrkdwn", text: "*Monthly spend*\n$1,000.00" },
        { type: "mrkdwn", text: "*Could save a month*\n$500.00" },
      ],
    });
    expect(slackLimitViolations(message)).toEqual([]);
  });

  it("sends nothing to a team with nothing to save, or to owners that are not a team", () => {
    // Prepare: serving with no fingerprints on a provider API saves nothing; unallocated has savings.
    const cards = teams(
      { team: "support", model: "api", provider: "openai", instance_type: null, cloud: null },
      { team: "unallocated" },
    );

    // Act / Assess
    expect(cards.map((card) => buildScorecardDigestAlert(card, NOW))).toEqual([null, null]);
  });

  it("keeps a long digest within the alert's summary limit, counting what it left off", () => {
    // Prepare: twelve models with savings.
    const [card] = teams(
      ...Array.from({ length: 12 }, (_, i) => ({
        team: "big",
        model: `model-${i}`,
        cost_nanos: BigInt(i + 1) * USD,
      })),
    );
    if (!card) throw new Error("no team scorecard");

    // Act
    const summary = scorecardDigestSummary(card, 600);

    // Assess
    expect(biggestSavings(card)).toHaveLength(12);
    expect(biggestSavings(card)[0]?.model).toBe("model-11");
    expect(summary.length).toBeLessThanOrEqual(600);
    const lines = summary.split("\n").filter((line) => line.startsWith("• "));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThan(5);
    expect(summary.endsWith(`\n… and ${12 - lines.length} more`)).toBe(true);
    expect(
      scorecardDigestSummary(card)
        .split("\n")
        .filter((line) => line.startsWith("• ")),
    ).toHaveLength(5);
  });
});
