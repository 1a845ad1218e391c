import { describe, expect, it } from "vitest";
import { kubecostOptionsFromSettings } from "#adapters/kubecost/kubecost-allocation-source.ts";
import { allocationSettingsSchema } from "#domain/allocation/allocation-settings.ts";
import { DEFAULT_LABEL_KEYS } from "#domain/allocation/owner.ts";

describe("allocationSettingsSchema", () => {
  it("fills the defaults: pod-level allocations, idle and shared namespaces kept, the default label keys", () => {
    const settings = allocationSettingsSchema.parse({
      flavor: "opencost",
      baseUrl: "http://opencost.opencost:9003",
      cluster: "prod-gke-1",
    });
    expect(settings).toEqual({
      flavor: "opencost",
      baseUrl: "http://opencost.opencost:9003",
      timeoutMs: 60_000,
      cluster: "prod-gke-1",
      clusterFromSource: false,
      aggregate: ["namespace", "pod"],
      idle: "keep",
      sharedNamespaces: ["kube-system", "monitoring"],
      sharedPolicy: "keep",
      labelKeys: DEFAULT_LABEL_KEYS,
      currency: "USD",
    });
    expect(kubecostOptionsFromSettings(settings)).toEqual({
      baseUrl: "http://opencost.opencost:9003",
      flavor: "opencost",
      timeoutMs: 60_000,
      cluster: "prod-gke-1",
    });
    expect(kubecostOptionsFromSettings({ ...settings, clusterFromSource: true }).cluster).toBeUndefined();
  });

  it("names every bad field", () => {
    const result = allocationSettingsSchema.safeParse({
      flavor: "cloudability",
      baseUrl: "ftp://kubecost",
      cluster: "",
      idle: "share",
      aggregate: ["namespace", "label:team"],
      extra: true,
    });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((i) => i.path.join(".") || i.code) ?? [];
    expect(paths).toEqual(expect.arrayContaining(["flavor", "baseUrl", "cluster", "idle", "aggregate.1"]));
    expect(result.error?.issues.some((i) => i.code === "unrecognized_keys")).toBe(true);
  });
});
