import type { AllocationSettings } from "#domain/allocation/allocation-settings.ts";
import {
  type AllocationAggregate,
  type AllocationSource,
  AllocationSourceError,
  type CollectWindow,
  type K8sAllocation,
} from "#ports/allocation-source.ts";
import { type Logger, silentLogger } from "#ports/logger.ts";
import { parseAllocationResponse } from "./allocation-response.ts";

export type AllocationApiFlavor = "opencost" | "kubecost";

export interface KubecostAllocationSourceOptions {
  /** The API's base URL: OpenCost on port 9003, Kubecost's cost-analyzer on 9090 (a path prefix is kept). */
  baseUrl: string;
  flavor: AllocationApiFlavor;
  fetch?: typeof globalThis.fetch;
  /** Per request; the servers compute long windows on demand, so this is generous by default. */
  timeoutMs?: number;
  /**
   * Names every allocation's cluster, replacing what the response says (OpenCost says
   * `default-cluster` unless its CLUSTER_ID is set). Leave unset to keep each allocation's own
   * (a federated Kubecost reporting several clusters).
   */
  cluster?: string;
  /**
   * Ask for idle per node (`idleByNode=true&splitIdle=true`): one idle allocation per node, named
   * `<node>/__idle__` with the node in its properties, instead of one for the cluster. Kubecost
   * honours both; OpenCost's /allocation reads idleByNode but not splitIdle, and still answers one
   * combined `__idle__`.
   */
  idleByNode?: boolean;
  logger?: Logger;
}

/** The path and the parameter that includes idle capacity differ; the rest of the API is shared. */
const FLAVORS: Readonly<Record<AllocationApiFlavor, { path: string; idleParam: string }>> = {
  opencost: { path: "/allocation", idleParam: "includeIdle" },
  kubecost: { path: "/model/allocation", idleParam: "idle" },
};

/** RFC 3339 in whole seconds with "Z", the only form the servers' window regex takes. */
function rfc3339(at: Date, field: string): string {
  const ms = at.getTime();
  if (!Number.isFinite(ms) || ms % 1000 !== 0) {
    throw new AllocationSourceError("invalid", `window.${field} must be a whole second, got ${String(at)}`);
  }
  return at.toISOString().replace(/\.000Z$/, "Z");
}

/** The request URL for a window and aggregation; exported for tests and the operator's curl. */
export function allocationUrl(
  options: Pick<KubecostAllocationSourceOptions, "baseUrl" | "flavor" | "idleByNode">,
  window: CollectWindow,
  aggregate: AllocationAggregate,
): URL {
  if (!(window.to.getTime() > window.from.getTime())) {
    throw new AllocationSourceError("invalid", "window.to must be after window.from");
  }
  const flavor = FLAVORS[options.flavor];
  const url = new URL(`${options.baseUrl.replace(/\/+$/, "")}${flavor.path}`);
  const aggregates: readonly string[] = typeof aggregate === "string" ? [aggregate] : aggregate;
  url.searchParams.set("window", `${rfc3339(window.from, "from")},${rfc3339(window.to, "to")}`);
  url.searchParams.set("aggregate", aggregates.join(","));
  url.searchParams.set(flavor.idleParam, "true");
  if (options.idleByNode) {
    url.searchParams.set("idleByNode", "true");
    url.searchParams.set("splitIdle", "true");
  }
  url.searchParams.set("accumulate", "true");
  return url;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}

/**
 * An AllocationSource over the OpenCost (`GET /allocation`) or Kubecost (`GET /model/allocation`)
 * HTTP API: one accumulated set for the window, idle included. Network failures, timeouts, 429 and
 * 5xx are `unavailable`; other statuses and unreadable bodies are `invalid`.
 */
export function createKubecostAllocationSource(options: KubecostAllocationSourceOptions): AllocationSource {
  const { flavor, timeoutMs = 60_000, cluster, logger = silentLogger } = options;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (!FLAVORS[flavor]) throw new AllocationSourceError("invalid", "flavor must be opencost or kubecost");
  if (!URL.canParse(options.baseUrl)) {
    throw new AllocationSourceError("invalid", `baseUrl ${JSON.stringify(options.baseUrl)} is not a URL`);
  }

  async function get(url: URL): Promise<string> {
    let response: Response;
    try {
      response = await fetchImpl(url, {
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (cause) {
      const what = isTimeout(cause) ? `timed out after ${timeoutMs} ms` : (cause as Error).message;
      throw new AllocationSourceError("unavailable", `${flavor} ${url.pathname}: ${what}`, { cause });
    }
    let body: string;
    try {
      body = await response.text();
    } catch (cause) {
      throw new AllocationSourceError("unavailable", `${flavor} ${url.pathname}: reading the body failed`, {
        cause,
      });
    }
    if (!response.ok) {
      const code = response.status >= 500 || response.status === 429 ? "unavailable" : "invalid";
      throw new AllocationSourceError(
        code,
        `${flavor} ${url.pathname} answered ${response.status}: ${body.slice(0, 300)}`,
      );
    }
    return body;
  }

  return {
    async allocations(window, aggregate): Promise<K8sAllocation[]> {
      const url = allocationUrl(options, window, aggregate);
      const body = await get(url);
      const parsed = parseAllocationResponse(body, { window, ...(cluster === undefined ? {} : { cluster }) });
      if (parsed.skipped.length > 0 || parsed.nonFiniteTokens > 0) {
        logger.warn("allocation response had entries that are not allocations or non-finite numbers", {
          skipped: parsed.skipped.slice(0, 10),
          nonFiniteTokens: parsed.nonFiniteTokens,
        });
      }
      return parsed.allocations;
    },
  };
}

/** The adapter's options from the configuration's `allocations` section. */
export function kubecostOptionsFromSettings(
  settings: AllocationSettings,
  extra: { fetch?: typeof globalThis.fetch; logger?: Logger } = {},
): KubecostAllocationSourceOptions {
  return {
    baseUrl: settings.baseUrl,
    flavor: settings.flavor,
    timeoutMs: settings.timeoutMs,
    ...(settings.clusterFromSource ? {} : { cluster: settings.cluster }),
    ...extra,
  };
}
