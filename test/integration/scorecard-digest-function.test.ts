import { getTestServer } from "@google-cloud/functions-framework/testing";
import { describe, expect, it } from "vitest";
import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import { createMemoryAlertClaims } from "#adapters/memory-alert-claims/memory-alert-claims.ts";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import { createScorecard } from "#app/scorecard.ts";
import { createScorecardDigest } from "#app/scorecard-digest.ts";
import { type Alert, parseAlert } from "#domain/alerts/alert.ts";
import { DEFAULT_SCORECARD_SETTINGS } from "#domain/scorecard/scorecard-settings.ts";
import { TOPICS } from "#ports/bus.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import { type Runtime, setRuntime } from "#runtime/runtime.ts";
import { costRow, trainingRow } from "../support/cost-row-builder.ts";
import { postForJson } from "../support/post-function.ts";
import { shippedCatalog, USD } from "../support/scorecard-builders.ts";

describe("sendScorecardDigest function (HTTP, scheduled weekly)", () => {
  it("publishes one digest per team with something to save, and none again the same week", async () => {
    // Prepare: two teams with savings (serving to quantize, checkpointed training for spot), one without.
    const warehouse = createDuckDbWarehouse({ path: ":memory:" });
    await warehouse.init();
    await warehouse.insertEvents([
      costRow({ team: "risk", model: "fraud-scorer", cost_nanos: 40n * USD }),
      trainingRow("nightly", 3600, 90n * USD, {
        team: "search",
        model: "ranker",
        accelerator: "nvidia-tesla-a100",
        instance_type: null,
        epoch: 1,
      }),
      costRow({
        team: "support",
        model: "gpt-4o-mini",
        provider: "openai",
        accelerator: null,
        instance_type: null,
        cloud: null,
        request_fingerprint: null,
      }),
    ]);
    const bus = createMemoryBus({ logger: silentLogger });
    const published: Alert[] = [];
    await bus.subscribe(TOPICS.alerts, "capture", async (message) => {
      const parsed = parseAlert(JSON.parse(message.data.toString("utf8")));
      if (!parsed.ok) throw new Error(parsed.reason);
      published.push(parsed.alert);
    });
    const clock = fixedClock("2026-11-16T09:30:00Z");
    const scorecard = createScorecard({
      warehouse,
      catalog: shippedCatalog(),
      settings: DEFAULT_SCORECARD_SETTINGS,
      clock,
    });
    const scorecardDigest = createScorecardDigest({
      scorecard,
      bus,
      claims: createMemoryAlertClaims(),
      clock,
    });
    // Only the parts this function reads; the composition root builds the whole Runtime.
    setRuntime({ logger: silentLogger, clock, warehouse, bus, scorecardDigest } as unknown as Runtime);
    await import("../../functions/send-scorecard-digest/index.ts");
    const server = getTestServer("sendScorecardDigest");

    try {
      // Act
      const first = await postForJson(server);
      const again = await postForJson(server);
      await bus.drain();

      // Assess
      expect(first).toEqual({
        sent_at: "2026-11-16T09:30:00.000Z",
        week: "2026-W47",
        teams: 2,
        sent: [
          {
            key: "scorecard-digest:search:USD:2026-W47",
            kind: "scorecard.digest",
            severity: "info",
            team: "search",
          },
          {
            key: "scorecard-digest:risk:USD:2026-W47",
            kind: "scorecard.digest",
            severity: "info",
            team: "risk",
          },
        ],
        already_sent: 0,
      });
      expect(again).toMatchObject({ teams: 2, sent: [], already_sent: 2 });
      expect(published.map((a) => a.scope.team)).toEqual(["search", "risk"]);
      expect(published[0]?.summary).toMatch(/^search could save \$[\d,.]+ a month/);
      expect(published[0]?.summary).toContain("• ranker: spot instances");
    } finally {
      await bus.close();
      await warehouse.close();
    }
  });
});
