import { describe, expect, it } from "vitest";
import { formatFocusCsv, parseFocusCsv } from "#adapters/focus-file/focus-csv.ts";
import { spreadLine } from "#domain/billing/charge-spread.ts";
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
    cluster: "gke-prod",
    nodePool: "nvidia-tesla-a100-pool",
    currency: "USD",
    nanos: u("1000"),
  },
  {
    day: "2026-11-20",
    cloud: "gcp",
    namespace: null,
    team: "idle",
    family: null,
    cluster: "gke-prod",
    node: "gke-prod-a100-node-1",
    currency: "USD",
    nanos: u("50"),
  },
  {
    day: "2026-11-20",
    cloud: "aws",
    namespace: "trust-safety",
    team: "trust-safety",
    family: "g4dn.xlarge",
    cluster: "eks-prod",
    nodePool: "g4dn-xlarge-pool",
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
      Tags: {
        "k8s-namespace": "search-ranking",
        "k8s-label/owner": "search-ranking",
        "goog-k8s-cluster-name": "gke-prod",
        "goog-k8s-node-pool-name": "nvidia-tesla-a100-pool",
      },
      x_namespace: "search-ranking",
      x_team: "search-ranking",
    });
  });

  it("names owners and resources in each cloud's own tags, gives idle capacity no owner, skips clouds it does not bill", () => {
    const lines = demoBill(estimates, "seed-1");
    expect(lines[1]?.ResourceId).toBe(
      "//compute.googleapis.com/projects/demo-ml-prod/zones/us-central1-a/instances/gke-prod-a100-node-1",
    );
    expect(
      lines.map((l) => [l.ProviderName, l.ServiceName, l.ChargeCategory, l.x_namespace, l.x_team, l.Tags]),
    ).toEqual([
      [
        "Google Cloud",
        "Compute Engine",
        "Usage",
        "search-ranking",
        "search-ranking",
        {
          "k8s-namespace": "search-ranking",
          "k8s-label/owner": "search-ranking",
          "goog-k8s-cluster-name": "gke-prod",
          "goog-k8s-node-pool-name": "nvidia-tesla-a100-pool",
        },
      ],
      ["Google Cloud", "Kubernetes Engine", "Usage", null, null, { "goog-k8s-cluster-name": "gke-prod" }],
      [
        "AWS",
        "Amazon Elastic Compute Cloud - Compute",
        "Usage",
        "trust-safety",
        "trust-safety",
        {
          "aws:eks:namespace": "trust-safety",
          Owner: "trust-safety",
          "aws:eks:cluster-name": "eks-prod",
          "eks:nodegroup-name": "g4dn-xlarge-pool",
        },
      ],
      ["AWS", "AWS Data Transfer", "Usage", null, null, {}],
      ["AWS", "Savings Plans for AWS Compute usage", "Purchase", null, null, {}],
      [
        "Google Cloud",
        "Cloud Storage",
        "Usage",
        "search-ranking",
        "search-ranking",
        { owner: "search-ranking", "k8s-namespace": "search-ranking" },
      ],
    ]);
    // 1% of the day's 1,250 USD of estimates in the clouds it bills.
    expect(lines[3]?.BilledCost).toBe(u("12.5"));
  });

  it("covers AWS compute by a Savings Plan bought on the first day: the usage bills nothing, costs its share", () => {
    const lines = demoBill(estimates, "seed-1");
    const usage = lines[2];
    const purchase = lines[4];
    expect(usage?.BilledCost).toBe(0n);
    expect(usage?.EffectiveCost).toBeGreaterThan(0n);
    expect(purchase).toMatchObject({
      ChargePeriodStart: "2026-11-20",
      ChargePeriodEnd: "2026-11-21",
      ChargeFrequency: "One-Time",
      BilledCost: usage?.EffectiveCost,
      EffectiveCost: 0n,
    });
  });

  it("bills the model weights' bucket as one charge over the month, 0.4% of its team's day each day", () => {
    const storage = demoBill(estimates, "seed-1").at(-1);
    expect(storage).toMatchObject({
      ChargePeriodStart: "2026-11-01",
      ChargePeriodEnd: "2026-12-01",
      ChargeFrequency: "Recurring",
      ResourceId: "projects/_/buckets/search-ranking-model-weights",
      BilledCost: u("4") * 30n,
    });
  });

  it("round-trips through a FOCUS CSV exactly, the month's charge as its days' shares", () => {
    const lines = demoBill(estimates, "seed-1");
    const read = parseFocusCsv(formatFocusCsv(lines));
    expect(read).toEqual(lines.flatMap(spreadLine));
    expect(read.filter((l) => l.ServiceName === "Cloud Storage")).toHaveLength(30);
  });
});
