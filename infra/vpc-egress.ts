/**
 * Direct VPC egress for the functions that call systems which usually sit inside a private network
 * (a GKE cluster's Kubecost or OpenCost and Prometheus, an MLflow server): their instances get an
 * address in the given subnet and send traffic for private ranges through the VPC. Everything else
 * (BigQuery, Pub/Sub, public endpoints) still goes out directly, so the VPC needs no NAT for them.
 */
export interface VpcEgress {
  /** A network name, or projects/<host>/global/networks/<name> for a Shared VPC. */
  network?: string;
  /** A subnet in the functions' region (a name, or projects/<host>/regions/<region>/subnetworks/<name>). */
  subnetwork?: string;
}

/** Functions that call private endpoints, and which. */
export const PRIVATE_ENDPOINT_CALLERS: Readonly<Record<string, string>> = {
  collectAllocations: "Kubecost/OpenCost and Prometheus",
  importMlflowRuns: "MLflow",
  syncTrainingCosts: "MLflow",
};

/** The Direct VPC egress fields of a gen2 function's serviceConfig. */
export interface DirectVpcSettings {
  directVpcNetworkInterfaces: { network?: string; subnetwork?: string }[];
  directVpcEgress: "VPC_EGRESS_PRIVATE_RANGES_ONLY";
}

export class VpcEgressError extends Error {
  override readonly name = "VpcEgressError";
}

const NAME = "[a-z]([-a-z0-9]{0,61}[a-z0-9])?";
const NETWORK = new RegExp(`^(${NAME}|projects/[^/]+/global/networks/${NAME})$`);
const SUBNETWORK = new RegExp(`^(${NAME}|projects/[^/]+/regions/([^/]+)/subnetworks/${NAME})$`);

/** Checks the stack's network and subnet: names or paths, the subnet in the functions' region. */
export function checkVpcEgress(egress: VpcEgress, region: string): VpcEgress {
  if (egress.network !== undefined && !NETWORK.test(egress.network)) {
    throw new VpcEgressError(
      `finops:network ${JSON.stringify(egress.network)} is not a network name or projects/<project>/global/networks/<name>`,
    );
  }
  if (egress.subnetwork !== undefined) {
    const match = SUBNETWORK.exec(egress.subnetwork);
    if (match === null) {
      throw new VpcEgressError(
        `finops:subnetwork ${JSON.stringify(egress.subnetwork)} is not a subnet name or projects/<project>/regions/<region>/subnetworks/<name>`,
      );
    }
    const subnetRegion = match[3];
    if (subnetRegion !== undefined && subnetRegion !== region) {
      throw new VpcEgressError(
        `finops:subnetwork is in ${subnetRegion}, but the functions run in ${region}: Direct VPC egress needs a subnet in their region`,
      );
    }
  }
  return egress;
}

/** The function's Direct VPC egress, when a network or subnet is given and it calls private endpoints. */
export function directVpcSettings(
  target: string,
  egress: VpcEgress | undefined,
): DirectVpcSettings | undefined {
  if (egress === undefined || PRIVATE_ENDPOINT_CALLERS[target] === undefined) return undefined;
  if (egress.network === undefined && egress.subnetwork === undefined) return undefined;
  return {
    directVpcNetworkInterfaces: [
      {
        ...(egress.network === undefined ? {} : { network: egress.network }),
        ...(egress.subnetwork === undefined ? {} : { subnetwork: egress.subnetwork }),
      },
    ],
    directVpcEgress: "VPC_EGRESS_PRIVATE_RANGES_ONLY",
  };
}
