import { assertSeenEntry, type SeenStore, SeenStoreError } from "#ports/seen-store.ts";

/** The seen-store in a Map: one process, forgotten on restart (tests, the local stack without DuckDB). */
export interface MemorySeenStore extends SeenStore {
  /** What is stored, for tests. */
  entries(): ReadonlyMap<string, bigint>;
}

export function createMemorySeenStore(): MemorySeenStore {
  const values = new Map<string, bigint>();
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new SeenStoreError("seen-store is closed", "unavailable");
  }

  return {
    async claim(key, value) {
      assertOpen();
      assertSeenEntry(key, value);
      const previous = values.get(key);
      if (previous === undefined || value > previous) values.set(key, value);
      return previous;
    },
    async release(key, value, previous) {
      assertOpen();
      assertSeenEntry(key, value);
      if (values.get(key) !== value) return;
      if (previous === undefined) values.delete(key);
      else values.set(key, previous);
    },
    entries: () => new Map(values),
    async close() {
      closed = true;
    },
  };
}
