import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  floorHour,
  HOUR_MS,
  openTestSession,
  readRejected,
  refreshRollups,
  report,
  type TestSession,
} from "../support/local-stack-session.ts";

// A real full filesystem: the warehouse on a small tmpfs filled to the last block. A body that
// cannot be written is answered 503 with Retry-After and lands nowhere (no event "rejected" for a
// fault of the disk); /healthz says so; once space is freed, the producer's resend is stored whole.

const mountPoint = mkdtempSync(join(tmpdir(), "finops-full-disk-"));
const mounted = (() => {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=32m", "tmpfs", mountPoint], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const COST = 1_000_000_007n;
const hour = floorHour(Date.now()) - 2 * HOUR_MS;

function body(prefix: string, count: number): string {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      specversion: "1.0",
      id: `${prefix}-${i}`,
      source: "//inference/full-disk",
      type: "ai.cost.inference.v1",
      time: new Date(hour + i * 1000).toISOString(),
      data: {
        team: "storage",
        model: "ranker",
        model_version: "v1",
        business_unit: "search",
        provider: "self",
        cost_nanos: String(COST),
        labels: { note: "x".repeat(200) },
      },
    }),
  ).join("\n");
}

describe.skipIf(!mounted)("a full disk under the warehouse (tmpfs)", () => {
  let session: TestSession;
  const filler = join(mountPoint, "filler");
  const post = (text: string) =>
    fetch(`${session.stack.url}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body: text,
    });

  /** /healthz caches its probe for about a second: the answer once that has passed. */
  const healthAfterCache = async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    return (await fetch(`${session.stack.url}/healthz`)).status;
  };

  beforeAll(async () => {
    session = await openTestSession(join(mountPoint, "finops.duckdb"));
  });

  afterAll(async () => {
    await session?.close();
    if (mounted) execFileSync("umount", [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it("answers 503 with Retry-After, rejects nothing, and stores the resend once space is back", async () => {
    expect((await post(body("warm", 10))).status).toBe(200);

    const { bavail, bsize } = statfsSync(mountPoint);
    writeFileSync(filler, Buffer.alloc(bavail * bsize - 4096));
    const refused = await post(body("full", 1_000));
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ error: expect.any(String) });
    expect((await fetch(`${session.stack.url}/healthz`)).status).toBe(503);

    rmSync(filler);
    const resent = await post(body("full", 1_000));
    expect(resent.status).toBe(200);
    expect(await resent.json()).toMatchObject({ accepted: 1_000, duplicates: 0, rejected: [] });
    expect(await healthAfterCache()).toBe(200);

    const all = { from: new Date(hour - HOUR_MS), to: new Date(hour + 2 * HOUR_MS) };
    expect(
      await readRejected(session.runtime.warehouse, {
        from: new Date(0),
        to: new Date(Date.now() + HOUR_MS),
      }),
    ).toEqual([]);
    await refreshRollups(session.stack);
    const [total] = await report(session.runtime, { ...all, by: [] });
    expect(total?.cost_nanos).toBe(1_010n * COST);
  });
});
