import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseCsv } from "#adapters/focus-file/csv.ts";
import { parseFocusCsv } from "#adapters/focus-file/focus-csv.ts";
import {
  createFocusFileBillingSource,
  readFocusFile,
} from "#adapters/focus-file/focus-file-billing-source.ts";
import type { BilledLine } from "#domain/billing/billed-line.ts";
import { sumNanos } from "#domain/money.ts";

const samplePath = fileURLToPath(
  new URL("../fixtures/billing/focus-1.0-sample-trimmed.csv", import.meta.url),
);
const sample = readFileSync(samplePath, "utf8");

function totals(lines: readonly BilledLine[], pick: (l: BilledLine) => bigint): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const l of lines) out[l.ProviderName] = (out[l.ProviderName] ?? 0n) + pick(l);
  return out;
}

describe("CSV parser", () => {
  it("keeps quoted commas, doubled quotes and line breaks, and tells quoted from unquoted", () => {
    expect(parseCsv('a,"b,c","say ""hi""\nthere",NULL\r\n"NULL",,x\n')).toEqual([
      [
        { text: "a", quoted: false },
        { text: "b,c", quoted: true },
        { text: 'say "hi"\nthere', quoted: true },
        { text: "NULL", quoted: false },
      ],
      [
        { text: "NULL", quoted: true },
        { text: "", quoted: false },
        { text: "x", quoted: false },
      ],
    ]);
    expect(() => parseCsv('a,"b')).toThrow(/^line 1: Quote Not Closed/);
  });
});

describe("FOCUS CSV import (FOCUS 1.0 sample)", () => {
  const lines = parseFocusCsv(sample);

  it("reads every row, with exact totals per provider", () => {
    expect(lines).toHaveLength(67);
    expect(totals(lines, () => 1n)).toEqual({ AWS: 30n, Microsoft: 30n, Oracle: 7n });
    // Per-row nanos (11-decimal amounts rounded half away from zero), summed with Python's Decimal.
    expect(totals(lines, (l) => l.BilledCost)).toEqual({
      AWS: -2_256_114_249n,
      Microsoft: 1_795_706_543n,
      Oracle: 537_073_925n,
    });
    expect(totals(lines, (l) => l.EffectiveCost)).toEqual({
      AWS: -3_000_000_000n,
      Microsoft: 1_795_706_543n,
      Oracle: 0n,
    });
  });

  it("maps NULL to absent, space-separated datetimes to days, and the Tags JSON string to a record", () => {
    const [first, second] = lines;
    expect(first).toEqual({
      ChargePeriodStart: "2024-09-18",
      ChargePeriodEnd: "2024-09-19",
      ChargeCategory: "Usage",
      ChargeClass: null,
      ChargeFrequency: "Usage-Based",
      ProviderName: "AWS",
      BillingAccountId: "1234567890123",
      SubAccountId: "51738928782",
      ServiceName: "Amazon Simple Queue Service",
      SkuId: "G95FST5FTYV3JSRX",
      ResourceId: "arn:ats:sqs:us-test-2:347410479675:mibelllmel-i-032l64f2065481b12",
      BilledCost: 800n,
      EffectiveCost: 0n,
      BillingCurrency: "USD",
      Tags: {},
      x_namespace: null,
      x_team: null,
      x_model: null,
      x_cost_center: null,
      x_environment: null,
    });
    expect(second?.Tags).toEqual({
      application: "BrightLensMatrix",
      environment: "dev",
      business_unit: "ViennaAI",
    });
    // An hourly row ending at midnight ends on the next day, exclusive.
    const lastHour = lines.find(
      (l) =>
        l.ProviderName === "AWS" &&
        l.ChargePeriodStart === "2024-09-01" &&
        l.ChargePeriodEnd === "2024-09-02",
    );
    expect(lastHour).toBeDefined();
    expect(lines.every((l) => l.ChargePeriodEnd > l.ChargePeriodStart)).toBe(true);
  });

  it("reads x_ columns and team/model tags into our dimensions", () => {
    const csv = [
      "ChargePeriodStart,ChargePeriodEnd,ProviderName,BillingAccountId,ServiceName,BilledCost,EffectiveCost,BillingCurrency,Tags,x_team",
      '2024-09-01T00:00:00Z,2024-09-02T00:00:00Z,OnPrem,dc-1,GPU,12.5,12.5,EUR,"{""team"": ""a"", ""model"": ""llama"", ""k8s-namespace"": ""ns"", ""gpu"": true}",NULL',
      "2024-09-01T00:00:00Z,2024-09-02T00:00:00Z,OnPrem,dc-1,GPU,1,1,EUR,NULL,b",
    ].join("\n");
    const [a, b] = parseFocusCsv(csv);
    expect(a).toMatchObject({
      x_team: "a",
      x_model: "llama",
      x_namespace: "ns",
      BilledCost: 12_500_000_000n,
      SubAccountId: null,
    });
    expect(a?.Tags.gpu).toBe("true");
    expect(b).toMatchObject({ x_team: "b", x_model: null, Tags: {} });
  });

  it("rejects a file without a mandatory column, or a row that is not a decimal", () => {
    expect(() => parseFocusCsv("ProviderName\nAWS\n")).toThrow(/lacks the columns/);
    const bad = sample.replace(",0.00000080000,", ",abc,");
    expect(() => parseFocusCsv(bad)).toThrow(
      expect.objectContaining({ code: "invalid", message: expect.stringMatching(/row 2: BilledCost/) }),
    );
  });

  it("refuses a charge period on a day the calendar does not have, or ending before it starts", () => {
    // The sample's first row runs 2024-09-18 22:00 to 23:00.
    const impossible = sample.replace(
      '"2024-09-18 23:00:00","2024-09-18 22:00:00"',
      '"2024-02-30 23:00:00","2024-02-30 22:00:00"',
    );
    const reversed = sample.replace(
      '"2024-09-18 23:00:00","2024-09-18 22:00:00"',
      '"2024-09-18 21:00:00","2024-09-18 22:00:00"',
    );
    const garbled = sample.replace('"2024-09-18 23:00:00"', '"yesterday"');

    expect(() => parseFocusCsv(impossible)).toThrow(
      'FOCUS CSV row 2: ChargePeriodStart: "2024-02-30T22:00:00" is not a date: February 2024 has 29 days',
    );
    expect(() => parseFocusCsv(reversed)).toThrow(
      "FOCUS CSV row 2: ChargePeriodEnd 2024-09-18T21:00:00.000Z is before ChargePeriodStart 2024-09-18T22:00:00.000Z",
    );
    expect(() => parseFocusCsv(garbled)).toThrow(
      /^FOCUS CSV row 2: ChargePeriodEnd: "yesterday" is not a date/,
    );
  });
});

describe("FOCUS file billing source", () => {
  it("answers the period's rows summed per day and identity, totals unchanged", async () => {
    const source = createFocusFileBillingSource({ path: samplePath });
    const all = await source.billedLines({ start: "2024-09-01", end: "2024-10-01" });
    expect(sumNanos(all.map((l) => l.BilledCost))).toBe(-2_256_114_249n + 1_795_706_543n + 537_073_925n);
    const day = await source.billedLines({ start: "2024-09-19", end: "2024-09-20" });
    expect(day.length).toBeGreaterThan(0);
    expect(day.length).toBeLessThanOrEqual(7);
    expect(day.every((l) => l.ChargePeriodStart === "2024-09-19")).toBe(true);
  });

  it("says a missing file is invalid", async () => {
    const source = createFocusFileBillingSource({ path: "/nonexistent/focus.csv" });
    await expect(source.billedLines({ start: "2024-09-01", end: "2024-09-02" })).rejects.toMatchObject({
      code: "invalid",
    });
  });

  it("reads a file as it streams, keeping the day sums: hourly rows of a month, exact to the nano", async () => {
    // Prepare: two resources' hourly rows over a 30-day month, each hour 0.000000123 USD plus its index in nanos.
    const dir = mkdtempSync(join(tmpdir(), "finops-focus-stream-"));
    const path = join(dir, "month.csv");
    const header =
      "ChargePeriodStart,ChargePeriodEnd,ProviderName,BillingAccountId,ServiceName,ResourceId,BilledCost,EffectiveCost,BillingCurrency,x_team\n";
    const stream = createWriteStream(path);
    stream.write(header);
    let expected = 0n;
    const start = Date.parse("2026-11-01T00:00:00Z");
    for (let hour = 0; hour < 30 * 24; hour++) {
      const from = new Date(start + hour * 3_600_000).toISOString();
      const to = new Date(start + (hour + 1) * 3_600_000).toISOString();
      for (const resource of ["gpu-a", "gpu-b"]) {
        const nanos = 123n + BigInt(hour);
        expected += nanos;
        stream.write(
          `${from},${to},Acme Cloud,acct-1,Compute,${resource},0.${String(nanos).padStart(9, "0")},0.${String(nanos).padStart(9, "0")},USD,search\n`,
        );
      }
    }
    await new Promise<void>((resolve) => stream.end(resolve));

    // Act
    const told: number[] = [];
    const lines = await readFocusFile(path, {}, (rows) => told.push(rows), 500);

    // Assess: one line per resource and day, the month's nanos all there.
    expect(told).toEqual([500, 1000]);
    expect(lines).toHaveLength(60);
    expect(sumNanos(lines.map((l) => l.BilledCost))).toBe(expected);
    expect(
      lines.find((l) => l.ChargePeriodStart === "2026-11-30" && l.ResourceId === "gpu-b")?.BilledCost,
    ).toBe(Array.from({ length: 24 }, (_, h) => 123n + BigInt(29 * 24 + h)).reduce((a, b) => a + b, 0n));
    rmSync(dir, { recursive: true, force: true });
  });

  it("names the line of a CSV that breaks off in a quote, however far into the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "finops-focus-stream-"));
    const path = join(dir, "broken.csv");
    writeFileSync(path, `${sample.trimEnd()}\n"2024-09-18 22:00:00,"unterminated\n`);

    await expect(readFocusFile(path)).rejects.toMatchObject({
      code: "invalid",
      message: expect.stringMatching(/^FOCUS CSV: line \d+: /),
    });
    rmSync(dir, { recursive: true, force: true });
  });
});
