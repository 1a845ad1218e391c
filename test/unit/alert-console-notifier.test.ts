import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createConsoleNotifier, mrkdwnToPlain } from "#adapters/console-notifier/console-notifier.ts";
import { renderAlertMessage } from "#domain/alerts/slack-message.ts";
import { fixedClock } from "#ports/clock.ts";
import { seedBudgetAlerts } from "../fixtures/slack/alert-builders.ts";

describe("console notifier", () => {
  it("prints one readable block and appends one JSON line per message", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "finops-console-")), "alerts", "slack.jsonl");
    const printed: string[] = [];
    const notifier = createConsoleNotifier({
      file,
      write: (text) => printed.push(text),
      clock: fixedClock("2026-11-20T10:00:00Z"),
    });
    const [, , hundred] = seedBudgetAlerts().map((a) => renderAlertMessage(a));
    if (!hundred) throw new Error("the seed has three alerts");
    const posted = await notifier.post("#team-nlp-team-alerts", hundred);
    expect(posted).toEqual({ channel: "#team-nlp-team-alerts", ts: "1795168800.000001" });
    expect(await notifier.update(posted.channel, posted.ts, hundred)).toEqual(posted);

    expect(printed[0]).toContain("posted to #team-nlp-team-alerts (ts 1795168800.000001)");
    expect(printed[0]).toContain("│ 🚨 nlp-team monthly budget at 100%");
    expect(printed[0]).toContain("│ Current spend: $20,050.00 | Budget: $20,000.00 | Percent used: 100.25%");
    expect(printed[0]).toContain("│ Budget exceeded. Immediate action required.");
    expect(printed[1]).toContain("updated in #team-nlp-team-alerts");

    const lines = readFileSync(file, "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.action, l.channel, l.ts])).toEqual([
      ["post", "#team-nlp-team-alerts", "1795168800.000001"],
      ["update", "#team-nlp-team-alerts", "1795168800.000001"],
    ]);
    expect(lines[0]).toMatchObject({
      text: hundred.text,
      blocks: hundred.blocks,
      attachments: hundred.attachments,
    });
  });

  it("reads mrkdwn as plain text", () => {
    expect(mrkdwnToPlain("*Budget*\n<https://x.test/a|details> &lt;b&gt; &amp;")).toBe(
      "Budget\ndetails (https://x.test/a) <b> &",
    );
  });
});
