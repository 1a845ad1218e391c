import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "#ports/logger.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";
import { type LocalStack, startLocalStack } from "#runtime/local/local-stack.ts";
import type { Runtime } from "#runtime/runtime.ts";

/** A stack hosting no function, over a warehouse whose write probe does what `checkWritable` says. */
async function stackOver(checkWritable: () => Promise<void>): Promise<LocalStack> {
  const runtime = {
    config: { local: { maxInFlightBodies: 4, maxInFlightBytes: 1024 ** 2 } },
    warehouse: { checkWritable },
    logger: silentLogger,
  } as unknown as Runtime;
  return startLocalStack({ runtime, functions: [], port: 0, scheduleEveryMs: () => 3_600_000 });
}

async function health(stack: LocalStack) {
  const res = await fetch(`${stack.url}/healthz`);
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: await res.json() };
}

describe("GET /healthz", () => {
  let stack: LocalStack | undefined;
  afterEach(async () => {
    await stack?.close();
  });

  it("answers 200 ok while the warehouse can take a write", async () => {
    // Prepare
    stack = await stackOver(async () => {});

    // Act
    const answer = await health(stack);

    // Assess
    expect(answer).toEqual({ status: 200, retryAfter: null, body: { status: "ok" } });
  });

  it("answers 503 with Retry-After and the reason on one line when it cannot", async () => {
    // Prepare
    stack = await stackOver(async () => {
      throw new WarehouseError("IO Error: No space left on device\n  at write", "unavailable");
    });

    // Act
    const answer = await health(stack);

    // Assess
    expect(answer).toEqual({
      status: 503,
      retryAfter: "1",
      body: { status: "unavailable", error: "IO Error: No space left on device" },
    });
  });

  it("probes the warehouse once a second however often it is asked, and sees it recover", async () => {
    // Prepare
    let probes = 0;
    let full = true;
    stack = await stackOver(async () => {
      probes += 1;
      if (full) throw new WarehouseError("disk full", "unavailable");
    });

    // Act
    const flood = await Promise.all(Array.from({ length: 50 }, () => health(stack as LocalStack)));
    full = false;
    const cached = await health(stack);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const later = await health(stack);

    // Assess
    expect(flood.every((a) => a.status === 503)).toBe(true);
    expect(cached.status).toBe(503);
    expect(later).toEqual({ status: 200, retryAfter: null, body: { status: "ok" } });
    expect(probes).toBe(2);
  });

  it("answers 503 once the stack is stopping", async () => {
    // Prepare
    stack = await stackOver(async () => {});

    // Act
    await stack.drain();
    const answer = await health(stack);

    // Assess
    expect(answer).toEqual({
      status: 503,
      retryAfter: "1",
      body: { status: "unavailable", error: "stopping" },
    });
  });
});
