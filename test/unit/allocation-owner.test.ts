import { describe, expect, it } from "vitest";
import { IDLE_OWNER, isAttributed, ownerOf, sanitizeLabelKey } from "#domain/allocation/owner.ts";
import { UNALLOCATED } from "#domain/cost-row.ts";
import { k8sAllocation } from "../fixtures/opencost/k8s-allocation-builder.ts";

describe("ownerOf", () => {
  it("reads every owner dimension from the pod labels", () => {
    const owner = ownerOf(
      k8sAllocation({
        labels: {
          team: "search",
          model: "llama-7b",
          "model-version": "v3",
          "cost-center": "cc-42",
          "business-unit": "consumer",
        },
      }),
    );
    expect(owner).toEqual({
      team: "search",
      model: "llama-7b",
      model_version: "v3",
      cost_center: "cc-42",
      business_unit: "consumer",
      namespace: "ml-serving",
    });
    expect(isAttributed(owner)).toBe(true);
  });

  it("accepts the Prometheus-sanitized and label_-prefixed forms of a key", () => {
    expect(sanitizeLabelKey("finops.example.com/cost-center")).toBe("finops_example_com_cost_center");
    const owner = ownerOf(
      k8sAllocation({
        labels: { model_version: "v9", label_team: "ads", finops_example_com_model: "ranker" },
      }),
      { team: ["team"], model: ["finops.example.com/model"], model_version: ["model-version"] },
    );
    expect(owner).toMatchObject({ team: "ads", model: "ranker", model_version: "v9" });
  });

  it("falls back to the namespace's labels, pod labels first", () => {
    const owner = ownerOf(
      k8sAllocation({
        labels: { model: "ranker-v2" },
        namespaceLabels: { team: "research", model: "ignored", business_unit: "ads" },
      }),
    );
    expect(owner).toEqual({
      team: "research",
      model: "ranker-v2",
      business_unit: "ads",
      namespace: "ml-serving",
    });
  });

  it("leaves cost without a team label unallocated but named by its namespace", () => {
    const owner = ownerOf(k8sAllocation({ namespace: "default", labels: { run: "debug", team: "  " } }));
    expect(owner).toEqual({ team: UNALLOCATED, namespace: "default" });
    expect(isAttributed(owner)).toBe(false);
  });

  it("gives idle capacity its own owner and drops marker namespaces", () => {
    expect(ownerOf(k8sAllocation({ name: "__idle__", namespace: "", special: "idle" }))).toEqual({
      team: IDLE_OWNER,
    });
    expect(
      ownerOf(k8sAllocation({ name: "__unmounted__", namespace: "__unmounted__", special: "unmounted" })),
    ).toEqual({ team: UNALLOCATED });
  });

  it("cuts owner values to the 128 characters the event schema takes", () => {
    const owner = ownerOf(k8sAllocation({ labels: { team: "t".repeat(300) } }));
    expect(owner.team).toHaveLength(128);
  });
});
