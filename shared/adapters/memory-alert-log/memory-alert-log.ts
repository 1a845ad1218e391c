import {
  type AlertDelivery,
  type AlertLog,
  AlertLogError,
  assertDelivery,
  assertRecentQuery,
  compareNewestFirst,
  threadMessage,
} from "#ports/alert-log.ts";

export interface MemoryAlertLog extends AlertLog {
  /** Every delivery recorded, in order (tests, the local stack's status). */
  deliveries(): AlertDelivery[];
}

const copy = (d: AlertDelivery): AlertDelivery => ({
  ...d,
  scope: { ...d.scope },
  delivered_at: new Date(d.delivered_at),
});

/** The alert log in process memory: for tests and a local stack that keeps nothing between runs. */
export function createMemoryAlertLog(): MemoryAlertLog {
  const byKey = new Map<string, AlertDelivery>();
  let closed = false;
  const open = (action: string) => {
    if (closed) throw new AlertLogError("unavailable", `alert log ${action}: the log is closed`);
  };
  return {
    async init() {
      open("init");
    },
    async record(delivery) {
      open("record");
      assertDelivery(delivery);
      if (byKey.has(delivery.idempotency_key)) return false;
      byKey.set(delivery.idempotency_key, copy(delivery));
      return true;
    },
    async find(key) {
      open("find");
      const found = byKey.get(key);
      return found === undefined ? undefined : copy(found);
    },
    async findThread(threadKey) {
      open("findThread");
      const found = threadMessage([...byKey.values()].filter((d) => d.thread_key === threadKey));
      return found === undefined ? undefined : copy(found);
    },
    async recent(query) {
      open("recent");
      assertRecentQuery(query);
      const { since, until, limit } = query;
      return [...byKey.values()]
        .filter((d) => d.delivered_at >= since && d.delivered_at < until)
        .sort(compareNewestFirst)
        .slice(0, limit)
        .map(copy);
    },
    async close() {
      closed = true;
    },
    deliveries: () => [...byKey.values()].map(copy),
  };
}
