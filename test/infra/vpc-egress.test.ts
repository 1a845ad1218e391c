import { beforeAll, describe, expect, it } from "vitest";
import { FUNCTIONS } from "../../functions/registry.ts";
import { checkVpcEgress, directVpcSettings, PRIVATE_ENDPOINT_CALLERS } from "../../infra/vpc-egress.ts";
import { FUNCTION, type ProgramRun, runStack } from "./pulumi-program.ts";

const NETWORK = "projects/shared-vpc-host/global/networks/ml-vpc";
const SUBNET = "projects/shared-vpc-host/regions/europe-west1/subnetworks/finops-egress";

let run: ProgramRun;

beforeAll(async () => {
  run = await runStack({ "finops:network": NETWORK, "finops:subnetwork": SUBNET });
});

const serviceOf = (target: string) =>
  run.ofType(FUNCTION).find((f) => (f.inputs.buildConfig as { entryPoint?: string }).entryPoint === target)
    ?.inputs.serviceConfig as Record<string, unknown>;

describe("Direct VPC egress, with finops:network and finops:subnetwork set", () => {
  it("sends the private-range traffic of the functions that call Kubecost, Prometheus and MLflow through the subnet", () => {
    expect(Object.keys(PRIVATE_ENDPOINT_CALLERS).sort()).toEqual([
      "collectAllocations",
      "importMlflowRuns",
      "syncTrainingCosts",
    ]);
    for (const target of Object.keys(PRIVATE_ENDPOINT_CALLERS)) {
      expect(serviceOf(target)).toMatchObject({
        directVpcNetworkInterfaces: [{ network: NETWORK, subnetwork: SUBNET }],
        directVpcEgress: "VPC_EGRESS_PRIVATE_RANGES_ONLY",
      });
      expect(serviceOf(target)).not.toHaveProperty("vpcConnector");
    }
  });

  it("leaves every other function out of the VPC", () => {
    const others = FUNCTIONS.filter((f) => PRIVATE_ENDPOINT_CALLERS[f.target] === undefined);
    expect(others.length).toBeGreaterThan(0);
    for (const f of others) {
      expect(serviceOf(f.target)).not.toHaveProperty("directVpcNetworkInterfaces");
      expect(serviceOf(f.target)).not.toHaveProperty("directVpcEgress");
    }
  });
});

describe("the network settings", () => {
  it("take a network alone (its subnet of the same name), a subnet alone, or neither", () => {
    expect(directVpcSettings("collectAllocations", { network: "default" })).toEqual({
      directVpcNetworkInterfaces: [{ network: "default" }],
      directVpcEgress: "VPC_EGRESS_PRIVATE_RANGES_ONLY",
    });
    expect(
      directVpcSettings("importMlflowRuns", { subnetwork: "egress" })?.directVpcNetworkInterfaces,
    ).toEqual([{ subnetwork: "egress" }]);
    expect(directVpcSettings("collectAllocations", {})).toBeUndefined();
    expect(directVpcSettings("ingestTraces", { network: "default" })).toBeUndefined();
  });

  it("refuse what is not a network or subnet, and a subnet outside the functions' region, naming the key", () => {
    expect(checkVpcEgress({ network: NETWORK, subnetwork: SUBNET }, "europe-west1")).toEqual({
      network: NETWORK,
      subnetwork: SUBNET,
    });
    expect(() => checkVpcEgress({ network: "My VPC" }, "europe-west1")).toThrow(
      /^finops:network "My VPC" is not a network name/,
    );
    expect(() => checkVpcEgress({ subnetwork: "projects/p/subnetworks/x" }, "europe-west1")).toThrow(
      /^finops:subnetwork "projects\/p\/subnetworks\/x" is not a subnet name/,
    );
    expect(() => checkVpcEgress({ subnetwork: SUBNET }, "us-central1")).toThrow(
      "finops:subnetwork is in europe-west1, but the functions run in us-central1: Direct VPC egress needs a subnet in their region",
    );
  });
});
