import { getTestServer } from "@google-cloud/functions-framework/testing";
import { describe, expect, it } from "vitest";
import { createMemoryAlertClaims } from "#adapters/memory-alert-claims/memory-alert-claims.ts";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import { createEvaluateBudgets } from "#app/evaluate-budgets.ts";
import { parseBudgets } from "#domain/budgets/budget-config.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import { type Runtime, setRuntime } from "#runtime/runtime.ts";
import { costRow } from "../support/cost-row-builder.ts";
import { createMemoryWarehouse } from "../support/memory-warehouse.ts";
import { postForJson } from "../support/post-function.ts";

const USD = 1_000_000_000n;

describe("evaluateBudgets function (HTTP, scheduled hourly)", () => {
  it("answers with what it published, and publishes nothing twice", async () => {
    const warehouse = createMemoryWarehouse();
    const bus = createMemoryBus({ logger: silentLogger });
    const clock = fixedClock("2026-11-20T10:30:00Z");
    const evaluateBudgets = createEvaluateBudgets({
      warehouse,
      bus,
      claims: createMemoryAlertClaims(),
      budgets: parseBudgets([
        { name: "nlp-monthly", scope: { team: "nlp-team" }, period: "monthly", amount: "20000" },
      ]),
      clock,
      forecastProfileHours: 0,
    });
    await warehouse.insertEvents([
      costRow({ team: "nlp-team", event_time: new Date("2026-11-10T12:00:00Z"), cost_nanos: 10_000n * USD }),
    ]);
    await warehouse.refreshHourly({
      from: new Date("2026-11-01T00:00:00Z"),
      to: new Date("2026-12-01T00:00:00Z"),
    });
    // Only the parts this function reads; the composition root builds the whole Runtime.
    setRuntime({ logger: silentLogger, clock, warehouse, bus, evaluateBudgets } as unknown as Runtime);
    await import("../../functions/evaluate-budgets/index.ts");
    const server = getTestServer("evaluateBudgets");
    const first = await postForJson(server, "/");
    expect(first).toMatchObject({
      evaluated_at: "2026-11-20T10:30:00.000Z",
      budgets: 1,
      published: [{ key: "budget:nlp-monthly:2026-11-01:50", kind: "budget.threshold", severity: "info" }],
      already_sent: 0,
    });
    expect(await postForJson(server, "/")).toMatchObject({ published: [], already_sent: 1 });
  });
});
