import { readFileSync } from "node:fs";
import {
  DuckDBConnection,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBTimestampTZValue,
  type DuckDBValue,
} from "@duckdb/node-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { billedLinesOfExportRow } from "#adapters/gcp-billing-export/gcp-billing-export-billing-source.ts";
import { loadSql } from "#adapters/sql/load-sql.ts";
import { ownerMapping } from "#domain/billing/owner-mapping.ts";
import { NANO_DIGITS, type Nanos } from "#domain/money.ts";

// sql/duckdb/billing_export_daily.sql (twin of the BigQuery query) run by real DuckDB on a table with
// the billing export's columns, holding the rows printed on Google's "example queries" page
// (test/fixtures/billing/bq-examples.labels-rows.docs.json), its rows read by the adapter's mapper
// (billedLinesOfExportRow). The page warns that grouping by the unnested label pairs totals $44
// against a $24 bill; grouping by the labels as a whole must keep $24.

const USD = 1_000_000_000n;

const CREATE = `CREATE TABLE billing_export (
  billing_account_id VARCHAR,
  invoice STRUCT(month VARCHAR),
  project STRUCT(id VARCHAR),
  service STRUCT(id VARCHAR, description VARCHAR),
  sku STRUCT(id VARCHAR, description VARCHAR),
  usage_start_time TIMESTAMPTZ,
  usage_end_time TIMESTAMPTZ,
  cost_type VARCHAR,
  labels STRUCT(key VARCHAR, value VARCHAR)[],
  credits STRUCT(name VARCHAR, amount DOUBLE)[],
  cost DOUBLE,
  currency VARCHAR,
  _PARTITIONTIME TIMESTAMP
)`;

const INSERT = `INSERT INTO billing_export VALUES (
  'ABCDEF-123456-7890AB', {'month': $invoice_month}, {'id': 'demo-project'},
  {'id': '6F81-5844-456A', 'description': 'Compute Engine'}, {'id': $sku, 'description': $sku},
  CAST($usage_start AS TIMESTAMPTZ), CAST($usage_end AS TIMESTAMPTZ), 'regular',
  from_json($labels, '[{"key":"VARCHAR","value":"VARCHAR"}]'),
  from_json($credits, '[{"name":"VARCHAR","amount":"DOUBLE"}]'),
  CAST($cost AS DOUBLE), 'USD', CAST($partition AS TIMESTAMP)
)`;

interface DocRow {
  "sku.description": string;
  labels: string;
  cost: string;
}

const docRows = (
  JSON.parse(
    readFileSync(new URL("../fixtures/billing/bq-examples.labels-rows.docs.json", import.meta.url), "utf8"),
  ) as {
    rows: DocRow[];
  }
).rows;

function toNanos(value: DuckDBValue | undefined): Nanos {
  if (!(value instanceof DuckDBDecimalValue)) throw new Error(`not a DECIMAL: ${String(value)}`);
  return value.value * 10n ** BigInt(NANO_DIGITS - value.scale);
}

let instance: DuckDBInstance;
let connection: DuckDBConnection;

beforeEach(async () => {
  instance = await DuckDBInstance.create(":memory:");
  connection = await DuckDBConnection.create(instance);
  await connection.run("SET TimeZone = 'UTC'");
  await connection.run(CREATE);
});

afterEach(() => {
  connection.closeSync();
  instance.closeSync();
});

async function execute(
  sql: string,
  values: Record<string, DuckDBValue>,
): Promise<Record<string, DuckDBValue>[]> {
  const prepared = await connection.prepare(sql);
  for (let p = 1; p <= prepared.parameterCount; p++) {
    const name = prepared.parameterName(p);
    if (!(name in values)) throw new Error(`no value for $${name}`);
    prepared.bindValue(p, values[name] ?? null);
  }
  const reader = await prepared.runAndReadAll();
  prepared.destroySync();
  return reader.getRowObjects();
}

interface Row {
  sku: string;
  labels: string;
  cost: string;
  credits?: string;
  usageStart?: string;
  usageEnd?: string;
  partition?: string;
  invoiceMonth?: string;
}

async function insert(rows: readonly Row[]): Promise<void> {
  for (const row of rows) {
    await execute(INSERT, {
      invoice_month: row.invoiceMonth ?? "202409",
      sku: row.sku,
      usage_start: row.usageStart ?? "2024-09-10 10:00:00+00",
      usage_end: row.usageEnd ?? "2024-09-10 11:00:00+00",
      labels: row.labels,
      credits: row.credits ?? "[]",
      cost: row.cost,
      partition: row.partition ?? "2024-09-10 00:00:00",
    });
  }
}

const fromDocs = (): Row[] =>
  docRows.map((r) => ({ sku: r["sku.description"], labels: r.labels, cost: r.cost.replace("$", "") }));

/** The query's rows as BigQuery's client gives them (timestamps as { value }, NUMERIC as text). */
function asClientRow(row: Record<string, DuckDBValue>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => [
      k,
      v instanceof DuckDBTimestampTZValue
        ? { value: new Date(Number(v.micros / 1000n)).toISOString() }
        : v instanceof DuckDBDecimalValue
          ? v.toString()
          : v,
    ]),
  );
}

const PERIOD = { start: "2024-09-01", end: "2024-10-01" };

async function daily(params: Partial<Record<string, DuckDBValue>> = {}) {
  const rows = await execute(loadSql("duckdb", "billing_export_daily", { table: "billing_export" }), {
    start_date: PERIOD.start,
    end_date: PERIOD.end,
    partition_start: "2024-08-01 00:00:00",
    partition_end: "2024-10-08 00:00:00",
    invoice_month: null,
    ...params,
  });
  const mapping = ownerMapping({ keys: { namespace: ["app"], team: ["environment"] } });
  return rows.flatMap((row) => billedLinesOfExportRow(asClientRow(row), PERIOD, mapping));
}

function sumBy<T>(
  rows: readonly T[],
  key: (row: T) => string,
  value: (row: T) => bigint,
): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const row of rows) out[key(row)] = (out[key(row)] ?? 0n) + value(row);
  return out;
}

describe("billing_export_daily.sql (DuckDB twin)", () => {
  it("reproduces the docs' label totals without double counting: $24, prod 15, dev 5, unlabeled 4", async () => {
    await insert(fromDocs());
    const lines = await daily();
    expect(lines.reduce((sum, l) => sum + l.BilledCost, 0n)).toBe(24n * USD);
    expect(
      sumBy(
        lines,
        (l) => String(l.x_team),
        (l) => l.BilledCost,
      ),
    ).toEqual({ prod: 15n * USD, dev: 5n * USD, null: 4n * USD });
    expect(
      sumBy(
        lines,
        (l) => String(l.x_namespace),
        (l) => l.BilledCost,
      ),
    ).toEqual({
      "chocolate-masher": 9n * USD,
      "grapefruit-squeezer": 11n * USD,
      null: 4n * USD,
    });
    expect(lines.every((l) => l.x_model === null && l.ChargePeriodStart === "2024-09-10")).toBe(true);

    // The docs' warning, for contrast: LEFT JOIN UNNEST(labels) grouped by the key/value pairs counts
    // each labeled row once per label, $44 in all.
    const naive = await connection.runAndReadAll(
      `SELECT SUM(CAST(b.cost AS DECIMAL(38, 9))) AS total
       FROM billing_export AS b LEFT JOIN LATERAL (SELECT UNNEST(b.labels) AS l) AS u ON TRUE`,
    );
    expect(toNanos(naive.getRowObjects()[0]?.total)).toBe(44n * USD);
  });

  it("sums cost and credits as exact decimals, the credits a line of their own", async () => {
    await insert([
      {
        sku: "N1 Predefined Instance Core",
        labels: '[{"key":"environment","value":"prod"}]',
        cost: "0.1",
        credits:
          '[{"name":"Sustained use discount","amount":-0.02},{"name":"Committed use discount","amount":-0.05}]',
      },
      { sku: "N1 Predefined Instance Core", labels: '[{"key":"environment","value":"prod"}]', cost: "0.2" },
    ]);
    expect(
      (await daily()).map((l) => [l.ChargePeriodStart, l.SkuId, l.x_team, l.ChargeCategory, l.BilledCost]),
    ).toEqual([
      ["2024-09-10", "N1 Predefined Instance Core", "prod", "Usage", 300_000_000n],
      ["2024-09-10", "N1 Predefined Instance Core", "prod", "Credit", -70_000_000n],
    ]);
  });

  it("filters by usage period overlapping [start, end), partition window and invoice month", async () => {
    const row = { sku: "s", labels: "[]", cost: "1" };
    await insert([
      { ...row, usageStart: "2024-09-30 23:00:00+00", usageEnd: "2024-10-01 00:00:00+00" },
      {
        ...row,
        usageStart: "2024-10-01 00:00:00+00",
        usageEnd: "2024-10-01 01:00:00+00",
        partition: "2024-10-01 00:00:00",
        invoiceMonth: "202410",
      },
      {
        ...row,
        usageStart: "2024-09-15 00:00:00+00",
        usageEnd: "2024-09-15 01:00:00+00",
        partition: "2024-10-09 00:00:00",
      },
      {
        ...row,
        usageStart: "2024-09-20 00:00:00+00",
        usageEnd: "2024-09-20 01:00:00+00",
        invoiceMonth: "202410",
      },
      // August 31 noon to September 2 noon: half a day in August, left out; 1.5 days in September.
      {
        ...row,
        cost: "2",
        usageStart: "2024-08-31 12:00:00+00",
        usageEnd: "2024-09-02 12:00:00+00",
        partition: "2024-08-31 00:00:00",
      },
    ]);
    const all = await daily();
    expect(all.map((l) => [l.ChargePeriodStart, l.BilledCost])).toEqual([
      ["2024-09-01", USD],
      ["2024-09-02", USD / 2n],
      ["2024-09-20", USD],
      ["2024-09-30", USD],
    ]);
    const september = await daily({ invoice_month: "202409" });
    expect(september.map((l) => l.ChargePeriodStart)).toEqual(["2024-09-01", "2024-09-02", "2024-09-30"]);
  });
});
