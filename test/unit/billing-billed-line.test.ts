import { describe, expect, it } from "vitest";
import {
  addDays,
  type BilledLine,
  dayCeiling,
  isBillingDay,
  ownerColumns,
  rollUpLines,
} from "#domain/billing/billed-line.ts";
import { checkBillingPeriod } from "#ports/billing-source.ts";

const line = (over: Partial<BilledLine>): BilledLine => ({
  ChargePeriodStart: "2024-09-01",
  ChargePeriodEnd: "2024-09-02",
  ChargeCategory: "Usage",
  ChargeClass: null,
  ChargeFrequency: null,
  ProviderName: "AWS",
  BillingAccountId: "1",
  SubAccountId: null,
  ServiceName: "EC2",
  BilledCost: 1n,
  EffectiveCost: 2n,
  BillingCurrency: "USD",
  Tags: {},
  x_namespace: null,
  x_team: null,
  x_model: null,
  x_cost_center: null,
  x_environment: null,
  ...over,
});

describe("billed lines", () => {
  it("turns an exclusive end instant into an exclusive end day", () => {
    expect(dayCeiling(new Date("2024-09-02T00:00:00Z"))).toBe("2024-09-02");
    expect(dayCeiling(new Date("2024-09-01T23:00:00Z"))).toBe("2024-09-02");
    expect(addDays("2024-02-28", 2)).toBe("2024-03-01");
    expect([isBillingDay("2024-02-29"), isBillingDay("2023-02-29"), isBillingDay("2024-9-1")]).toEqual([
      true,
      false,
      false,
    ]);
  });

  it("reads the owner columns from tags through the mapping, first key present wins", () => {
    expect(
      ownerColumns({ "k8s-namespace": "ns", "k8s-label/team": "a", team: "b", model: "" }, "Google Cloud"),
    ).toEqual({
      x_namespace: "ns",
      x_team: "b",
      x_model: null,
      x_cost_center: null,
      x_environment: null,
    });
  });

  it("sums lines that differ only in amounts, whatever the tag order", () => {
    const rolled = rollUpLines([
      line({ Tags: { a: "1", b: "2" } }),
      line({ Tags: { b: "2", a: "1" }, BilledCost: 10n, EffectiveCost: 20n }),
      line({ ServiceName: "S3" }),
    ]);
    expect(rolled.map((l) => [l.ServiceName, l.BilledCost, l.EffectiveCost])).toEqual([
      ["EC2", 11n, 22n],
      ["S3", 1n, 2n],
    ]);
  });

  it("checks a billing period", () => {
    expect(() => checkBillingPeriod({ start: "2024-09-01", end: "2024-09-02" })).not.toThrow();
    expect(() => checkBillingPeriod({ start: "2024-09-02", end: "2024-09-01" })).toThrow(
      expect.objectContaining({ code: "invalid" }),
    );
    expect(() => checkBillingPeriod({ start: "2024-09-31", end: "2024-10-02" })).toThrow();
  });
});
