import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decimalToNanos, formatAmount } from "#domain/money.ts";
import {
  costTable,
  formatReport,
  formatTable,
  ReportFormatError,
  type ReportLine,
  type ReportTable,
  sumByCurrency,
} from "#domain/report-format.ts";

const USD = 1_000_000_000n;

const line = (team: string | null, cost_nanos: bigint, currency = "USD"): ReportLine => ({
  group: { team },
  currency,
  cost_nanos,
  rows: 1,
});

/** A view with every kind of column, as the training and inference views use them. */
const mixed: ReportTable = {
  columns: [
    { key: "job_id", heading: "job", kind: "text" },
    { key: "event_source", kind: "text", detail: true },
    { key: "started_at", heading: "started", kind: "time" },
    { key: "duration_seconds", heading: "duration", kind: "duration" },
    { key: "requests", kind: "count", total: true },
    { key: "gpu_hours", heading: "gpu-h", kind: "measure", digits: 1, total: true },
    { key: "currency", kind: "text" },
    { key: "cost_nanos", heading: "cost", kind: "money", amountKey: "amount", total: true },
    { key: "per_epoch_nanos", heading: "per epoch", kind: "money", amountKey: "per_epoch", digits: 4 },
  ],
  rows: [
    {
      job_id: 'train, "big"',
      event_source: "//training/a",
      started_at: new Date("2026-11-15T10:05:09Z"),
      duration_seconds: 18_420,
      requests: 1_234_567,
      gpu_hours: 40.94,
      currency: "USD",
      cost_nanos: 2_184_999_999n,
      per_epoch_nanos: null,
    },
    {
      job_id: "eu-job",
      event_source: "//training/b",
      started_at: new Date("2026-11-15T11:00:00Z"),
      duration_seconds: 59,
      requests: 3,
      gpu_hours: null,
      currency: "EUR",
      cost_nanos: 5n,
      per_epoch_nanos: 123_456_789n,
    },
  ],
};

describe("the cost view's formats (unchanged from the first report)", () => {
  const lines = [line("risk", 1_500_000_000n), line("search", 250_000_000n), line(null, 0n)];

  it("JSON: one object per group, exact nanos as a string and the exact amount", () => {
    expect(JSON.parse(formatReport(lines, ["team"], "json"))).toEqual([
      { team: "risk", currency: "USD", cost_nanos: "1500000000", amount: "1.5" },
      { team: "search", currency: "USD", cost_nanos: "250000000", amount: "0.25" },
      { team: null, currency: "USD", cost_nanos: "0", amount: "0" },
    ]);
  });

  it("CSV: the same fields, an empty field for a missing value", () => {
    expect(formatReport(lines, ["team"], "csv")).toBe(
      "team,currency,cost_nanos,amount\nrisk,USD,1500000000,1.5\nsearch,USD,250000000,0.25\n,USD,0,0\n",
    );
  });

  it("table: amounts with their currency, the share, a TOTAL per currency", () => {
    expect(formatReport(lines, ["team"], "table")).toBe(
      [
        "team        cost   share",
        "------  --------  ------",
        "risk    1.50 USD   85.7%",
        "search  0.25 USD   14.3%",
        "—       0.00 USD    0.0%",
        "------  --------  ------",
        "TOTAL   1.75 USD  100.0%",
        "",
      ].join("\n"),
    );
  });

  it("table without dimensions: one total per currency", () => {
    const text = formatReport([line(null, 3n * USD), line(null, USD, "EUR")], [], "table");
    expect(text.split("\n").slice(-3)).toEqual(["3.00 USD  100.0%", "1.00 EUR  100.0%", ""]);
  });
});

describe("formatTable (any view: columns and rows)", () => {
  it("JSON gives every column, money twice (nanos and amount), times as ISO, nulls as null", () => {
    expect(JSON.parse(formatTable(mixed, "json"))).toEqual([
      {
        job_id: 'train, "big"',
        event_source: "//training/a",
        started_at: "2026-11-15T10:05:09.000Z",
        duration_seconds: 18420,
        requests: 1234567,
        gpu_hours: 40.94,
        currency: "USD",
        cost_nanos: "2184999999",
        amount: "2.184999999",
        per_epoch_nanos: null,
        per_epoch: null,
      },
      {
        job_id: "eu-job",
        event_source: "//training/b",
        started_at: "2026-11-15T11:00:00.000Z",
        duration_seconds: 59,
        requests: 3,
        gpu_hours: null,
        currency: "EUR",
        cost_nanos: "5",
        amount: "0.000000005",
        per_epoch_nanos: "123456789",
        per_epoch: "0.123456789",
      },
    ]);
  });

  it("CSV has the JSON's fields in the same order, quoted where needed", () => {
    const [header, first, second] = formatTable(mixed, "csv").split("\n");
    expect(header).toBe(
      "job_id,event_source,started_at,duration_seconds,requests,gpu_hours,currency,cost_nanos,amount,per_epoch_nanos,per_epoch",
    );
    expect(first).toBe(
      '"train, ""big""",//training/a,2026-11-15T10:05:09.000Z,18420,1234567,40.94,USD,2184999999,2.184999999,,',
    );
    expect(second).toBe(
      "eu-job,//training/b,2026-11-15T11:00:00.000Z,59,3,,EUR,5,0.000000005,123456789,0.123456789",
    );
  });

  it("table: readable units, details left out, one TOTAL per currency over the total columns", () => {
    expect(formatTable(mixed, "table")).toBe(
      [
        "job           started           duration   requests  gpu-h      cost   per epoch",
        "------------  ----------------  --------  ---------  -----  --------  ----------",
        'train, "big"  2026-11-15 10:05      5h07  1,234,567   40.9  2.18 USD',
        "eu-job        2026-11-15 11:00      0h01          3         0.00 EUR  0.1235 EUR",
        "------------  ----------------  --------  ---------  -----  --------  ----------",
        "TOTAL                                     1,234,567   40.9  2.18 USD",
        "TOTAL                                             3         0.00 EUR",
        "",
      ].join("\n"),
    );
  });

  it("uses the TOTAL lines a view gives instead of summing", () => {
    const text = formatTable(
      { ...mixed, rows: mixed.rows.slice(0, 1), totals: [{ currency: "USD", per_epoch_nanos: 7n * USD }] },
      "table",
    );
    expect(text.trimEnd().split("\n").at(-1)).toMatch(/^TOTAL\s+7\.0000 USD$/);
  });

  it("names the column whose value has the wrong type", () => {
    const bad = { ...mixed, rows: [{ ...mixed.rows[0], cost_nanos: 1.5 }] };
    expect(() => formatTable(bad, "json")).toThrow(ReportFormatError);
    expect(() => formatTable(bad, "json")).toThrow(/column cost_nanos: expected nanos/);
  });

  it("shows an empty view as its heading and rules", () => {
    expect(formatTable(costTable([], ["team"]), "table")).toBe(
      "team  cost  share\n----  ----  -----\n----  ----  -----\n",
    );
    expect(formatTable(costTable([], ["team"]), "json")).toBe("[]\n");
  });

  it("keeps money exact: JSON amounts are the nanos, the TOTAL line the exact sum rounded once", () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), { minLength: 1, maxLength: 20 }),
        (costs) => {
          const table = costTable(
            costs.map((c, i) => line(`team-${i}`, c)),
            ["team"],
          );
          for (const record of JSON.parse(formatTable(table, "json")) as Record<string, string>[]) {
            expect(decimalToNanos(record.amount as string)).toBe(BigInt(record.cost_nanos as string));
          }
          const sum = costs.reduce((a, b) => a + b, 0n);
          expect(sumByCurrency(table)).toEqual([{ currency: "USD", cost_nanos: sum }]);
          const total = formatTable(table, "table").trimEnd().split("\n").at(-1) ?? "";
          expect(total).toContain(` ${formatAmount(sum)} USD`);
        },
      ),
    );
  });
});
