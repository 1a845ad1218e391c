import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, describe, expect, it } from "vitest";
import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import { createDuckDbAlertClaims } from "#adapters/duckdb-alert-claims/duckdb-alert-claims.ts";
import { createMemoryAlertClaims } from "#adapters/memory-alert-claims/memory-alert-claims.ts";
import { createMemoryBus } from "#adapters/memory-bus/memory-bus.ts";
import { createEvaluateBudgets } from "#app/evaluate-budgets.ts";
import { type Alert, parseAlert } from "#domain/alerts/alert.ts";
import { parseBudgets } from "#domain/budgets/budget-config.ts";
import { type AlertClaims, AlertClaimsError } from "#ports/alert-claims.ts";
import { TOPICS } from "#ports/bus.ts";
import { fixedClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import { costRow } from "../support/cost-row-builder.ts";

const USD = 1_000_000_000n;
const NOW = new Date("2026-11-20T10:30:00Z");
const MONTH = { from: new Date("2026-11-01T00:00:00Z"), to: new Date("2026-12-01T00:00:00Z") };
const dir = mkdtempSync(join(tmpdir(), "finops-budgets-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const adapters: [string, () => Promise<AlertClaims & { close?: () => Promise<void> }>][] = [
  ["memory", async () => createMemoryAlertClaims()],
  ["duckdb", async () => createDuckDbAlertClaims({ path: ":memory:" })],
];

describe.each(adapters)("AlertClaims contract: %s", (_, create) => {
  it("is true only the first time for a key, also under concurrent claims", async () => {
    const claims = await create();
    expect(await claims.claim("budget:a:2026-11-01:50")).toBe(true);
    expect(await claims.claim("budget:a:2026-11-01:50")).toBe(false);
    expect(await claims.claim("budget:a:2026-11-01:80")).toBe(true);
    const racing = await Promise.all(
      Array.from({ length: 8 }, () => claims.claim("budget:a:2026-11-01:100")),
    );
    expect(racing.filter(Boolean)).toHaveLength(1);
    await expect(claims.claim("")).rejects.toBeInstanceOf(AlertClaimsError);
    await claims.close?.();
  });
});

describe("DuckDB alert claims", () => {
  it("survive a restart: a new adapter on the same file still refuses the key", async () => {
    const path = join(dir, "claims.duckdb");
    const first = createDuckDbAlertClaims({ path });
    expect(await first.claim("k")).toBe(true);
    await first.close();
    const second = createDuckDbAlertClaims({ path });
    expect(await second.claim("k")).toBe(false);
    await second.close();
  });
});

describe("evaluateBudgets with the DuckDB warehouse and the memory bus, end to end", () => {
  it("publishes the seed's three alerts once each, through restarts, re-runs and late events", async () => {
    const path = join(dir, "finops.duckdb");
    const budgets = parseBudgets([
      {
        name: "nlp-monthly",
        scope: { team: "nlp-team", environment: "prod" },
        period: "monthly",
        timeZone: "America/New_York",
        amount: "20000",
        forecast: true,
      },
    ]);
    const received: Alert[] = [];
    let sequence = 0;

    /** One process lifetime: the warehouse and the claims share one DuckDB instance (one file). */
    async function processLifetime(
      work: (step: {
        spend: (dollars: bigint, at?: Date, team?: string) => Promise<void>;
        evaluate: () => Promise<string[]>;
      }) => Promise<void>,
    ) {
      const instance = await DuckDBInstance.create(path);
      const warehouse = createDuckDbWarehouse({ path, instance });
      const claims = createDuckDbAlertClaims({ instance });
      const bus = createMemoryBus({ logger: silentLogger });
      await warehouse.init();
      await bus.subscribe(TOPICS.alerts, "notify", async (message) => {
        const parsed = parseAlert(JSON.parse(message.data.toString()));
        if (!parsed.ok) throw new Error(parsed.reason);
        received.push(parsed.alert);
      });
      const evaluator = createEvaluateBudgets({
        warehouse,
        bus,
        claims,
        budgets,
        clock: fixedClock(NOW),
        logger: silentLogger,
        forecastProfileHours: 24,
      });
      try {
        await work({
          async spend(dollars, at = new Date("2026-11-10T15:00:00Z"), team = "nlp-team") {
            sequence += 1;
            await warehouse.insertEvents([
              costRow({ event_id: `nlp-${sequence}`, team, event_time: at, cost_nanos: dollars * USD }),
            ]);
            await warehouse.refreshHourly(MONTH);
          },
          async evaluate() {
            const result = await evaluator.evaluate();
            await bus.drain();
            return result.published.map((p) => p.key);
          },
        });
      } finally {
        await bus.close();
        await claims.close();
        await warehouse.close();
        instance.closeSync();
      }
    }

    await processLifetime(async ({ spend, evaluate }) => {
      await spend(9_999n);
      await spend(5_000n, new Date("2026-11-10T16:00:00Z"), "search-team");
      // Spend before the period (New York's November starts at 04:00 UTC) does not count.
      await spend(3_000n, new Date("2026-11-01T03:00:00Z"));
      expect(await evaluate()).toEqual([]);
      await spend(1n);
      expect(await evaluate()).toEqual(["budget:nlp-monthly:2026-11-01:50"]);
      await spend(6_000n);
      // The profile (the last 24 hours, all quiet) covers 24 of the week's 168 hours; the other
      // remaining hours go at the run rate ($16,000 over 462.5 h): about $23,700 by the period end.
      expect(await evaluate()).toEqual([
        "budget:nlp-monthly:2026-11-01:80",
        "budget:nlp-monthly:2026-11-01:forecast:100",
      ]);
      expect(await evaluate()).toEqual([]);
    });

    // A restart: new process, same file. Nothing is sent again; the next crossing still is.
    await processLifetime(async ({ spend, evaluate }) => {
      expect(await evaluate()).toEqual([]);
      await spend(4_050n);
      // 100% is reached, so its forecast alert is moot; the forecast (about 148%) passes 125%.
      expect(await evaluate()).toEqual([
        "budget:nlp-monthly:2026-11-01:100",
        "budget:nlp-monthly:2026-11-01:forecast:125",
      ]);
      await spend(150n, new Date("2026-11-02T09:00:00Z")); // late event in an old hour
      expect(await evaluate()).toEqual([]);
    });

    const thresholds = received.filter((a) => a.kind === "budget.threshold");
    expect(thresholds.map((a) => [a.idempotency_key, a.severity, a.amounts?.spend_nanos])).toEqual([
      ["budget:nlp-monthly:2026-11-01:50", "info", 10_000n * USD],
      ["budget:nlp-monthly:2026-11-01:80", "warning", 16_000n * USD],
      ["budget:nlp-monthly:2026-11-01:100", "critical", 20_050n * USD],
    ]);
    expect(thresholds[2]?.action).toBe("Budget exceeded. Immediate action required.");
    expect(thresholds[2]?.period).toEqual({
      start: "2026-11-01T04:00:00.000Z",
      end: "2026-12-01T05:00:00.000Z",
    });
  });
});
