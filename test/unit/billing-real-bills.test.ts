import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseCsv } from "#adapters/focus-file/csv.ts";
import { parseFocusCsv } from "#adapters/focus-file/focus-csv.ts";
import type { BilledLine } from "#domain/billing/billed-line.ts";
import { DEFAULT_OWNER_MAPPING, type OwnerMapping, ownerMapping } from "#domain/billing/owner-mapping.ts";
import { decimalToNanos } from "#domain/money.ts";
import { billAttribution } from "#domain/reconciliation/bill-attribution.ts";
import { billedAmounts, billedDayLines } from "#domain/reconciliation/billed-day-line.ts";

// Real bill shapes: the FinOps Foundation's FOCUS 1.0 sample (trimmed, verbatim rows) and a FOCUS
// 1.2 bill CONSTRUCTED from real 1.0 rows and the 1.2 columns (test/fixtures/README.md): GCP, AWS
// and Azure rows with the clouds' owner tags, month-long storage, commitment purchases and the
// usage they cover, a credit and a correction.

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/billing/${name}`, import.meta.url), "utf8");
const u = decimalToNanos;

const dayLines = (lines: readonly BilledLine[]) => lines.flatMap((l) => billedDayLines(l, "bill"));

function sumBy(lines: readonly BilledLine[], key: (l: BilledLine) => string): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const l of lines) out[key(l)] = (out[key(l)] ?? 0n) + l.BilledCost;
  return out;
}

/** Per provider, the file's BilledCost as its rows state it, before any spreading. */
function rowSums(text: string): Record<string, bigint> {
  const [header = [], ...rows] = parseCsv(text).map((row) => row.map((f) => f.text));
  const out: Record<string, bigint> = {};
  for (const row of rows) {
    const key = row[header.indexOf("ProviderName")] ?? "";
    out[key] = (out[key] ?? 0n) + u(row[header.indexOf("BilledCost")] ?? "0");
  }
  return out;
}

function attribution(text: string, mapping: OwnerMapping) {
  const [usd] = billAttribution(dayLines(parseFocusCsv(text, { ownerMapping: mapping })), mapping);
  return usd;
}

describe("the FOCUS 1.0 sample (AWS, Microsoft, Oracle)", () => {
  const sample = fixture("focus-1.0-sample-trimmed.csv");

  it("names no owner with the default mapping, and says which tag keys it did not read", () => {
    const usd = attribution(sample, DEFAULT_OWNER_MAPPING);
    expect(usd?.attributed).toBe(0n);
    expect(usd?.unmappedKeys.map((k) => k.key)).toEqual(
      expect.arrayContaining(["application", "business_unit", "org", "Project"]),
    );
    expect(usd?.unmappedKeys).not.toContainEqual(expect.objectContaining({ key: "environment" }));
  });

  it("attributes the tagged rows once their keys are mapped", () => {
    const mapped = ownerMapping({ keys: { team: ["business_unit", "org"] } });
    const usd = attribution(sample, mapped);
    const tagged = parseFocusCsv(sample).filter(
      (l) => l.ChargeCategory === "Usage" && (l.Tags.business_unit ?? l.Tags.org ?? "") !== "",
    );
    expect(usd?.attributed).toBe(tagged.reduce((sum, l) => sum + l.EffectiveCost, 0n));
    expect(usd?.unmappedKeys.map((k) => k.key)).not.toContain("business_unit");
  });
});

describe("a FOCUS 1.2 bill (CONSTRUCTED: GCP, AWS and Azure)", () => {
  const text = fixture("focus-1.2-constructed.csv");
  const lines = parseFocusCsv(text);

  it("keeps every provider's sum exact after spreading", () => {
    expect(sumBy(lines, (l) => l.ProviderName)).toEqual(rowSums(text));
  });

  it("spreads month-long storage over its 31 days, so May 1 is what May 1 consumed", () => {
    const storage = lines.filter((l) => l.ServiceName === "Cloud Storage");
    expect(storage).toHaveLength(31);
    // 310.00000001 over 31 days: 10 each, the 10 nanos left to the first ten days.
    expect(storage.slice(9, 11).map((l) => l.BilledCost)).toEqual([u("10.000000001"), u("10")]);
    expect(storage.reduce((s, l) => s + l.BilledCost, 0n)).toBe(u("310.00000001"));
    const may1 = (provider: string) =>
      lines
        .filter(
          (l) =>
            l.ProviderName === provider &&
            l.ChargePeriodStart === "2026-05-01" &&
            l.ChargeCategory === "Usage",
        )
        .reduce((s, l) => s + l.EffectiveCost, 0n);
    // Before spreading, May 1 carried the whole month: 310 of GCP's 412.50, 620 of AWS's 622.14.
    expect(may1("Google Cloud")).toBe(u("12.5") + u("90") + u("10.000000001"));
    expect(may1("AWS")).toBe(u("20") + u("2.142"));
  });

  it("keeps what each row is: purchases, covered usage, credits and a correction on the day it corrects", () => {
    const purchases = lines.filter((l) => l.ChargeCategory === "Purchase");
    expect(purchases.map((l) => [l.ProviderName, l.ChargeFrequency, l.BilledCost, l.EffectiveCost])).toEqual([
      ["Google Cloud", "One-Time", u("2350"), 0n],
      ["AWS", "One-Time", u("2800"), 0n],
      ["Microsoft", "One-Time", u("5600"), 0n],
    ]);
    expect(lines.find((l) => l.ChargeCategory === "Credit")).toMatchObject({
      BilledCost: u("-5"),
      x_team: "search",
    });
    expect(lines.find((l) => l.ChargeClass === "Correction")).toMatchObject({
      ChargePeriodStart: "2026-04-30",
      BilledCost: u("-3"),
    });
    const covered = lines.find((l) => l.ResourceId === "arn:aws:ec2:us-east-1:210987654321:instance/i-0abc");
    expect(covered).toMatchObject({
      BilledCost: 0n,
      EffectiveCost: u("2.142"),
      x_team: "search",
      x_namespace: "search",
    });
  });

  it("leaves purchases out of the daily bill, whichever cost column is reconciled", () => {
    const days = dayLines(lines);
    for (const costColumn of ["billed", "effective"] as const) {
      const { amounts } = billedAmounts(days, { currency: "USD", costColumn });
      const may1 = amounts.filter((a) => a.day === "2026-05-01").reduce((s, a) => s + a.nanos, 0n);
      const usage = days
        .filter((l) => l.day === "2026-05-01" && l.chargeCategory !== "Purchase")
        .reduce((s, l) => s + (costColumn === "billed" ? l.billedCost : l.effectiveCost), 0n);
      expect(may1).toBe(usage);
      expect(may1 < u("1000")).toBe(true);
    }
  });

  it("attributes the usage the clouds' owner tags name by default, the rest once mapped", () => {
    const usd = attribution(text, DEFAULT_OWNER_MAPPING);
    // Unattributed: the real AWS and Azure rows, tagged by application and business unit or org only.
    const real = parseFocusCsv(text).filter(
      (l) => l.ChargeCategory === "Usage" && l.x_team === null && l.x_namespace === null,
    );
    expect(real.map((l) => l.ProviderName)).toEqual(["AWS", "AWS", "Microsoft", "Microsoft"]);
    expect(usd?.usage).toBeDefined();
    expect((usd?.usage ?? 0n) - (usd?.attributed ?? 0n)).toBe(real.reduce((s, l) => s + l.EffectiveCost, 0n));
    const mapped = attribution(
      text,
      ownerMapping({ keys: { team: ["business_unit", "CostAllocationTest"] } }),
    );
    expect(mapped?.attributed).toBe(mapped?.usage);
    // Azure's OWNER tag is its Owner: tag names are case-insensitive there.
    expect(lines.find((l) => l.Tags.OWNER !== undefined)).toMatchObject({
      x_team: "team-data",
      x_cost_center: "cc-100",
    });
  });

  it("rewrites the bill's names to ours", () => {
    const mapped = parseFocusCsv(text, {
      ownerMapping: ownerMapping({ values: { team: { "team-data": "data" } } }),
    });
    expect(new Set(mapped.map((l) => l.x_team))).toEqual(new Set([null, "data", "search"]));
  });
});
