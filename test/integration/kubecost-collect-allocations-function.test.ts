import { getTestServer } from "@google-cloud/functions-framework/testing";
import { beforeAll, describe, expect, it } from "vitest";
import type { CollectAllocations, CollectSummary } from "#app/collect-allocations.ts";
import { AllocationSourceError, type CollectWindow } from "#ports/allocation-source.ts";
import { MetricsSourceError } from "#ports/metrics-source.ts";
import { type Runtime, setRuntime } from "#runtime/runtime.ts";

const HOUR = { from: new Date("2026-11-15T10:00:00Z"), to: new Date("2026-11-15T11:00:00Z") };

function summary(window: CollectWindow): CollectSummary {
  const zero = { gpu: 0n, cpu: 0n, ram: 0n, pv: 0n, network: 0n, other: 0n };
  return {
    window,
    hours: 1,
    allocations: 1,
    events: 1,
    messages: 1,
    fetchedNanos: 5n,
    totalNanos: 5n,
    attributedNanos: 5n,
    idleNanos: 0n,
    unallocatedNanos: 0n,
    idleFetchedNanos: 0n,
    components: { ...zero, cpu: 5n },
  };
}

/** The function reads only `collectAllocations` from the runtime, so that is all this one has. */
function useCollector(collectAllocations: CollectAllocations | undefined): void {
  setRuntime({ collectAllocations } as unknown as Runtime);
}

beforeAll(async () => {
  await import("../../functions/collect-allocations/index.ts");
});

describe("collectAllocations (HTTP function)", () => {
  it("collects the default window and answers the summary with nanos as strings", async () => {
    const asked: Array<CollectWindow | undefined> = [];
    useCollector({
      collect: async (window) => {
        asked.push(window);
        return summary(window ?? HOUR);
      },
    });
    const res = await fetchFunction("/");
    expect(res.status).toBe(200);
    expect(asked).toEqual([undefined]);
    expect(res.body).toMatchObject({
      events: 1,
      totalNanos: "5",
      window: { from: "2026-11-15T10:00:00.000Z" },
    });
  });

  it("re-collects the window in ?from=&to=, and answers 400 for a bad one", async () => {
    const asked: Array<CollectWindow | undefined> = [];
    useCollector({
      collect: async (window) => {
        asked.push(window);
        return summary(window ?? HOUR);
      },
    });
    const ok = await fetchFunction("/?from=2026-11-14T00:00:00Z&to=2026-11-15T00:00:00Z");
    expect(ok.status).toBe(200);
    expect(asked[0]).toEqual({
      from: new Date("2026-11-14T00:00:00Z"),
      to: new Date("2026-11-15T00:00:00Z"),
    });
    const bad = await fetchFunction("/?from=yesterday");
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      error: expect.stringMatching(/^from: "yesterday" is not a date/),
      field: "from",
    });
    // Nothing rolls over, and a field given twice is not read as absent.
    const impossible = await fetchFunction("/?from=2026-02-30T00:00:00Z&to=2026-03-01T00:00:00Z");
    expect(impossible.status).toBe(400);
    expect(impossible.body).toEqual({
      error: 'from: "2026-02-30T00:00:00Z" is not a date: February 2026 has 28 days',
      field: "from",
    });
    const twice = await fetchFunction(
      "/?from=2026-11-14T00:00:00Z&to=2026-11-15T00:00:00Z&to=2026-11-16T00:00:00Z",
    );
    expect(twice.status).toBe(400);
    expect(twice.body).toEqual({
      error: expect.stringMatching(/^to: given more than once/),
      field: "to",
    });
    expect(asked).toHaveLength(1);
  });

  it("answers 503 with Retry-After when the source is unavailable", async () => {
    useCollector({
      collect: async () => {
        throw new AllocationSourceError("unavailable", "opencost /allocation answered 503");
      },
    });
    const res = await fetchFunction("/");
    expect(res.status).toBe(503);
    expect(res.retryAfter).toBe("60");
  });

  it.each([
    new AllocationSourceError("invalid", "kubecost /model/allocation answered 404: not found"),
    new MetricsSourceError("invalid", "prometheus query_range answered 400 (bad_data): parse error", {
      status: 400,
      errorType: "bad_data",
    }),
  ])("answers 502 naming the source when it refuses the call: $message", async (error) => {
    useCollector({
      collect: async () => {
        throw error;
      },
    });
    const res = await fetchFunction("/");
    expect(res.status).toBe(502);
    expect(res.body).toEqual({ error: error.message });
  });

  it("skips, successfully, where no allocation source is configured", async () => {
    useCollector(undefined);
    const res = await fetchFunction("/");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ skipped: "no allocations source configured" });
  });
});

async function fetchFunction(path: string) {
  const server = getTestServer("collectAllocations");
  const response = await new Promise<{ status: number; text: string; retryAfter: string | undefined }>(
    (resolve, reject) => {
      server.listen(0, "127.0.0.1", async () => {
        try {
          const { port } = server.address() as { port: number };
          const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: "POST" });
          resolve({
            status: res.status,
            text: await res.text(),
            retryAfter: res.headers.get("retry-after") ?? undefined,
          });
        } catch (error) {
          reject(error);
        } finally {
          server.close();
        }
      });
    },
  );
  return { ...response, body: JSON.parse(response.text) as unknown };
}
