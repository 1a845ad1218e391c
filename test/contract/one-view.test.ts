import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import type { CostRow } from "#domain/cost-row.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { BASE_HOUR, costRow } from "../support/cost-row-builder.ts";

const HOUR = { from: BASE_HOUR, to: new Date(BASE_HOUR.getTime() + 3_600_000) };
const USD = 1_000_000_000n;

/** An infrastructure row: what Kubernetes allocation import charged a pod's owner in a namespace. */
const allocation = (namespace: string, nanos: bigint, overrides: Partial<CostRow> = {}) =>
  costRow({
    event_type: "ai.cost.allocation.v1",
    event_source: "//kubecost/prod",
    basis: "allocation",
    team: "ml-platform",
    model: "unallocated",
    business_unit: "unallocated",
    namespace,
    cost_nanos: nanos,
    ...overrides,
  });

const request = (namespace: string, businessUnit: string, nanos: bigint) =>
  costRow({ namespace, business_unit: businessUnit, cost_nanos: nanos });

async function byBusinessUnit(warehouse: Warehouse): Promise<Map<string, bigint>> {
  await warehouse.refreshHourly(HOUR);
  const rows = await warehouse.report({ by: ["business_unit"], ...HOUR, reads: "rollup" });
  return new Map(rows.map((r) => [r.group.business_unit ?? "", r.cost_nanos]));
}

describe("the one non-overlapping view (DuckDB)", () => {
  let warehouse: Warehouse;
  beforeEach(async () => {
    warehouse = createDuckDbWarehouse({ path: ":memory:" });
    await warehouse.init();
  });
  afterEach(() => warehouse.close());

  it("reports each dollar of a cluster with both layers once", async () => {
    // Prepare: namespace "serving" is covered by Kubecost ($10) and holds $1 + $3 of request estimates;
    // "batch" has estimates only; "notebooks" has an allocation only; a licence has no namespace.
    await warehouse.insertEvents([
      allocation("serving", 10n * USD),
      request("serving", "consumer", 1n * USD),
      request("serving", "enterprise", 3n * USD),
      request("batch", "research", 2n * USD),
      allocation("notebooks", 5n * USD, { business_unit: "research" }),
      costRow({
        event_type: "ai.cost.fixed.v1",
        namespace: null,
        business_unit: "platform",
        cost_nanos: USD,
      }),
    ]);

    // Act
    const totals = await byBusinessUnit(warehouse);

    // Assess: serving's $10 divided 1:3; nothing else moves; the whole is 10 + 2 + 5 + 1, not 22.
    expect(totals).toEqual(
      new Map([
        ["enterprise", 7_500_000_000n],
        ["research", 7n * USD],
        ["consumer", 2_500_000_000n],
        ["platform", USD],
      ]),
    );
    expect([...totals.values()].reduce((a, b) => a + b)).toBe(18n * USD);
  });

  it("hands out every nano of the covering cost (largest remainder)", async () => {
    await warehouse.insertEvents([
      allocation("serving", 10n),
      request("serving", "a", 1n),
      request("serving", "b", 1n),
      request("serving", "c", 1n),
    ]);
    const totals = await byBusinessUnit(warehouse);
    expect([...totals.values()].sort()).toEqual([3n, 3n, 4n]);
  });

  it("leaves the infrastructure cost with its owner when the namespace's estimates are all zero", async () => {
    await warehouse.insertEvents([allocation("serving", 10n), request("serving", "a", 0n)]);
    const totals = await byBusinessUnit(warehouse);
    expect(totals).toEqual(
      new Map([
        ["unallocated", 10n],
        ["a", 0n],
      ]),
    );
  });

  it("shares a fixed cost by usage: each hour's part to that hour's users, by their cost", async () => {
    // Prepare: a $4 licence shared by usage; the hour's users spent $1 (consumer) and $3 (enterprise);
    // idle capacity is not usage. A $2 licence for one model goes to that model's users only.
    await warehouse.insertEvents([
      costRow({ event_type: "ai.cost.fixed.v1", team: "shared", model: "unallocated", cost_nanos: 4n * USD }),
      costRow({ event_type: "ai.cost.fixed.v1", team: "shared", model: "ranker", cost_nanos: 2n * USD }),
      request("serving", "consumer", 1n * USD),
      costRow({ namespace: "batch", model: "ranker", business_unit: "enterprise", cost_nanos: 3n * USD }),
      allocation("idle-ns", 5n * USD, { team: "idle", business_unit: "idle" }),
    ]);

    // Act
    const totals = await byBusinessUnit(warehouse);

    // Assess: consumer 1 + 4×1/4; enterprise 3 + 4×3/4 + 2; idle keeps its 5; nothing left 'shared'.
    expect(totals).toEqual(
      new Map([
        ["enterprise", 8n * USD],
        ["idle", 5n * USD],
        ["consumer", 2n * USD],
      ]),
    );
  });

  it("keeps a usage-shared fixed cost under 'shared' in an hour nobody used anything", async () => {
    await warehouse.insertEvents([
      costRow({ event_type: "ai.cost.fixed.v1", team: "shared", model: "unallocated", cost_nanos: 7n }),
    ]);
    await warehouse.refreshHourly(HOUR);
    const rows = await warehouse.report({ by: ["team"], ...HOUR, reads: "rollup" });
    expect(rows.map((r) => [r.group.team, r.cost_nanos])).toEqual([["shared", 7n]]);
  });

  it("conserves the cost that came in, to the nano, for any mix of layers and a usage-shared fixed cost (property)", async () => {
    const layer = fc.record({
      namespace: fc.constantFrom("serving", "batch", "notebooks"),
      allocation: fc.boolean(),
      unit: fc.constantFrom("consumer", "enterprise", "research"),
      nanos: fc.bigInt({ min: 0n, max: 10n ** 13n }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(layer, { minLength: 1, maxLength: 12 }),
        fc.bigInt({ min: 0n, max: 10n ** 13n }),
        async (layers, shared) => {
          const fresh = createDuckDbWarehouse({ path: ":memory:" });
          await fresh.init();
          try {
            await fresh.insertEvents([
              ...layers.map((l) =>
                l.allocation ? allocation(l.namespace, l.nanos) : request(l.namespace, l.unit, l.nanos),
              ),
              costRow({
                event_type: "ai.cost.fixed.v1",
                team: "shared",
                model: "unallocated",
                cost_nanos: shared,
              }),
            ]);
            const totals = await byBusinessUnit(fresh);
            // What the view must total: per namespace, the infrastructure cost where it has any workload
            // weight, else both layers as they came.
            let expected = shared;
            for (const ns of new Set(layers.map((l) => l.namespace))) {
              const infra = layers
                .filter((l) => l.namespace === ns && l.allocation)
                .reduce((a, l) => a + l.nanos, 0n);
              const work = layers
                .filter((l) => l.namespace === ns && !l.allocation)
                .reduce((a, l) => a + l.nanos, 0n);
              const covered = layers.some((l) => l.namespace === ns && l.allocation) && work > 0n;
              expected += covered ? infra : infra + work;
            }
            expect([...totals.values()].reduce((a, b) => a + b, 0n)).toBe(expected);
          } finally {
            await fresh.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
