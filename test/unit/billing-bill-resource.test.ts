import { describe, expect, it } from "vitest";
import { billResourceOf, runsOn } from "#domain/billing/bill-resource.ts";

describe("the resource a bill line names", () => {
  it("reads GKE's cluster and node pool labels and the node from the instance's resource name", () => {
    expect(
      billResourceOf(
        "//compute.googleapis.com/projects/p/zones/us-central1-a/instances/gke-serving-l4-9f2c",
        {
          "goog-k8s-cluster-name": "serving",
          "goog-k8s-node-pool-name": "l4-pool",
          "k8s-namespace": "search",
        },
      ),
    ).toEqual({ cluster: "serving", nodePool: "l4-pool", node: "gke-serving-l4-9f2c" });
  });

  it("reads EKS's cluster and node group tags and the instance id, alone or in its ARN", () => {
    expect(
      billResourceOf("i-0123456789abcdef0", {
        "aws:eks:cluster-name": "serving-eks",
        "eks:nodegroup-name": "g4dn",
      }),
    ).toEqual({ cluster: "serving-eks", nodePool: "g4dn", node: "i-0123456789abcdef0" });
    expect(billResourceOf("arn:aws:ec2:us-east-1:123456789012:instance/i-0abc12345678", {})).toEqual({
      cluster: null,
      nodePool: null,
      node: "i-0abc12345678",
    });
  });

  it("reads AKS's cluster resource id and its node pool's scale set", () => {
    expect(
      billResourceOf(
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks-prod",
        {},
      ),
    ).toEqual({ cluster: "aks-prod", nodePool: null, node: null });
    expect(
      billResourceOf(
        "/subscriptions/s/resourceGroups/MC_rg_aks-prod_eastus/providers/Microsoft.Compute/virtualMachineScaleSets/aks-gpupool-12345678-vmss",
        {},
      ),
    ).toEqual({ cluster: null, nodePool: "gpupool", node: null });
  });

  it("names nothing for a line without a cluster, node pool or instance", () => {
    expect(billResourceOf("projects/_/buckets/weights", { owner: "search" })).toBeNull();
    expect(billResourceOf(null, { "goog-k8s-cluster-name": "" })).toBeNull();
  });

  it("puts a cost on a resource when every part the name gives agrees", () => {
    const named = { cluster: "serving", nodePool: "l4-pool", node: null };
    expect(runsOn({ cluster: "serving", nodePool: "l4-pool", node: "n1" }, named)).toBe(true);
    expect(runsOn({ cluster: "serving", nodePool: "a100-pool", node: "n1" }, named)).toBe(false);
    expect(runsOn({ cluster: "serving" }, named)).toBe(false);
    expect(runsOn({ cluster: "serving" }, { cluster: "serving", nodePool: null, node: null })).toBe(true);
  });
});
