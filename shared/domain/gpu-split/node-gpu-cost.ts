import { type GpuIdentity, gpuKey } from "#domain/gpu-split/gpu-usage.ts";
import { type Nanos, splitByWeights } from "#domain/money.ts";

/** Compute slices of a MIG profile ("3g.20gb" → 3); 1 when the profile does not say. */
export function migSlices(profile: string): number {
  const m = /^(\d+)g\./.exec(profile);
  return m ? Number(m[1]) : 1;
}

/**
 * Hands a node's GPU cost for a window (Kubecost/OpenCost price the node, not each GPU) to the GPUs
 * DCGM saw on it: equal parts per physical GPU (by UUID), and within a GPU cut into MIG instances,
 * parts by each instance's compute slices. Keys are `gpuKey`; the parts add up to the node's cost.
 * Slices no instance was configured on are paid by the configured ones.
 */
export function splitNodeGpuCost(nodeGpuCostNanos: Nanos, gpus: readonly GpuIdentity[]): Map<string, Nanos> {
  const byUuid = new Map<string, GpuIdentity[]>();
  for (const gpu of gpus) {
    const members = byUuid.get(gpu.uuid) ?? [];
    if (!members.some((m) => gpuKey(m) === gpuKey(gpu))) members.push(gpu);
    byUuid.set(gpu.uuid, members);
  }
  const uuids = [...byUuid.keys()].sort();
  const shares = splitByWeights(
    nodeGpuCostNanos,
    uuids.map(() => 1n),
  );
  const out = new Map<string, Nanos>();
  uuids.forEach((uuid, i) => {
    const members = (byUuid.get(uuid) ?? []).sort((a, b) => (gpuKey(a) < gpuKey(b) ? -1 : 1));
    const weights = members.map((m) => BigInt(m.migProfile === undefined ? 1 : migSlices(m.migProfile)));
    const parts = splitByWeights(shares[i] ?? 0n, weights);
    members.forEach((m, j) => {
      out.set(gpuKey(m), parts[j] ?? 0n);
    });
  });
  return out;
}
