import { describe, expect, it } from "vitest";
import { createRefreshingValue } from "#app/refreshing-value.ts";

const START = new Date("2026-11-20T10:00:00Z");

function setup(load: () => Promise<number>) {
  let now = START;
  const get = createRefreshingValue(load, { clock: { now: () => now }, freshMs: 60_000 });
  return { get, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

describe("createRefreshingValue", () => {
  it("loads once for calls that overlap, and serves the value while fresh", async () => {
    let loads = 0;
    const { get, advance } = setup(async () => ++loads);
    const [a, b] = await Promise.all([get(), get()]);
    advance(59_999);
    const c = await get();
    expect([a.value, b.value, c.value, loads]).toEqual([1, 1, 1, 1]);
    expect(c.at).toEqual(START);
  });

  it("loads again once the value is a minute old, and stamps it with when it was read", async () => {
    let loads = 0;
    const { get, advance } = setup(async () => ++loads);
    await get();
    advance(60_000);
    const next = await get();
    expect(next).toEqual({ value: 2, at: new Date(START.getTime() + 60_000) });
  });

  it("keeps no failure: the next call tries again", async () => {
    let fail = true;
    const { get } = setup(async () => {
      if (fail) throw new Error("warehouse down");
      return 7;
    });
    await expect(get()).rejects.toThrow("warehouse down");
    fail = false;
    expect((await get()).value).toBe(7);
  });
});
