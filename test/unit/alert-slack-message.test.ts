import { describe, expect, it } from "vitest";
import { effectiveSeverity, percentUsed } from "#domain/alerts/alert-severity.ts";
import { formatMoney, formatPercent, groupThousands } from "#domain/alerts/format-money.ts";
import {
  BUDGET_EXCEEDED_ACTION,
  escapeMrkdwn,
  formatPeriod,
  renderAlertMessage,
  SEVERITY_COLOR,
  SLACK_LIMITS,
  type SlackMessage,
  slackLimitViolations,
  truncateText,
} from "#domain/alerts/slack-message.ts";
import { alertOf, seedBudgetAlerts } from "../fixtures/slack/alert-builders.ts";

const USD = 1_000_000_000n;
const header = (m: SlackMessage) => (m.blocks[0]?.type === "header" ? m.blocks[0].text.text : "");
const body = (m: SlackMessage) => m.attachments[0]?.blocks ?? [];
const fieldTexts = (m: SlackMessage) =>
  body(m).flatMap((b) => (b.type === "section" ? (b.fields ?? []).map((f) => f.text) : []));
const sectionTexts = (m: SlackMessage) =>
  body(m).flatMap((b) => (b.type === "section" && b.text ? [b.text.text] : []));
const contextTexts = (m: SlackMessage) =>
  body(m).flatMap((b) => (b.type === "context" ? b.elements.map((e) => e.text) : []));

describe("money and percent formatting", () => {
  it("groups thousands and keeps cents exactly", () => {
    expect(formatMoney(16_000n * USD)).toBe("$16,000.00");
    expect(formatMoney(20_050n * USD, "USD")).toBe("$20,050.00");
    expect(formatMoney(1_234_567_891_234n * USD + 5_000_000n)).toBe("$1,234,567,891,234.01");
    expect(formatMoney(2_184_999_999n)).toBe("$2.18");
    expect(formatMoney(-1_500n * USD)).toBe("-$1,500.00");
    expect(formatMoney(999n)).toBe("$0.00");
    expect(formatMoney(1_200n * USD, "EUR")).toBe("€1,200.00");
    expect(formatMoney(1_200n * USD, "CHF")).toBe("1,200.00 CHF");
    expect(formatMoney(1_200_400_000_000n, "JPY")).toBe("¥1,200");
    expect(groupThousands("1000000")).toBe("1,000,000");
  });

  it("writes percents with at most two decimals", () => {
    expect(formatPercent(80)).toBe("80%");
    expect(formatPercent(100.25)).toBe("100.25%");
    expect(formatPercent(33.3333)).toBe("33.33%");
    expect(formatPercent(1250)).toBe("1,250%");
    expect(formatPercent(-0.001)).toBe("0%");
  });

  it("computes the percent from nanos when the producer gave none", () => {
    const amounts = { spend_nanos: 20_050n * USD, limit_nanos: 20_000n * USD, currency: "USD" };
    expect(percentUsed(alertOf({ amounts }))).toBe(100.25);
  });
});

describe("the seed's three budget messages", () => {
  const [fifty, eighty, hundred] = seedBudgetAlerts().map((alert) => renderAlertMessage(alert));

  it("50% is 📊 with spend, budget and percent used", () => {
    expect(header(fifty as SlackMessage)).toBe("📊 nlp-team monthly budget at 50%");
    expect(fieldTexts(fifty as SlackMessage)).toEqual([
      "*Current spend*\n$10,000.00",
      "*Budget*\n$20,000.00",
      "*Percent used*\n50%",
    ]);
  });

  it("80% is ⚠️", () => {
    expect(header(eighty as SlackMessage)).toBe("⚠️ nlp-team monthly budget at 80%");
    expect(fieldTexts(eighty as SlackMessage)).toContain("*Current spend*\n$16,000.00");
    expect(sectionTexts(eighty as SlackMessage).join("\n")).not.toContain(BUDGET_EXCEEDED_ACTION);
  });

  it("100% is 🚨 and says the budget is exceeded", () => {
    const message = hundred as SlackMessage;
    expect(header(message)).toBe("🚨 nlp-team monthly budget at 100%");
    expect(fieldTexts(message)).toEqual([
      "*Current spend*\n$20,050.00",
      "*Budget*\n$20,000.00",
      "*Percent used*\n100.25%",
    ]);
    expect(sectionTexts(message)).toContain(`*${BUDGET_EXCEEDED_ACTION}*`);
    expect(message.text).toBe(
      `🚨 nlp-team monthly budget at 100%: nlp-team has spent $20,050.00 of its $20,000.00 monthly budget. ${BUDGET_EXCEEDED_ACTION}`,
    );
  });

  it("colours the attachment by severity and stays within Slack's limits", () => {
    expect([fifty, eighty, hundred].map((m) => m?.attachments[0]?.color)).toEqual([
      SEVERITY_COLOR.info,
      SEVERITY_COLOR.warning,
      SEVERITY_COLOR.critical,
    ]);
    for (const message of [fifty, eighty, hundred])
      expect(slackLimitViolations(message as SlackMessage)).toEqual([]);
  });
});

describe("renderAlertMessage", () => {
  it("puts the source, period, scope and a link in the context line", () => {
    const message = renderAlertMessage(
      alertOf({
        source: {
          system: "gcp-billing",
          id: "budget-1",
          url: "https://console.cloud.google.com/billing?a=1|2",
        },
      }),
    );
    const [scope, source] = contextTexts(message);
    expect(scope).toBe("team: *nlp-team* · budget: *nlp-monthly*");
    expect(source).toBe(
      "Source: gcp-billing (budget-1) · Period: 2026-11-01 – 2026-11-30 · <https://console.cloud.google.com/billing?a=1%7C2|details>",
    );
  });

  it("raises the emoji to what the percent of the limit says", () => {
    const alert = alertOf({
      severity: "info",
      amounts: { spend_nanos: 21n * USD, limit_nanos: 20n * USD, currency: "USD" },
    });
    expect(effectiveSeverity(alert)).toBe("critical");
    expect(header(renderAlertMessage(alert))).toMatch(/^🚨 /);
    const anomaly = alertOf({
      kind: "aws.anomaly",
      severity: "info",
      amounts: { percent: 300, currency: "USD" },
    });
    expect(header(renderAlertMessage(anomaly))).toMatch(/^📊 /);
  });

  it("keeps the producer's action after the exceeded line, and escapes mrkdwn", () => {
    const [, , hundred] = seedBudgetAlerts();
    const message = renderAlertMessage(alertOf({ ...hundred, action: "Pause <training> & batch jobs." }));
    expect(sectionTexts(message)).toContain(
      `*${BUDGET_EXCEEDED_ACTION} Pause &lt;training&gt; &amp; batch jobs.*`,
    );
  });

  it("adds a note, e.g. why the message is in the fallback channel", () => {
    const message = renderAlertMessage(alertOf(), { note: "Meant for #team-x-alerts (channel_not_found)." });
    expect(contextTexts(message)[0]).toBe(":warning: Meant for #team-x-alerts (channel_not_found).");
  });

  it("labels a spend anomaly's baseline as expected, a budget's as a forecast", () => {
    const amounts = { spend_nanos: 90n * USD, forecast_nanos: 2n * USD, currency: "USD" };
    const anomaly = renderAlertMessage(alertOf({ kind: "spend.anomaly", amounts }));
    expect(fieldTexts(anomaly)).toContain("*Expected*\n$2.00");
    expect(fieldTexts(renderAlertMessage(alertOf({ amounts })))).toContain("*Forecast*\n$2.00");
  });

  it("has no amount section when the alert has no amounts", () => {
    const message = renderAlertMessage(alertOf({ amounts: undefined, period: undefined }));
    expect(fieldTexts(message)).toEqual([]);
    expect(contextTexts(message)).toContain("Source: finops");
  });

  it("truncates every text to Slack's limits, however long the alert", () => {
    const long = "😀&<x>".repeat(5000);
    const alert = alertOf({
      title: `${"T".repeat(149)}😀`,
      summary: long,
      action: long,
      scope: { team: long.slice(0, 256), budget: "b".repeat(256), model: "m".repeat(256) },
      source: { system: "finops", id: "i".repeat(512) },
    });
    const message = renderAlertMessage(alert, { note: long });
    expect(slackLimitViolations(message)).toEqual([]);
    expect(header(message).length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
    expect(header(message).endsWith("…")).toBe(true);
    for (const text of [...sectionTexts(message), ...contextTexts(message)]) {
      expect(text).not.toMatch(/&[a-z]{0,3}…$/);
      expect(text).not.toMatch(/[\uD800-\uDBFF]…$/);
    }
  });
});

describe("helpers", () => {
  it("truncateText never splits a character or an entity", () => {
    expect(truncateText("abc", 3)).toBe("abc");
    expect(truncateText("abcd", 3)).toBe("ab…");
    expect(truncateText("a😀b", 3)).toBe("a…");
    expect(truncateText(escapeMrkdwn("ab&c"), 5)).toBe("ab…");
  });

  it("slackLimitViolations names what is over", () => {
    const message: SlackMessage = {
      text: "x",
      blocks: [{ type: "header", text: { type: "plain_text", text: "h".repeat(151) } }],
      attachments: [
        {
          color: "#000000",
          fallback: "x",
          blocks: Array.from({ length: 50 }, () => ({
            type: "section" as const,
            fields: Array.from({ length: 11 }, () => ({ type: "mrkdwn" as const, text: "f" })),
          })),
        },
      ],
    };
    const problems = slackLimitViolations(message);
    expect(problems[0]).toBe("51 blocks (at most 50)");
    expect(problems).toContain("block 0 (header): text is 151 characters (at most 150)");
    expect(problems).toContain("block 1 (section): 11 fields");
  });

  it("formats periods as whole days or UTC minutes", () => {
    expect(formatPeriod({ start: "2026-11-01T00:00:00Z", end: "2026-12-01T00:00:00Z" })).toBe(
      "2026-11-01 – 2026-11-30",
    );
    expect(formatPeriod({ start: "2026-11-20T00:00:00Z", end: "2026-11-21T00:00:00Z" })).toBe("2026-11-20");
    expect(formatPeriod({ start: "2026-11-20T10:00:00+02:00", end: "2026-11-20T11:30:00Z" })).toBe(
      "2026-11-20 08:00 UTC – 2026-11-20 11:30 UTC",
    );
  });
});
