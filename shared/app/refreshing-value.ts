import type { Clock } from "#ports/clock.ts";

export interface Timed<T> {
  value: T;
  /** When the value was read. */
  at: Date;
}

/**
 * A costly read shared by the calls that come close together: one load at a time, and its value
 * served while younger than `freshMs`; after that the next call loads again (and waits for it).
 * Nothing runs behind a caller's back, so a function's work ends with its response.
 */
export function createRefreshingValue<T>(
  load: () => Promise<T>,
  { clock, freshMs }: { clock: Clock; freshMs: number },
): () => Promise<Timed<T>> {
  let current: Timed<T> | undefined;
  let loading: Promise<Timed<T>> | undefined;
  return function get() {
    if (current !== undefined && clock.now().getTime() - current.at.getTime() < freshMs) {
      return Promise.resolve(current);
    }
    loading ??= (async () => {
      const at = clock.now();
      const value = await load();
      current = { value, at };
      return current;
    })().finally(() => {
      loading = undefined;
    });
    return loading;
  };
}
