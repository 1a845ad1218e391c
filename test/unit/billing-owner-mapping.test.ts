import { describe, expect, it } from "vitest";
import {
  billOwnerOf,
  DEFAULT_OWNER_MAPPING,
  isMappedKey,
  layerOwnerMapping,
  ownerMapping,
  ownerMappingSchema,
} from "#domain/billing/owner-mapping.ts";

describe("owner mapping", () => {
  it("reads the common conventions by default: owner tags, GKE cost allocation, EKS split cost allocation", () => {
    expect(
      billOwnerOf({ owner: "data", environment: "prod", "cost-center": "cc-1" }, "Google Cloud"),
    ).toEqual({ namespace: null, team: "data", cost_center: "cc-1", environment: "prod", model: null });
    expect(
      billOwnerOf({ "k8s-namespace": "search", "k8s-label/owner": "search" }, "Google Cloud"),
    ).toMatchObject({
      namespace: "search",
      team: "search",
    });
    expect(
      billOwnerOf(
        { Owner: "search", "aws:eks:namespace": "ranker", CostCenter: "cc-2", Environment: "dev" },
        "AWS",
      ),
    ).toEqual({ namespace: "ranker", team: "search", cost_center: "cc-2", environment: "dev", model: null });
    expect(
      billOwnerOf({ "app.kubernetes.io/part-of": "chat", "app.kubernetes.io/name": "llama" }, "AWS"),
    ).toMatchObject({
      team: "chat",
      model: "llama",
    });
  });

  it("compares tag keys case-insensitively where the cloud does (Azure), exactly elsewhere", () => {
    expect(billOwnerOf({ OWNER: "data" }, "Microsoft").team).toBe("data");
    expect(billOwnerOf({ OWNER: "data" }, "AWS").team).toBeNull();
    expect(billOwnerOf({ OWNER: "data" }, "AWS", ownerMapping({ keyCase: "insensitive" })).team).toBe("data");
    expect(billOwnerOf({ owner: "data" }, "Microsoft", ownerMapping({ keyCase: "exact" })).team).toBe("data");
    expect(billOwnerOf({ OWNER: "data" }, "Microsoft", ownerMapping({ keyCase: "exact" })).team).toBeNull();
  });

  it("tries configured keys before the defaults, skips empty values and rewrites the bill's names to ours", () => {
    const mapping = ownerMapping({
      keys: { team: ["squad"] },
      values: { team: { "team-data": "data" } },
    });
    expect(billOwnerOf({ squad: "team-data", team: "other" }, "AWS", mapping).team).toBe("data");
    expect(billOwnerOf({ squad: "", team: "other" }, "AWS", mapping).team).toBe("other");
    expect(billOwnerOf({ team: "team-data" }, "AWS", mapping).team).toBe("data");
  });

  it("layers a source's mapping on the section's: its keys first, its rewrites winning", () => {
    const layered = ownerMapping(
      layerOwnerMapping(
        { keys: { team: ["unit"] }, values: { team: { a: "from-section", b: "b-section" } } },
        { keys: { team: ["squad"] }, values: { team: { a: "from-source" } }, keyCase: "insensitive" },
      ),
    );
    expect(layered.keys.team.slice(0, 3)).toEqual(["squad", "unit", "team"]);
    expect(layered.values.team).toEqual({ a: "from-source", b: "b-section" });
    expect(layered.keyCase).toBe("insensitive");
  });

  it("says which tag keys it reads, and refuses a dimension it does not know", () => {
    expect(isMappedKey("Owner", "AWS")).toBe(true);
    expect(isMappedKey("business_unit", "AWS")).toBe(false);
    expect(isMappedKey("COSTCENTER", "Microsoft", DEFAULT_OWNER_MAPPING)).toBe(true);
    expect(ownerMappingSchema.safeParse({ keys: { squad: ["x"] } }).success).toBe(false);
  });
});
