import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allocationUrl,
  createKubecostAllocationSource,
  kubecostOptionsFromSettings,
} from "#adapters/kubecost/kubecost-allocation-source.ts";
import { allocationSettingsSchema } from "#domain/allocation/allocation-settings.ts";
import { componentsTotal, sumComponents } from "#domain/allocation/k8s-allocation.ts";
import { AllocationSourceError } from "#ports/allocation-source.ts";

const FIXTURES = new URL("../fixtures/opencost/", import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), "utf8");

const OPENCOST_7D = fixture("allocation-namespace-7d.opencost-website.json");
const KUBECOST_CONTAINER = fixture("allocation-container-unaggregated.kubecost-docs.json");
const OPENCOST_IDLE = fixture("allocation-namespace-pod-idle.CONSTRUCTED.json");
const KUBECOST_IDLE_BY_NODE = fixture("allocation-namespace-pod-idle-by-node.CONSTRUCTED.json");

const HOUR = { from: new Date("2026-11-15T10:00:00Z"), to: new Date("2026-11-15T11:00:00Z") };
const WEEK = { from: new Date("2023-07-12T11:02:46Z"), to: new Date("2023-07-19T11:02:46Z") };
const KUBECOST_HOUR = { from: new Date("2023-01-27T23:00:00Z"), to: new Date("2023-01-28T00:00:00Z") };

interface Route {
  status: number;
  body: string;
  /** Never answer (for the timeout test). */
  hang?: boolean;
}

/** A stand-in OpenCost / Kubecost server: answers by path prefix with a fixture, verbatim; records requests. */
async function startServer(routes: Record<string, Route>) {
  const requests: URL[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    requests.push(url);
    const route = routes[url.pathname];
    if (route?.hang) return;
    res.writeHead(route?.status ?? 404, { "content-type": "application/json" });
    res.end(route?.body ?? '{"code":404,"message":"not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let server: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  server = await startServer({
    "/allocation": { status: 200, body: OPENCOST_7D },
    "/model/allocation": { status: 200, body: KUBECOST_CONTAINER },
    "/idle/allocation": { status: 200, body: OPENCOST_IDLE },
    "/by-node/model/allocation": { status: 200, body: KUBECOST_IDLE_BY_NODE },
    "/busy/allocation": { status: 503, body: "upstream connect error" },
    "/bad/allocation": { status: 400, body: '{"code":400,"status":"error","message":"invalid window"}' },
    "/html/allocation": { status: 200, body: "<html>login</html>" },
    "/slow/allocation": { status: 200, body: "", hang: true },
  });
});

afterAll(async () => {
  await server.close();
});

describe("createKubecostAllocationSource against the OpenCost namespace 7d example", () => {
  it("asks /allocation with the window pair, aggregate, includeIdle and accumulate", async () => {
    const source = createKubecostAllocationSource({ baseUrl: server.baseUrl, flavor: "opencost" });
    await source.allocations(WEEK, "namespace");
    const url = server.requests.at(-1);
    expect(url?.pathname).toBe("/allocation");
    expect(Object.fromEntries(url?.searchParams ?? [])).toEqual({
      window: "2023-07-12T11:02:46Z,2023-07-19T11:02:46Z",
      aggregate: "namespace",
      includeIdle: "true",
      accumulate: "true",
    });
  });

  it("reads the three namespaces with exact components that add up to each totalCost", async () => {
    const source = createKubecostAllocationSource({ baseUrl: server.baseUrl, flavor: "opencost" });
    const allocations = await source.allocations(WEEK, "namespace");
    expect(allocations.map((a) => a.name)).toEqual(["kube-system", "opencost", "prometheus"]);
    const [kubeSystem, opencost, prometheus] = allocations;
    expect(kubeSystem).toMatchObject({
      cluster: "default-cluster",
      namespace: "kube-system",
      special: null,
      labels: {},
      namespaceLabels: { kubernetes_io_metadata_name: "kube-system" },
      window: { start: new Date("2023-07-12T11:02:46Z"), end: new Date("2023-07-19T11:02:00Z") },
      components: { gpu: 0n, cpu: 1_430_860_000n, ram: 96_570_000n, pv: 0n, network: 0n, other: 0n },
      gpuHours: 0,
      notes: [],
    });
    // Quirk: cpuCost 0.06359 + ramCost 0.04577 = 0.10936, but totalCost is 0.10937 (each field is
    // rounded to 5 decimals on its own). The 10,000-nano difference lands in `other`.
    expect(opencost?.components).toMatchObject({ cpu: 63_590_000n, ram: 45_770_000n, other: 10_000n });
    expect(opencost).toMatchObject({
      node: "ip-192-168-20-42.ap-southeast-2.compute.internal",
      controller: "opencost",
    });
    expect(componentsTotal(prometheus?.components ?? sumComponents([]))).toBe(141_360_000n);
    expect(componentsTotal(sumComponents(allocations))).toBe(1_778_160_000n);
  });

  it("names the cluster from the options when given", async () => {
    const source = createKubecostAllocationSource({
      baseUrl: server.baseUrl,
      flavor: "opencost",
      cluster: "prod-eks-syd",
    });
    const allocations = await source.allocations(WEEK, "namespace");
    expect(new Set(allocations.map((a) => a.cluster))).toEqual(new Set(["prod-eks-syd"]));
  });
});

describe("createKubecostAllocationSource against the Kubecost container example", () => {
  it("asks /model/allocation with idle=true and reads the one real container, skipping the placeholders", async () => {
    const source = createKubecostAllocationSource({ baseUrl: `${server.baseUrl}/`, flavor: "kubecost" });
    const allocations = await source.allocations(KUBECOST_HOUR, "container");
    const url = server.requests.at(-1);
    expect(url?.pathname).toBe("/model/allocation");
    expect(url?.searchParams.get("idle")).toBe("true");
    expect(url?.searchParams.get("window")).toBe("2023-01-27T23:00:00Z,2023-01-28T00:00:00Z");
    expect(allocations).toHaveLength(1);
    expect(allocations[0]).toMatchObject({
      name: "aws-dev-1-niko/ip-192-168-12-152.us-east-2.compute.internal/kubecost/kubecost-cost-analyzer-5b84f94b7f-9lxx5/cost-model",
      cluster: "aws-dev-1-niko",
      namespace: "kubecost",
      pod: "kubecost-cost-analyzer-5b84f94b7f-9lxx5",
      container: "cost-model",
      node: "ip-192-168-12-152.us-east-2.compute.internal",
      controller: "kubecost-cost-analyzer",
      controllerKind: "deployment",
      labels: {
        app: "cost-analyzer",
        app_kubernetes_io_name: "cost-analyzer",
        pod_template_hash: "5b84f94b7f",
      },
      window: { start: new Date("2023-01-27T23:00:00Z"), end: new Date("2023-01-27T23:16:00Z") },
      special: null,
    });
    // loadBalancerCost 0.003333 and a 0.000001 rounding gap (0.004660 vs totalCost 0.004661) land in other.
    expect(allocations[0]?.components).toEqual({
      gpu: 0n,
      cpu: 426_000n,
      ram: 351_000n,
      pv: 550_000n,
      network: 0n,
      other: 3_334_000n,
    });
    expect(componentsTotal(allocations[0]?.components ?? sumComponents([]))).toBe(4_661_000n);
  });
});

describe("createKubecostAllocationSource against a constructed response with __idle__", () => {
  it("reads idle, unmounted and owner labels; the total is the sum of every totalCost", async () => {
    const source = createKubecostAllocationSource(
      kubecostOptionsFromSettings(
        allocationSettingsSchema.parse({
          flavor: "opencost",
          baseUrl: `${server.baseUrl}/idle`,
          cluster: "prod-gke-1",
        }),
      ),
    );
    const allocations = await source.allocations(HOUR, ["namespace", "pod"]);
    expect(server.requests.at(-1)?.searchParams.get("aggregate")).toBe("namespace,pod");
    expect(allocations).toHaveLength(7);
    const idle = allocations.find((a) => a.special === "idle");
    expect(idle).toMatchObject({ name: "__idle__", namespace: "", cluster: "prod-gke-1", gpuHours: 1 });
    expect(componentsTotal(idle?.components ?? sumComponents([]))).toBe(1_210_170_000n);
    const unmounted = allocations.find((a) => a.special === "unmounted");
    expect(unmounted).toMatchObject({ namespace: "", components: { pv: 13_700_000n } });
    const llm = allocations.find((a) => a.pod === "llm-7b-0");
    // gpuCost 0.7075 with a gpuCostAdjustment of -0.0125.
    expect(llm?.components.gpu).toBe(695_000_000n);
    expect(componentsTotal(sumComponents(allocations))).toBe(6_605_050_000n);
  });
});

describe("createKubecostAllocationSource with idle by node", () => {
  it("adds idleByNode and splitIdle only when asked, for either flavor", () => {
    for (const flavor of ["opencost", "kubecost"] as const) {
      const plain = allocationUrl({ baseUrl: "http://x", flavor }, HOUR, "pod");
      expect(plain.searchParams.has("idleByNode")).toBe(false);
      expect(plain.searchParams.has("splitIdle")).toBe(false);
      const byNode = allocationUrl({ baseUrl: "http://x", flavor, idleByNode: true }, HOUR, "pod");
      expect(byNode.searchParams.get("idleByNode")).toBe("true");
      expect(byNode.searchParams.get("splitIdle")).toBe("true");
    }
  });

  it("reads one idle allocation per node, each naming its node", async () => {
    const source = createKubecostAllocationSource({
      baseUrl: `${server.baseUrl}/by-node`,
      flavor: "kubecost",
      idleByNode: true,
    });
    const allocations = await source.allocations(HOUR, ["namespace", "pod"]);
    expect(Object.fromEntries(server.requests.at(-1)?.searchParams ?? [])).toMatchObject({
      idle: "true",
      idleByNode: "true",
      splitIdle: "true",
    });
    const idle = allocations.filter((a) => a.special === "idle");
    expect(idle.map((a) => [a.name, a.node, a.components.gpu])).toEqual([
      ["gke-prod-l4-pool-1a2b/__idle__", "gke-prod-l4-pool-1a2b", 707_500_000n],
      ["gke-prod-a100-pool-7c6d/__idle__", "gke-prod-a100-pool-7c6d", 0n],
      ["gke-prod-cpu-pool-9z8y/__idle__", "gke-prod-cpu-pool-9z8y", 0n],
    ]);
    // The same cluster as the single-__idle__ response, idle split three ways.
    expect(componentsTotal(sumComponents(idle))).toBe(1_210_170_000n);
    expect(componentsTotal(sumComponents(allocations))).toBe(6_605_050_000n);
  });
});

describe("createKubecostAllocationSource failures", () => {
  const failing = async (path: string, timeoutMs?: number) => {
    const source = createKubecostAllocationSource({
      baseUrl: `${server.baseUrl}${path}`,
      flavor: "opencost",
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
    try {
      await source.allocations(HOUR, "pod");
    } catch (error) {
      return error as AllocationSourceError;
    }
    throw new Error("expected a failure");
  };

  it.each([
    ["/busy", "unavailable", /answered 503/],
    ["/bad", "invalid", /answered 400/],
    ["/html", "invalid", /not JSON/],
  ])("%s is %s", async (path, code, message) => {
    const error = await failing(path);
    expect(error).toBeInstanceOf(AllocationSourceError);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it("a server that does not answer in time is unavailable, with the cause kept", async () => {
    const error = await failing("/slow", 200);
    expect(error.code).toBe("unavailable");
    expect(error.message).toMatch(/timed out after 200 ms/);
    expect(error.cause).toBeDefined();
  });

  it("a refused connection is unavailable", async () => {
    const closed = await startServer({});
    await closed.close();
    const source = createKubecostAllocationSource({ baseUrl: closed.baseUrl, flavor: "kubecost" });
    await expect(source.allocations(HOUR, "pod")).rejects.toMatchObject({ code: "unavailable" });
  });

  it("uses the injected fetch", async () => {
    const seen: string[] = [];
    const source = createKubecostAllocationSource({
      baseUrl: "http://kubecost.example:9090",
      flavor: "kubecost",
      fetch: async (input) => {
        seen.push(String(input));
        return new Response('{"code":200,"data":[{}]}');
      },
    });
    expect(await source.allocations(HOUR, "pod")).toEqual([]);
    expect(seen[0]).toMatch(/^http:\/\/kubecost\.example:9090\/model\/allocation\?/);
  });
});
