import type { Alert, Severity } from "../alerts/alert.ts";
import { formatAmount, type Nanos } from "../money.ts";
import { compareByDrift, type DriftRow, type DriftTable, driftRow, topContributors } from "./drift-table.ts";
import { type KeyValues, keyLabel, type MatchKey } from "./match-key.ts";
import { absRatio, compareRatios, numberToRatio, type Ratio } from "./ratio.ts";

export interface DriftAlertOptions {
  /** Alert when |drift| / |billed| reaches this percentage (default 10). */
  thresholdPercent?: number;
  /** …and |drift| reaches this amount, so small scopes do not cry wolf (default 0). */
  minAbsolute?: Nanos;
  /**
   * The match keys that make a scope, a subset of the table's keys; the table's rows within a scope
   * are its contributors. Default: the table's own keys (each row its own scope); [] = the whole day.
   */
  scopeBy?: readonly MatchKey[];
  /** How many contributors to list (default 3). */
  top?: number;
}

/** A scope whose drift passed the threshold on one day: everything an Alert needs. */
export interface DriftAlertData {
  kind: "reconciliation.drift";
  /** `reconcile:<day>:<scope>`: the same day and scope always give the same key. */
  idempotencyKey: string;
  day: string;
  scope: KeyValues;
  /** keyLabel of the scope ("all" for the whole day). */
  scopeLabel: string;
  estimated: Nanos;
  billed: Nanos;
  drift: Nanos;
  /** drift / billed; null when nothing was billed (an estimate no bill confirms). */
  relative: Ratio | null;
  relativePercent: string | null;
  /** critical at twice the threshold or more (or nothing billed), warning otherwise. */
  severity: Severity;
  topContributors: DriftRow[];
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

/**
 * Groups a drift table's rows by (day, scope) and returns the scopes whose |relative drift| reaches
 * `thresholdPercent` and whose |drift| reaches `minAbsolute`, largest |drift| first, each with its
 * top contributors. A scope with an estimate but no bill counts as infinite drift. Pure: the same
 * table gives the same alerts, and a re-run of a day gives the same idempotency keys.
 */
export function driftAlerts(table: DriftTable, options: DriftAlertOptions = {}): DriftAlertData[] {
  const threshold = numberToRatio(options.thresholdPercent ?? 10);
  if (threshold.num < 0n) throw new RangeError("thresholdPercent must not be negative");
  const thresholdFraction: Ratio = { num: threshold.num, den: threshold.den * 100n };
  const twice: Ratio = { num: thresholdFraction.num * 2n, den: thresholdFraction.den };
  const minAbsolute = options.minAbsolute ?? 0n;
  const scopeBy = [...(options.scopeBy ?? table.keys)];
  for (const k of scopeBy) {
    if (!table.keys.includes(k)) throw new RangeError(`scope key ${k} is not a key of the table`);
  }
  const top = options.top ?? 3;

  const groups = new Map<string, { day: string; scope: KeyValues; label: string; rows: DriftRow[] }>();
  for (const row of table.rows) {
    const scope: KeyValues = {};
    for (const k of scopeBy) scope[k] = row.key[k] ?? null;
    const label = keyLabel(scope, scopeBy);
    const id = `${row.day}|${label}`;
    let group = groups.get(id);
    if (!group) {
      group = { day: row.day, scope, label, rows: [] };
      groups.set(id, group);
    }
    group.rows.push(row);
  }

  const out: DriftAlertData[] = [];
  for (const g of groups.values()) {
    let estimated = 0n;
    let billed = 0n;
    for (const r of g.rows) {
      estimated += r.estimated;
      billed += r.billed;
    }
    const total = driftRow(g.day, g.scope, g.label, estimated, billed);
    if (total.drift === 0n || abs(total.drift) < minAbsolute) continue;
    const magnitude = total.relative === null ? null : absRatio(total.relative);
    if (magnitude !== null && compareRatios(magnitude, thresholdFraction) < 0) continue;
    out.push({
      kind: "reconciliation.drift",
      idempotencyKey: `reconcile:${g.day}:${g.label}`,
      day: g.day,
      scope: g.scope,
      scopeLabel: g.label,
      estimated,
      billed,
      drift: total.drift,
      relative: total.relative,
      relativePercent: total.relativePercent,
      severity: magnitude === null || compareRatios(magnitude, twice) >= 0 ? "critical" : "warning",
      topContributors: topContributors(g.rows, top),
    });
  }
  return out.sort((a, b) =>
    compareByDrift(
      driftRow(a.day, a.scope, a.scopeLabel, a.estimated, a.billed),
      driftRow(b.day, b.scope, b.scopeLabel, b.estimated, b.billed),
    ),
  );
}

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Turns drift alert data into the shared Alert model. Only the scope keys the alert model knows
 * (cloud, namespace, team) go into `scope`; account and service are named in the summary.
 */
export function driftAlertToAlert(
  data: DriftAlertData,
  context: { currency: string; createdAt: Date },
): Alert {
  const scope: Alert["scope"] = {};
  for (const k of ["cloud", "namespace", "team"] as const) {
    const v = data.scope[k];
    if (v) scope[k] = v;
  }
  const pct = data.relativePercent === null ? "no bill" : `${data.relativePercent}%`;
  const title = clip(`Reconciliation drift ${pct} on ${data.day} (${data.scopeLabel})`, 150);
  const lines = data.topContributors.map(
    (r) =>
      `${r.label}: estimated ${formatAmount(r.estimated)}, billed ${formatAmount(r.billed)}, drift ${formatAmount(r.drift)} (${r.status})`,
  );
  const summary = clip(
    [
      `Estimated ${formatAmount(data.estimated)} ${context.currency}, billed ${formatAmount(data.billed)} ${context.currency}, drift ${formatAmount(data.drift)} (${pct}).`,
      ...(lines.length ? ["Top contributors:", ...lines] : []),
    ].join("\n"),
    2000,
  );
  return {
    idempotency_key: data.idempotencyKey,
    kind: data.kind,
    severity: data.severity,
    title,
    summary,
    action:
      "Check the estimate's prices and attribution for the top contributors; recalibrate if the drift persists.",
    scope,
    amounts: {
      spend_nanos: data.billed,
      forecast_nanos: data.estimated,
      ...(data.relativePercent === null ? {} : { percent: Number(data.relativePercent) }),
      currency: context.currency,
    },
    period: { start: `${data.day}T00:00:00Z`, end: `${nextDay(data.day)}T00:00:00Z` },
    source: { system: "finops", id: data.idempotencyKey },
    created_at: context.createdAt.toISOString(),
  };
}
