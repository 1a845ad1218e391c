import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createWarehouseReconciliationStore } from "#adapters/warehouse-reconciliation/warehouse-reconciliation-store.ts";
import { createEvaluateBudgets } from "#app/evaluate-budgets.ts";
import { addDays } from "#domain/billing/billed-line.ts";
import { parseBudgets } from "#domain/budgets/budget-config.ts";
import { formatMoney } from "#domain/budgets/evaluate-budget.ts";
import { fixedClock, systemClock } from "#ports/clock.ts";
import { silentLogger } from "#ports/logger.ts";
import { runDemoReconciliation } from "../../bin/commands/demo-reconcile.ts";
import { runDemo } from "../../bin/commands/local-session.ts";
import { openDemoTestSession, type TestSession, tempDuckDb } from "../support/local-stack-session.ts";
import { runCli } from "../support/run-cli.ts";

// Budgets on the demo's reconciled data: the synthetic org streamed, billed (its FOCUS CSV imported)
// and every day reconciled, as `finops demo` does; then budgets are judged as of the end of
// yesterday (UTC), so yesterday is a whole day reconcileDaily has judged whatever hour the test runs
// at, in the month the budgets' period is. Then `finops budgets check` prints the same split.

const HOURS = 30;
const SEED = "e2e-budget-basis";
const DAY_MS = 86_400_000;
const escapeRegExp = (text: string) => text.replace(/[$.]/g, (c) => `\\${c}`);
const db = tempDuckDb("finops-budget-basis-");
let session: TestSession | undefined;

afterAll(async () => {
  await session?.close();
  db.remove();
});

const RAW_BUDGETS = [
  { name: "all-spend", scope: {}, period: "monthly", amount: "100000", owner: "finops" },
  { name: "vision", scope: { model: "vision-tagger" }, period: "monthly", amount: "1", owner: "vision-lab" },
];

describe("budgets on the demo's reconciled data", () => {
  it("split spend into the bill's amounts for whole judged days and calibrated estimates for the rest", async () => {
    // Prepare: the demo's events, bill and reconciliation.
    session = await openDemoTestSession(db.path);
    const out = { write: () => true };
    await runDemo(session, { hours: HOURS, seed: SEED, out });
    const reconciliation = await runDemoReconciliation(session, { hours: HOURS, seed: SEED, out });
    const { warehouse } = session.runtime;
    const store = createWarehouseReconciliationStore({ sql: warehouse.sql });
    const today = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
    const yesterday = new Date(today.getTime() - DAY_MS).toISOString().slice(0, 10);
    expect(reconciliation.result.days.map((d) => d.day)).toContain(yesterday);
    const stored = await store.reconciliationRows({
      start: addDays(yesterday, -40),
      end: addDays(yesterday, 2),
    });
    // The team with the most billed cost yesterday gets a budget of its own.
    const [top] = stored
      .filter((r) => r.day === yesterday && r.key.team)
      .sort((a, b) => (a.billed === b.billed ? 0 : a.billed > b.billed ? -1 : 1));
    const team = top?.key.team as string;
    const budgets = parseBudgets([
      ...RAW_BUDGETS,
      { name: "team", scope: { team }, period: "monthly", amount: "1", owner: team },
    ]);

    // Act: evaluated at 23:30 yesterday, and with the rollup alone (no reconciliation store).
    const deps = {
      warehouse,
      bus: session.runtime.bus,
      claims: { claim: async () => true },
      budgets,
      clock: fixedClock(new Date(today.getTime() - 30 * 60_000)),
      logger: silentLogger,
      forecastProfileHours: 0,
    };
    const statuses = await createEvaluateBudgets({ ...deps, reconciliation: store }).budgetStatus("rollup");
    const plain = await createEvaluateBudgets(deps).budgetStatus("rollup");

    // Assess
    const judgedDays = [...new Set(stored.map((r) => r.day))].filter(
      (d) => d <= yesterday && d.slice(0, 7) === yesterday.slice(0, 7),
    );
    const sumOn = (
      day: string,
      pick: (key: (typeof stored)[number]["key"]) => boolean,
      column: "billed" | "estimated",
    ) => stored.filter((r) => r.day === day && pick(r.key)).reduce((n, r) => n + r[column], 0n);
    for (const [i, status] of statuses.entries()) {
      const e = status.evaluation;
      const basis = e.basis;
      if (basis === undefined) throw new Error(`${e.budget.name}: no basis`);
      const name = e.budget.name;
      // The spend judged is reconciled + estimate; the rollup's figure is kept beside it.
      expect({ name, known: status.basis_known }).toEqual({ name, known: true });
      expect(e.spend_nanos).toBe(status.reconciled_nanos + status.estimate_nanos);
      expect(basis.rollup_nanos).toBe(plain[i]?.evaluation.spend_nanos);
      // Every judged whole day of the month is reconciled, yesterday included; none other is.
      expect({ name, days: basis.reconciled_days }).toEqual({ name, days: judgedDays.sort() });
      expect(basis.reconciled_days).toContain(yesterday);
      expect(status.reconciled_nanos).toBeGreaterThan(0n);
    }
    const [allSpend, vision, teamStatus] = statuses;
    // An all-spend budget and a team budget: on judged days what reconciliation compared of the scope
    // is replaced by the bill's own amounts (untagged lines, AWS data transfer, for all spend only);
    // the rest of the day's spend (the licence's shares, provider APIs) stays an estimate.
    for (const day of judgedDays) {
      for (const [status, pick] of [
        [allSpend, () => true],
        [teamStatus, (key: (typeof stored)[number]["key"]) => key.team === team],
      ] as const) {
        const split = status?.evaluation.basis?.days.find((d) => d.day === day);
        expect(split?.reconciled_nanos).toBe(sumOn(day, pick, "billed"));
        expect(split?.estimate_nanos).toBe((split?.rollup_nanos ?? 0n) - sumOn(day, pick, "estimated"));
      }
    }
    expect(allSpend?.evaluation.basis?.billed_scope).toBe(true);
    // A model budget: no bill line names a model, so its reconciled part is its calibrated estimate,
    // close to what was estimated (the demo's true prices are a few percent off the catalog's).
    const visionBasis = vision?.evaluation.basis;
    expect(visionBasis?.billed_scope).toBe(false);
    const visionRollupOnJudged = (visionBasis?.days ?? [])
      .filter((d) => d.reconciled)
      .reduce((n, d) => n + d.rollup_nanos, 0n);
    expect(visionBasis?.reconciled_nanos).toBeGreaterThanOrEqual((visionRollupOnJudged * 95n) / 100n);
    expect(visionBasis?.reconciled_nanos).toBeLessThanOrEqual((visionRollupOnJudged * 110n) / 100n);
    // The budget alert says it.
    expect(teamStatus?.evaluation.alerts[0]?.summary).toMatch(
      new RegExp(
        `Of it, \\$[\\d,.]+ is reconciled against the bill \\(\\d+ days?, to ${yesterday}\\) and \\$[\\d,.]+ is still an estimate`,
      ),
    );

    // Act: `finops budgets check` with these budgets in the configuration, once the stack is closed.
    await session.close();
    session = undefined;
    const config = join(db.dir, "finops.config.json");
    writeFileSync(config, JSON.stringify({ version: 1, budgets: RAW_BUDGETS }));
    const env = { FINOPS_DUCKDB_PATH: db.path, FINOPS_CONFIG: config, FINOPS_LOG_LEVEL: "error" };
    const json = await runCli(["budgets", "check", "--format", "json"], env);
    const table = await runCli(["budgets", "check"], env);

    // Assess: the same split as the use case computes at the same moment, in both formats.
    session = await openDemoTestSession(db.path);
    const now = await createEvaluateBudgets({
      ...deps,
      warehouse: session.runtime.warehouse,
      budgets: parseBudgets(RAW_BUDGETS),
      clock: systemClock,
      reconciliation: createWarehouseReconciliationStore({ sql: session.runtime.warehouse.sql }),
    }).budgetStatus("rollup");
    const money = (n: bigint) => formatMoney(n, "USD");
    const printed = JSON.parse(json.stdout) as { budgets: Record<string, unknown>[]; note: string };
    expect(printed.budgets.map((b) => [b.name, b.reconciled_nanos, b.estimate_nanos, b.basis_known])).toEqual(
      now.map((s) => [s.evaluation.budget.name, `${s.reconciled_nanos}`, `${s.estimate_nanos}`, true]),
    );
    expect(printed.note).toMatch(/^spend = reconciled \+ estimate/);
    const lines = table.stdout.split("\n");
    expect(lines[0]).toMatch(
      /spend\s+budget\s+used\s+forecast\s+forecast %\s+reconciled\s+estimate\s+reconciled to$/,
    );
    for (const s of now) {
      const line = lines.find((l) => l.startsWith(`${s.evaluation.budget.name} `)) ?? "";
      expect(line).toMatch(
        new RegExp(
          `${escapeRegExp(money(s.reconciled_nanos))}\\s+${escapeRegExp(money(s.estimate_nanos))}( \\(calibrated\\))?\\s+20`,
        ),
      );
    }
    expect(table.stdout).toContain("note: spend = reconciled + estimate");
  }, 240_000);
});
