/**
 * How a replica's busy time is handed to its requests so that GPU time is conserved.
 *
 * A replica batches requests continuously: requests overlap, and each one's time in the model is
 * shared with the others. Summing those times over-counts the replica. Spans arrive in exports, each
 * holding the requests that ended since the last one, while requests that overlap them may still be
 * running, so no export sees every request its time was shared with.
 *
 * The rule, per replica:
 * - The replica's timeline is cut into windows, one per export: from where the previous export's
 *   window ended (a high-water mark kept beside the warehouse) to this export's last span end. Windows
 *   never overlap, so no instant of the replica is handed out twice, whatever the order or number
 *   of exports.
 * - A window is cut at the ends of the UTC hours its requests end in (their events' hours): each
 *   stretch, from the window's start or the previous cut to the end of such an hour, holds busy time,
 *   the part of it this export's requests cover. It goes to the requests that ended in that hour, in
 *   proportion to each one's time in the model within the window, and never more than that time:
 *   when the busy time exceeds their summed times (they did not overlap), each gets its own time
 *   exactly. A request that ended before the window began (an earlier window handed it out) weighs
 *   nothing; a request running for hours before its end hour brings those hours with it.
 * - So no instant of a replica is handed out twice, nor one no request ran: the GPU-seconds handed to
 *   its requests are at most its busy time times its GPUs.
 *
 * Why by time in the model (overlap) and not by tokens: the requests that end in a window are those
 * that shared it; by Little's law the sum of their times in the model is the window's length times
 * the mean number of requests running, so each request gets about its own time divided by the mean
 * concurrency, which is what continuous batching gives it (every running request has its place in
 * every step). Prefill and decode tokens cost the GPU very different amounts, so tokens would need a
 * cost model per model and GPU; and HTTP server spans carry no tokens at all.
 */

/** Microseconds in an hour. */
export const HOUR_US = 3_600_000_000n;

/** One request's time in the model, [fromUs, toUs) in microseconds since the epoch. */
export interface BusySpan {
  key: string;
  fromUs: bigint;
  toUs: bigint;
}

/** A window of a replica's timeline, [fromUs, toUs). */
export interface ShareWindow {
  fromUs: bigint;
  toUs: bigint;
}

/** The UTC hour (as its start) a span's event falls in: the hour of its end. */
export function hourOf(span: BusySpan): bigint {
  return floorDiv(span.toUs, HOUR_US) * HOUR_US;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/**
 * The window an export takes: from the previous mark (or, for a replica never seen, its first
 * request's start) to the export's last span end. Empty (from ≥ to) when the mark is already past
 * every span of the export (a straggler): its requests then get nothing, which keeps the bound.
 */
export function exportWindow(previousMarkUs: bigint | undefined, spans: readonly BusySpan[]): ShareWindow {
  let first: bigint | undefined;
  let last: bigint | undefined;
  for (const s of spans) {
    if (first === undefined || s.fromUs < first) first = s.fromUs;
    if (last === undefined || s.toUs > last) last = s.toUs;
  }
  if (first === undefined || last === undefined) return { fromUs: 0n, toUs: 0n };
  return { fromUs: previousMarkUs ?? first, toUs: last };
}

/** The larger and the smaller of two bigints (Math.max and Math.min take numbers only). */
function later(a: bigint, b: bigint): bigint {
  return a >= b ? a : b;
}
function earlier(a: bigint, b: bigint): bigint {
  return a <= b ? a : b;
}

/** The measure of the union of intervals inside [from, to). */
function coveredWithin(sorted: readonly BusySpan[], from: bigint, to: bigint): bigint {
  let covered = 0n;
  let reach = from;
  for (const s of sorted) {
    if (s.fromUs >= to) break;
    const start = later(s.fromUs, reach);
    const end = earlier(s.toUs, to);
    if (end > start) {
      covered += end - start;
      reach = end;
    }
  }
  return covered;
}

/**
 * Splits `total` in proportion to the weights, every unit handed out: floors first, then one more to
 * the largest remainders, ties broken by key so the answer does not depend on the input's order.
 */
export function splitByWeight(total: bigint, weights: readonly { key: string; weight: bigint }[]) {
  const out = new Map<string, bigint>();
  const sum = weights.reduce((acc, w) => acc + w.weight, 0n);
  if (sum <= 0n || total <= 0n) {
    for (const w of weights) out.set(w.key, 0n);
    return out;
  }
  const parts = weights.map((w) => ({
    key: w.key,
    floor: (total * w.weight) / sum,
    rem: (total * w.weight) % sum,
  }));
  let leftover = total - parts.reduce((acc, p) => acc + p.floor, 0n);
  const order = [...parts].sort((a, b) =>
    a.rem === b.rem ? (a.key < b.key ? -1 : 1) : a.rem > b.rem ? -1 : 1,
  );
  for (const p of order) {
    out.set(p.key, p.floor + (leftover > 0n && p.rem > 0n ? 1n : 0n));
    if (leftover > 0n && p.rem > 0n) leftover -= 1n;
  }
  return out;
}

/**
 * Each span's share of the window's busy time, in microseconds of the replica (multiply by the
 * replica's GPUs for GPU time); every span of the input has an entry. See the module comment.
 */
export function shareWindowBusyTime(window: ShareWindow, spans: readonly BusySpan[]): Map<string, bigint> {
  const shares = new Map<string, bigint>(spans.map((s) => [s.key, 0n]));
  if (window.toUs <= window.fromUs) return shares;
  const timed = spans.filter((s) => s.toUs > s.fromUs);
  const sorted = [...timed].sort((a, b) => (a.fromUs < b.fromUs ? -1 : a.fromUs > b.fromUs ? 1 : 0));
  const byHour = new Map<bigint, BusySpan[]>();
  for (const s of timed) {
    const hour = hourOf(s);
    const list = byHour.get(hour);
    if (list) list.push(s);
    else byHour.set(hour, [s]);
  }
  let cut = window.fromUs;
  for (const hour of [...byHour.keys()].sort((a, b) => (a < b ? -1 : 1))) {
    const from = cut;
    const to = earlier(window.toUs, hour + HOUR_US);
    if (to <= from) continue;
    cut = to;
    const busy = coveredWithin(sorted, from, to);
    // Each request's time in the model within the window: what it can have shared of it.
    const weights = (byHour.get(hour) ?? []).map((s) => ({
      key: s.key,
      weight: later(0n, earlier(s.toUs, window.toUs) - later(s.fromUs, window.fromUs)),
    }));
    const own = weights.reduce((acc, w) => acc + w.weight, 0n);
    for (const [key, share] of splitByWeight(earlier(busy, own), weights)) shares.set(key, share);
  }
  return shares;
}
