import { IDLE_OWNER } from "#domain/allocation/owner.ts";
import { type ResourceName, runsOn } from "#domain/billing/bill-resource.ts";
import { UNALLOCATED } from "#domain/cost-row.ts";
import { type Nanos, splitByWeights } from "#domain/money.ts";
import type { DayAmount } from "./drift-table.ts";
import type { MatchValues } from "./match-key.ts";

/** What an estimate without an instance or SKU family (an allocation, a fixed cost) calibrates as. */
export const OTHER_FAMILY = "other";

/** One day's estimate of one (cloud, namespace, team, family, resource), in the reconciled currency. */
export interface FamilyEstimate extends Partial<ResourceName> {
  /** UTC day, "YYYY-MM-DD". */
  day: string;
  cloud: string;
  namespace: string | null;
  team: string | null;
  /** The accelerator, else the instance type; null for allocations and fixed costs. */
  family: string | null;
  nanos: Nanos;
}

/** A day's billed amount on the match keys, with the resource its line names, if any. */
export interface BilledAmount extends DayAmount {
  resource?: ResourceName | null;
}

/**
 * The match values of an estimate. Our placeholders for cost without an owning team (unallocated,
 * idle capacity) are, on a bill, lines without a team label: they match those.
 */
export function estimateMatchValues(estimate: FamilyEstimate): MatchValues {
  const team = estimate.team === UNALLOCATED || estimate.team === IDLE_OWNER ? null : estimate.team;
  return { cloud: estimate.cloud, namespace: estimate.namespace, team };
}

/** A share of a bill line matched at the resource it names: the estimate it goes to, and its amount. */
export interface ResourceShare {
  estimate: FamilyEstimate;
  amount: DayAmount;
}

export interface ResourceMatch {
  /** Each line naming a resource that estimates of its day and cloud ran on, split among them. */
  matched: ResourceShare[];
  /** The other lines, as they were: matched on the configured keys. */
  rest: DayAmount[];
}

const blank = (v: string | null | undefined) => v === null || v === undefined || v === "";

/**
 * The estimates on a line's resource it goes to: those with the line's own owner (its namespace
 * and team, a missing one matching only a missing one, as on the keys: a line without a team on
 * a pool where idle capacity was estimated is that idle); where none has it, every estimate on the
 * resource that the owners the line does name allow (a node pool's line without a team: the teams
 * on the pool).
 */
function estimatesFor(line: DayAmount, on: readonly FamilyEstimate[]): FamilyEstimate[] {
  const same = (named: string | null | undefined, ours: string | null | undefined) =>
    blank(named) ? blank(ours) : named === ours;
  const allows = (named: string | null | undefined, ours: string | null | undefined) =>
    blank(named) || named === ours;
  const owned = on.map((e) => ({ e, owner: estimateMatchValues(e) }));
  const exact = owned.filter(
    ({ owner }) => same(line.key.namespace, owner.namespace) && same(line.key.team, owner.team),
  );
  const chosen =
    exact.length > 0
      ? exact
      : owned.filter(
          ({ owner }) => allows(line.key.namespace, owner.namespace) && allows(line.key.team, owner.team),
        );
  return chosen.map(({ e }) => e);
}

/**
 * The bill at its own grain: a line naming a resource (cluster, node pool, node) that estimates of
 * the same day and cloud ran on is split among those of them it goes to (estimatesFor) by their
 * (positive) estimated share, largest remainder so every nano is handed out, and each share takes
 * its estimate's namespace and team (the line's other keys, account and service, stay); lines of
 * the same day, key and resource are summed first and split once. A line whose resource no
 * estimate names, or that names none, stays whole for the configured keys.
 */
export function matchResources(
  billed: readonly BilledAmount[],
  estimates: readonly FamilyEstimate[],
): ResourceMatch {
  const byDayCloud = Map.groupBy(
    estimates.filter((e) => e.nanos > 0n),
    (e) => `${e.day}|${e.cloud}`,
  );
  const rest: DayAmount[] = [];
  // A resource's lines of one day and key (its SKUs, its hours) are split once, as their sum.
  const named = new Map<string, { amount: DayAmount; resource: ResourceName }>();
  for (const { resource, ...amount } of billed) {
    if (resource === null || resource === undefined) {
      rest.push(amount);
      continue;
    }
    const id = JSON.stringify([amount.day, amount.key, resource]);
    const sum = named.get(id);
    if (sum === undefined) named.set(id, { amount: { ...amount }, resource });
    else sum.amount.nanos += amount.nanos;
  }
  const matched: ResourceShare[] = [];
  for (const { amount, resource } of named.values()) {
    const day = byDayCloud.get(`${amount.day}|${amount.key.cloud ?? ""}`) ?? [];
    const on = estimatesFor(
      amount,
      day.filter((e) => runsOn(e, resource)),
    );
    if (on.length === 0) {
      rest.push(amount);
      continue;
    }
    const shares = splitByWeights(
      amount.nanos,
      on.map((e) => e.nanos),
    );
    on.forEach((estimate, i) => {
      const { namespace, team } = estimateMatchValues(estimate);
      matched.push({
        estimate,
        amount: { day: amount.day, key: { ...amount.key, namespace, team }, nanos: shares[i] ?? 0n },
      });
    });
  }
  return { matched, rest };
}

/**
 * A bill line that names a namespace but no team (EKS split cost allocation's `aws:eks:namespace`
 * with no owner tag, GKE's `k8s-namespace` alone) belongs to the team whose estimates run in that
 * namespace, that day and cloud, when exactly one team's do.
 */
export function ownersFromNamespaces(
  billed: readonly DayAmount[],
  estimates: readonly FamilyEstimate[],
): DayAmount[] {
  const teams = new Map<string, Set<string>>();
  for (const e of estimates) {
    const team = estimateMatchValues(e).team;
    if (e.namespace === null || team === null || team === undefined) continue;
    const id = `${e.day}|${e.cloud}|${e.namespace}`;
    teams.set(id, (teams.get(id) ?? new Set()).add(team));
  }
  return billed.map((b) => {
    if (b.key.team !== null && b.key.team !== undefined) return b;
    if (b.key.namespace === null || b.key.namespace === undefined) return b;
    const owners = teams.get(`${b.day}|${b.key.cloud ?? ""}|${b.key.namespace}`);
    if (owners?.size !== 1) return b;
    return { ...b, key: { ...b.key, team: [...owners][0] ?? null } };
  });
}
