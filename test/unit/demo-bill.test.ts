import { describe, expect, it } from "vitest";
import { formatFocusCsv, parseFocusCsv } from "#adapters/focus-file/focus-csv.ts";
import { DEMO_TRUE_PRICES, type DemoEstimate, demoBill } from "#domain/demo/demo-bill.ts";
import { decimalToNanos } from "#domain/money.ts";

const u = decimalToNanos;

const estimates: DemoEstimate[] = [
  {
    day: "2026-11-20",
    cloud: "gcp",
    namespace: "search-ranking",
    team: "search-ranking",
    family: "nvidia-tesla-a100",
    currency: "USD",
    nanos: u("1000"),
  },
  {
    day: "2026-11-20",
    cloud: "gcp",
    namespace: null,
    team: "idle",
    family: null,
    currency: "USD",
    nanos: u("50"),
  },
  {
    day: "2026-11-20",
    cloud: "aws",
    namespace: "trust-safety",
    team: "trust-safety",
    family: "g4dn.xlarge",
    currency: "USD",
    nanos: u("200"),
  },
  {
    day: "2026-11-20",
    cloud: "onprem",
    namespace: "x",
    team: "y",
    family: null,
    currency: "USD",
    nanos: u("9"),
  },
];

describe("demoBill", () => {
  it("bills each family at its own true price with a little daily noise, the same for the same seed", () => {
    const lines = demoBill(estimates, "seed-1");
    expect(demoBill(estimates, "seed-1")).toEqual(lines);
    expect(demoBill(estimates, "seed-2")).not.toEqual(lines);
    const a100 = lines.find((l) => l.SkuId === "demo-nvidia-tesla-a100");
    const ratio = Number(a100?.BilledCost) / Number(u("1000"));
    expect(DEMO_TRUE_PRICES["nvidia-tesla-a100"]).toBe("1.045");
    expect(ratio).toBeGreaterThan(1.03);
    expect(ratio).toBeLessThan(1.06);
    expect(a100).toMatchObject({
      ProviderName: "Google Cloud",
      ServiceName: "Compute Engine",
      Tags: { "k8s-namespace": "search-ranking", team: "search-ranking" },
      x_namespace: "search-ranking",
      x_team: "search-ranking",
    });
  });

  it("gives idle capacity no team label, skips clouds it does not bill, adds untagged AWS data transfer", () => {
    const lines = demoBill(estimates, "seed-1");
    expect(lines.map((l) => [l.ProviderName, l.ServiceName, l.x_namespace, l.x_team])).toEqual([
      ["Google Cloud", "Compute Engine", "search-ranking", "search-ranking"],
      ["Google Cloud", "Kubernetes Engine", null, null],
      ["AWS", "Amazon Elastic Compute Cloud - Compute", "trust-safety", "trust-safety"],
      ["AWS", "AWS Data Transfer", null, null],
    ]);
    // 1% of the day's 1,250 USD of estimates in the clouds it bills.
    expect(lines.at(-1)?.BilledCost).toBe(u("12.5"));
  });

  it("round-trips through a FOCUS CSV exactly", () => {
    const lines = demoBill(estimates, "seed-1");
    expect(parseFocusCsv(formatFocusCsv(lines))).toEqual(lines);
  });
});
