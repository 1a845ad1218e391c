import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDuckDbWarehouse } from "#adapters/duckdb/duckdb-warehouse.ts";
import type { CostRow } from "#domain/cost-row.ts";
import type { ReportRow, Warehouse } from "#ports/warehouse.ts";
import { at, BASE_HOUR, costRow } from "../support/cost-row-builder.ts";

/**
 * The join of sql/duckdb/attributed_events.sql, as refresh_hourly reads events through it: which
 * rows an attribution gives its owner, which it leaves alone, and that it adds nothing itself.
 */

const RANGE = { from: BASE_HOUR, to: new Date(BASE_HOUR.getTime() + 2 * 3_600_000) };
const KEY = { "otel.deployment": "llama-chat", "gen_ai.request.id": "chatcmpl-1" };

/** vLLM's span of the request as ingestTraces stores it, under the deployment's configured owner. */
const span = (overrides: Partial<CostRow> = {}) =>
  costRow({
    event_source: "//otlp/v1/traces",
    team: "platform",
    business_unit: "infrastructure",
    cost_center: "cc-0001",
    environment: "prod",
    labels: { ...KEY, "otel.replica": "llama-0" },
    ...overrides,
  });

/** One hour's row of a gateway's attribution of the request. */
const attribution = (overrides: Partial<CostRow> = {}) =>
  costRow({
    event_source: "//litellm",
    event_id: "chatcmpl-1",
    event_type: "ai.cost.attribution.v1",
    team: "search",
    business_unit: "consumer",
    cost_center: "cc-1200",
    environment: null,
    labels: KEY,
    cost_nanos: 0n,
    ...overrides,
  });

describe("attributed events (DuckDB)", () => {
  let warehouse: Warehouse;
  beforeEach(async () => {
    warehouse = createDuckDbWarehouse({ path: ":memory:" });
    await warehouse.init();
  });
  afterEach(() => warehouse.close());

  /** The owners a report shows: the same from the live tail before the refresh and from the rollup after it. */
  async function owners(rows: CostRow[]) {
    const by: ("team" | "business_unit" | "cost_center")[] = ["team", "business_unit", "cost_center"];
    const shown = (report: ReportRow[]) =>
      report.map((r) => ({ ...r.group, cost: r.cost_nanos, rows: r.rows }));
    await warehouse.insertEvents(rows);
    const live = shown(await warehouse.report({ by, ...RANGE, reads: "live" }));
    await warehouse.refreshHourly(RANGE);
    const rolledUp = shown(await warehouse.report({ by, ...RANGE, reads: "rollup" }));
    expect(live).toEqual(rolledUp);
    return rolledUp;
  }

  it("gives the request's cost the attribution's owner, whole, and adds no row of its own", async () => {
    expect(await owners([span(), attribution()])).toEqual([
      { team: "search", business_unit: "consumer", cost_center: "cc-1200", cost: 1_500_000_000n, rows: 1 },
    ]);
  });

  it("joins only within the hour: an attribution of another hour leaves the configured owner", async () => {
    expect(await owners([span(), attribution({ event_time: at(65) })])).toEqual([
      {
        team: "platform",
        business_unit: "infrastructure",
        cost_center: "cc-0001",
        cost: 1_500_000_000n,
        rows: 1,
      },
    ]);
  });

  it("keys on the deployment and the request id both, and re-owns inference rows only", async () => {
    const rows = await owners([
      span({ labels: { ...KEY, "otel.deployment": "other" } }),
      span({ event_type: "ai.cost.training.v1", job_id: "job-1", elapsed_seconds: 1 }),
      attribution(),
    ]);
    expect(rows).toEqual([
      {
        team: "platform",
        business_unit: "infrastructure",
        cost_center: "cc-0001",
        cost: 3_000_000_000n,
        rows: 2,
      },
    ]);
  });

  it("takes the first attribution by source and id when two name the request", async () => {
    const rows = await owners([
      span(),
      attribution({ event_source: "//litellm-eu", team: "late" }),
      attribution({ event_source: "//litellm", team: "search" }),
    ]);
    expect(rows.map((r) => r.team)).toEqual(["search"]);
  });

  it("gives the scorecard the same owner as the report, and no segment of the attribution's own", async () => {
    // Prepare
    await warehouse.insertEvents([span(), attribution()]);

    // Act
    const rows = await warehouse.sql.query("scorecard_inputs", {
      ...RANGE,
      lookback_from: RANGE.from,
      team: "",
      model: "",
      cache_ttl_seconds: 3600,
    });

    // Assess
    expect(rows.map((r) => [r.team, r.workload])).toEqual([["search", "inference"]]);
  });
});
