/**
 * The time source of the SDK: wall time for event times, a monotonic clock for durations, and
 * one-shot timers. The system clock's timers are unref'd, so a pending flush or heartbeat never
 * keeps a process alive; call the publisher's `close()` on shutdown to send what is buffered.
 */
export interface SdkTimer {
  cancel(): void;
}

export interface SdkClock {
  /** Milliseconds since the Unix epoch (event `time`). */
  now(): number;
  /** A monotonic reading in nanoseconds (durations: request GPU time, job elapsed time). */
  monotonicNs(): bigint;
  /** Runs `callback` once after `ms` milliseconds unless cancelled. */
  setTimer(callback: () => void, ms: number): SdkTimer;
}

export const systemSdkClock: SdkClock = {
  now: () => Date.now(),
  monotonicNs: () => process.hrtime.bigint(),
  setTimer(callback, ms) {
    const handle = setTimeout(callback, Math.max(0, ms));
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};

/** A clock that moves only when told to: for tests of batching delays, retries and heartbeats. */
export interface ManualClock extends SdkClock {
  /**
   * Moves time forward by `ms`, running every timer that falls due in order, each at its own due
   * time, and letting the promise jobs and I/O callbacks each one starts settle before the next.
   */
  advance(ms: number): Promise<void>;
  /** Timers scheduled and neither run nor cancelled. */
  pendingTimers(): number;
}

interface ManualTimer {
  due: number;
  order: number;
  callback: () => void;
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createManualClock(startMs: number | Date = Date.UTC(2026, 10, 2, 12)): ManualClock {
  const origin = typeof startMs === "number" ? startMs : startMs.getTime();
  let elapsed = 0;
  let order = 0;
  const timers = new Set<ManualTimer>();

  const next = (limit: number): ManualTimer | undefined => {
    let best: ManualTimer | undefined;
    for (const timer of timers) {
      if (timer.due > limit) continue;
      if (!best || timer.due < best.due || (timer.due === best.due && timer.order < best.order)) best = timer;
    }
    return best;
  };

  return {
    now: () => origin + elapsed,
    monotonicNs: () => BigInt(Math.round(elapsed * 1e6)),
    setTimer(callback, ms) {
      const timer = { due: elapsed + Math.max(0, ms), order: order++, callback };
      timers.add(timer);
      return { cancel: () => timers.delete(timer) };
    },
    async advance(ms) {
      const target = elapsed + ms;
      await settle();
      for (let timer = next(target); timer; timer = next(target)) {
        timers.delete(timer);
        elapsed = Math.max(elapsed, timer.due);
        timer.callback();
        await settle();
      }
      elapsed = target;
      await settle();
    },
    pendingTimers: () => timers.size,
  };
}
