import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createDuckDbSeenStore } from "#adapters/duckdb-seen-store/duckdb-seen-store.ts";
import { createMemorySeenStore } from "#adapters/memory-seen-store/memory-seen-store.ts";
import { seenKeysStatements } from "#adapters/sql/seen-keys.ts";
import { type SeenStore, SeenStoreError } from "#ports/seen-store.ts";

// One contract for every seen-store adapter: the routes rely on exactly this behaviour.
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const adapters: Array<[string, () => SeenStore]> = [
  ["memory", () => createMemorySeenStore()],
  ["duckdb", () => createDuckDbSeenStore({ path: ":memory:" })],
];

describe.each(adapters)("seen-store contract (%s)", (_name, make) => {
  it("answers undefined for a new key, then the highest value seen, keeping the highest", async () => {
    const store = make();
    expect(await store.claim("k", 500n)).toBeUndefined();
    expect(await store.claim("k", 500n)).toBe(500n);
    expect(await store.claim("k", 300n)).toBe(500n);
    expect(await store.claim("k", 800n)).toBe(500n);
    expect(await store.claim("k", 800n)).toBe(800n);
    expect(await store.claim("other", 1n)).toBeUndefined();
    await store.close();
  });

  it("release puts back the previous value only while the claimed one is stored", async () => {
    const store = make();
    await store.claim("k", 500n);
    await store.claim("k", 800n);
    await store.release("k", 800n, 500n);
    expect(await store.claim("k", 800n)).toBe(500n);
    await store.claim("k", 1000n);
    await store.release("k", 800n, 500n);
    expect(await store.claim("k", 1n)).toBe(1000n);
    await store.claim("new", 7n);
    await store.release("new", 7n, undefined);
    expect(await store.claim("new", 7n)).toBeUndefined();
    await store.close();
  });

  it("gives one of many concurrent claims of a value the right to act", async () => {
    const store = make();
    const answers = await Promise.all(Array.from({ length: 20 }, () => store.claim("race", 9n)));
    expect(answers.filter((a) => a === undefined)).toHaveLength(1);
    await store.close();
  });

  it("holds 64-bit values and refuses what does not fit", async () => {
    const store = make();
    expect(await store.claim("big", 9_000_000_000_000_000_000n)).toBeUndefined();
    expect(await store.claim("big", 1n)).toBe(9_000_000_000_000_000_000n);
    await expect(store.claim("big", 2n ** 63n)).rejects.toBeInstanceOf(SeenStoreError);
    await expect(store.claim("", 1n)).rejects.toBeInstanceOf(SeenStoreError);
    await store.close();
    await expect(store.claim("k", 1n)).rejects.toMatchObject({ code: "unavailable" });
  });
});

describe("DuckDB seen-store", () => {
  it("keeps what it saw across a restart (a file)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "seen-store-"));
    dirs.push(dir);
    const path = join(dir, "seen.duckdb");
    const first = createDuckDbSeenStore({ path });
    await first.claim("gcp-budget:b:2026-11-01T07:00:00Z:actual", 800_000_000n);
    await first.close();
    const second = createDuckDbSeenStore({ path });
    expect(await second.claim("gcp-budget:b:2026-11-01T07:00:00Z:actual", 800_000_000n)).toBe(800_000_000n);
    await second.close();
  });

  it("reads its statements from both dialects' seen_keys.sql", () => {
    for (const dialect of ["duckdb", "bigquery"] as const) {
      const sql = seenKeysStatements(dialect, { dataset: "finops" });
      expect(Object.keys(sql).sort()).toEqual(["claim", "create", "forget", "restore"]);
    }
  });
});
