import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addDays } from "#domain/billing/billed-line.ts";
import { decimalToNanos } from "#domain/money.ts";
import {
  estimateMatchValues,
  type FamilyEstimate,
  matchResources,
} from "#domain/reconciliation/bill-grain.ts";
import {
  type BilledDayLine,
  billedAmounts,
  cloudOfProvider,
} from "#domain/reconciliation/billed-day-line.ts";
import type { DayAmount } from "#domain/reconciliation/drift-table.ts";
import { ratio } from "#domain/reconciliation/ratio.ts";
import { calibrationHistory, reconcileDays } from "#domain/reconciliation/reconcile-days.ts";

const u = decimalToNanos;
const KEYS = ["cloud", "namespace", "team"] as const;

function estimate(day: string, family: string | null, usd: string, over: Partial<FamilyEstimate> = {}) {
  return { day, cloud: "gcp", namespace: "search", team: "search", family, nanos: u(usd), ...over };
}

function bill(day: string, usd: string, key: DayAmount["key"] = {}): DayAmount {
  return { day, key: { cloud: "gcp", namespace: "search", team: "search", ...key }, nanos: u(usd) };
}

const CALIBRATION = { lookbackDays: 7, minDays: 1 };

describe("estimateMatchValues", () => {
  it("matches our placeholder owners (unallocated, idle) with bill lines that carry no team", () => {
    expect(estimateMatchValues(estimate("2026-11-01", null, "1", { team: "unallocated" }))).toEqual({
      cloud: "gcp",
      namespace: "search",
      team: null,
    });
    expect(
      estimateMatchValues(estimate("2026-11-01", null, "1", { team: "idle", namespace: null })).team,
    ).toBe(null);
    expect(estimateMatchValues(estimate("2026-11-01", null, "1")).team).toBe("search");
  });
});

describe("calibrationHistory", () => {
  it("hands each key's bill to the families of its estimate in proportion, every nano", () => {
    const history = calibrationHistory(
      [
        estimate("2026-11-01", "nvidia-l4", "1"),
        estimate("2026-11-01", "nvidia-tesla-a100", "2"),
        estimate("2026-11-01", "nvidia-l4", "3", { team: "ads" }),
      ],
      [bill("2026-11-01", "3.000000001"), bill("2026-11-01", "2.5", { team: "ads" })],
      KEYS,
    );
    expect(history).toEqual([
      { day: "2026-11-01", cloud: "gcp", family: "nvidia-l4", estimated: u("1"), billed: 1_000_000_000n },
      {
        day: "2026-11-01",
        cloud: "gcp",
        family: "nvidia-tesla-a100",
        estimated: u("2"),
        billed: 2_000_000_001n,
      },
      { day: "2026-11-01", cloud: "gcp", family: "nvidia-l4", estimated: u("3"), billed: u("2.5") },
    ]);
  });

  it("teaches nothing from unattributed bill lines or from a day whose cloud has no bill", () => {
    const history = calibrationHistory(
      [estimate("2026-11-01", "nvidia-l4", "1"), estimate("2026-11-01", "p3.2xlarge", "5", { cloud: "aws" })],
      [bill("2026-11-01", "1.1"), bill("2026-11-01", "40", { namespace: null, team: null })],
      KEYS,
    );
    expect(history).toEqual([
      { day: "2026-11-01", cloud: "gcp", family: "nvidia-l4", estimated: u("1"), billed: u("1.1") },
    ]);
  });

  it("hands out exactly the bill of every key with a positive estimate, nothing to the others (property)", () => {
    // Each team's families are its own, so the history says which key each share came from.
    const teamEstimate = fc.record({
      team: fc.constantFrom("t1", "t2"),
      family: fc.constantFrom("a", "b", "c"),
      nanos: fc.bigInt({ min: -5n, max: 10n ** 12n }),
    });
    const teamBill = fc.record({
      team: fc.constantFrom("t1", "t2"),
      nanos: fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
    });
    fc.assert(
      fc.property(
        fc.array(teamEstimate, { maxLength: 12 }),
        fc.array(teamBill, { maxLength: 6 }),
        (estimates, bills) => {
          const day = "2026-11-02";
          const history = calibrationHistory(
            estimates.map((e) => ({
              day,
              cloud: "gcp",
              namespace: null,
              team: e.team,
              family: `${e.team}-${e.family}`,
              nanos: e.nanos,
            })),
            bills.map((b) => ({ day, key: { cloud: "gcp", namespace: null, team: b.team }, nanos: b.nanos })),
            KEYS,
          );
          for (const team of ["t1", "t2"]) {
            const mine = history.filter((h) => h.family.startsWith(`${team}-`));
            // Only a day on which the cloud has a bill line teaches anything.
            const positive = bills.length > 0 && estimates.some((e) => e.team === team && e.nanos > 0n);
            const billed = bills.filter((b) => b.team === team).reduce((s, b) => s + b.nanos, 0n);
            expect(mine.length).toBe(positive ? estimates.filter((e) => e.team === team).length : 0);
            if (positive) expect(mine.reduce((s, h) => s + h.billed, 0n)).toBe(billed);
            for (const h of mine) if (h.estimated <= 0n) expect(h.billed).toBe(0n);
          }
        },
      ),
    );
  });
});

describe("reconcileDays", () => {
  const estimates: FamilyEstimate[] = [
    estimate("2026-11-01", "nvidia-tesla-a100", "100"),
    estimate("2026-11-02", "nvidia-tesla-a100", "100"),
    estimate("2026-11-03", "nvidia-tesla-a100", "200"),
    estimate("2026-11-03", null, "10", { team: "idle", namespace: null }),
    estimate("2026-11-03", "p3.2xlarge", "7", { cloud: "aws" }),
  ];
  const billed: DayAmount[] = [
    bill("2026-11-01", "105"),
    bill("2026-11-02", "104"),
    bill("2026-11-03", "209"),
    bill("2026-11-03", "12", { namespace: null, team: null }),
    bill("2026-11-03", "1", { namespace: "gone", team: "old-team" }),
  ];

  it("compares each day's estimate with its bill, and calibrates it by the days before only", () => {
    const [first, second, third] = reconcileDays({
      days: ["2026-11-03", "2026-11-01", "2026-11-02"],
      estimates,
      billed,
      keys: KEYS,
      calibration: CALIBRATION,
    });
    expect(first?.factors).toEqual([]);
    expect(first?.rows[0]).toMatchObject({ estimated: u("100"), reconciled: u("100"), billed: u("105") });
    expect(second?.factors.map((f) => f.factor)).toEqual([ratio(21n, 20n)]);
    expect(second?.rows[0]).toMatchObject({ reconciled: u("105"), reconciledDrift: u("-1") });

    // 11-03 learns (105 + 104) / 200 for the A100s; the idle estimate's key also holds the untagged
    // line, which teaches "other" nothing before 11-03; aws has no bill that day: left out.
    expect(third?.factors.map((f) => [f.family, f.factor])).toEqual([
      ["nvidia-tesla-a100", ratio(209n, 200n)],
    ]);
    expect(third?.unbilledClouds).toEqual(["aws"]);
    expect(third?.rows.map((r) => [r.label, r.status, r.estimated, r.reconciled, r.billed, r.drift])).toEqual(
      [
        ["cloud=gcp,namespace=search,team=search", "matched", u("200"), u("209"), u("209"), u("9")],
        ["cloud=gcp,namespace=-,team=-", "matched", u("10"), u("10"), u("12"), u("2")],
        ["cloud=gcp,namespace=gone,team=old%2Dteam", "unattributed", 0n, 0n, u("1"), u("1")],
      ],
    );
    expect(third?.totals).toMatchObject({
      estimated: u("210"),
      reconciled: u("219"),
      billed: u("222"),
      drift: u("12"),
      reconciledDrift: u("3"),
      absDrift: u("12"),
      absReconciledDrift: u("3"),
      counts: { matched: 2, unattributed: 1, "over-estimated": 0 },
    });
  });

  it("learns only from the lookback, and needs minDays billed days per family", () => {
    const [day] = reconcileDays({
      days: ["2026-11-03"],
      estimates,
      billed,
      keys: KEYS,
      calibration: { lookbackDays: 1, minDays: 1 },
    });
    expect(day?.factors.map((f) => f.days)).toEqual([["2026-11-02"]]);
    const [strict] = reconcileDays({
      days: ["2026-11-03"],
      estimates,
      billed,
      keys: KEYS,
      calibration: { lookbackDays: 7, minDays: 3 },
    });
    expect(strict?.factors).toEqual([]);
    expect(strict?.totals.reconciled).toBe(strict?.totals.estimated);
  });

  it("leaves out keys whose estimate and bill are both zero", () => {
    const [day] = reconcileDays({
      days: ["2026-11-01"],
      estimates: [estimate("2026-11-01", "nvidia-l4", "0")],
      billed: [bill("2026-11-01", "0.5"), bill("2026-11-01", "-0.5")],
      keys: KEYS,
      calibration: CALIBRATION,
    });
    expect(day?.rows).toEqual([]);
    expect(day?.totals.counts).toEqual({ matched: 0, unattributed: 0, "over-estimated": 0 });
  });
});

describe("the bill as day amounts", () => {
  const line = (over: Partial<BilledDayLine>): BilledDayLine => ({
    day: "2026-11-01",
    source: "s",
    provider: "Google Cloud",
    billingAccountId: "A",
    subAccountId: "proj",
    service: "Compute Engine",
    skuId: null,
    namespace: "ns",
    team: "t",
    model: null,
    resourceId: null,
    chargeCategory: "Usage",
    chargeClass: null,
    chargeFrequency: null,
    chargeStartDay: "2026-11-01",
    chargeEndDay: addDays("2026-11-01", 1),
    tags: {},
    costCenter: null,
    environment: null,
    billedCost: u("2"),
    effectiveCost: u("1.5"),
    currency: "USD",
    ...over,
  });

  it("names the cloud by provider (configurable), reads the cost column asked for, counts other currencies", () => {
    expect(cloudOfProvider("Google Cloud")).toBe("gcp");
    expect(cloudOfProvider("Amazon Web Services")).toBe("aws");
    expect(cloudOfProvider("Microsoft")).toBe("azure");
    expect(cloudOfProvider("Acme DC")).toBe("acme dc");
    expect(cloudOfProvider("Acme DC", { "Acme DC": "onprem" })).toBe("onprem");
    const lines = [
      line({}),
      line({ currency: "EUR" }),
      line({ provider: "AWS", namespace: null, resourceId: "i-0123456789abcdef0" }),
    ];
    expect(billedAmounts(lines, { currency: "USD", costColumn: "effective" })).toEqual({
      amounts: [
        {
          day: "2026-11-01",
          key: { cloud: "gcp", account: "proj", service: "Compute Engine", namespace: "ns", team: "t" },
          nanos: u("1.5"),
          resource: null,
        },
        {
          day: "2026-11-01",
          key: { cloud: "aws", account: "proj", service: "Compute Engine", namespace: null, team: "t" },
          nanos: u("1.5"),
          resource: { cluster: null, nodePool: null, node: "i-0123456789abcdef0" },
        },
      ],
      otherCurrency: 1,
    });
    expect(billedAmounts(lines, { currency: "USD", costColumn: "billed" }).amounts[0]?.nanos).toBe(u("2"));
  });
});

describe("the bill at its own grain", () => {
  it("gives a bill line that names only a namespace the one team whose estimates run there", () => {
    const [day] = reconcileDays({
      days: ["2026-11-01"],
      estimates: [
        estimate("2026-11-01", "nvidia-l4", "10"),
        estimate("2026-11-01", "nvidia-l4", "5", { namespace: "shared", team: "a" }),
        estimate("2026-11-01", "nvidia-l4", "5", { namespace: "shared", team: "b" }),
        estimate("2026-11-01", null, "1", { namespace: "idle-ns", team: "idle" }),
      ],
      billed: [
        bill("2026-11-01", "10.5", { team: null }),
        bill("2026-11-01", "9", { namespace: "shared", team: null }),
        bill("2026-11-01", "1", { namespace: "idle-ns", team: null }),
      ],
      keys: KEYS,
      calibration: CALIBRATION,
    });
    expect(day?.rows.map((r) => [r.label, r.status, r.billed])).toEqual([
      ["cloud=gcp,namespace=shared,team=-", "unattributed", u("9")],
      ["cloud=gcp,namespace=shared,team=a", "over-estimated", 0n],
      ["cloud=gcp,namespace=shared,team=b", "over-estimated", 0n],
      ["cloud=gcp,namespace=search,team=search", "matched", u("10.5")],
      ["cloud=gcp,namespace=idle%2Dns,team=-", "matched", u("1")],
    ]);
  });

  const pool = { cluster: "serving", nodePool: "l4-pool", node: null };
  const onPool = (usd: string, over: Partial<FamilyEstimate>) =>
    estimate("2026-11-01", "nvidia-l4", usd, { cluster: "serving", nodePool: "l4-pool", ...over });

  it("splits a line naming a node pool among the teams on it by their estimates, every nano", () => {
    const [day] = reconcileDays({
      days: ["2026-11-01"],
      estimates: [
        onPool("1", { namespace: "a", team: "a", node: "n1" }),
        onPool("2", { namespace: "b", team: "b", node: "n2" }),
        estimate("2026-11-01", "nvidia-l4", "5", { cluster: "serving", nodePool: "other-pool", team: "c" }),
      ],
      billed: [
        { ...bill("2026-11-01", "3.000000001", { namespace: null, team: null }), resource: pool },
        bill("2026-11-01", "5", { team: "c" }),
      ],
      keys: KEYS,
      calibration: CALIBRATION,
    });
    expect(day?.rows.map((r) => [r.label, r.status, r.estimated, r.billed])).toEqual([
      ["cloud=gcp,namespace=b,team=b", "matched", u("2"), 2_000_000_001n],
      ["cloud=gcp,namespace=a,team=a", "matched", u("1"), 1_000_000_000n],
      ["cloud=gcp,namespace=search,team=c", "matched", u("5"), u("5")],
    ]);
  });

  it("gives a resource's line the estimates on it with the line's own owner first: its idle, its team", () => {
    const [day] = reconcileDays({
      days: ["2026-11-01"],
      estimates: [
        onPool("1", { namespace: "a", team: "a" }),
        onPool("2", { namespace: "b", team: "b" }),
        onPool("3", { namespace: null, team: "idle" }),
      ],
      billed: [
        { ...bill("2026-11-01", "3.3", { namespace: null, team: null }), resource: pool },
        { ...bill("2026-11-01", "1.1", { namespace: null, team: "a" }), resource: pool },
      ],
      keys: KEYS,
      calibration: CALIBRATION,
    });
    expect(day?.rows.map((r) => [r.label, r.billed])).toEqual([
      ["cloud=gcp,namespace=b,team=b", 0n],
      ["cloud=gcp,namespace=-,team=-", u("3.3")],
      ["cloud=gcp,namespace=a,team=a", u("1.1")],
    ]);
  });

  it("matches a line naming a node at that node only, and one whose resource no estimate names on its keys", () => {
    const [day] = reconcileDays({
      days: ["2026-11-01"],
      estimates: [onPool("1", { team: "a", node: "n1" }), onPool("3", { team: "b", node: "n2" })],
      billed: [
        { ...bill("2026-11-01", "2", { team: null }), resource: { ...pool, node: "n2" } },
        { ...bill("2026-11-01", "7", { team: "a" }), resource: { ...pool, cluster: "gone" } },
      ],
      keys: KEYS,
      calibration: CALIBRATION,
    });
    expect(day?.rows.map((r) => [r.label, r.billed])).toEqual([
      ["cloud=gcp,namespace=search,team=a", u("7")],
      ["cloud=gcp,namespace=search,team=b", u("2")],
    ]);
  });

  it("teaches each family the bill of its own resource, not its key's blend", () => {
    const shared = { namespace: "fraud", team: "trust" };
    const history = matchResources(
      [
        { ...bill("2026-11-01", "9.6", shared), resource: { ...pool, nodePool: "g4dn" } },
        { ...bill("2026-11-01", "5.1", shared), resource: { ...pool, nodePool: "p3" } },
      ],
      [
        estimate("2026-11-01", "g4dn.xlarge", "10", { ...shared, cluster: "serving", nodePool: "g4dn" }),
        estimate("2026-11-01", "p3.2xlarge", "5", { ...shared, cluster: "serving", nodePool: "p3" }),
      ],
    );
    expect(history.rest).toEqual([]);
    const [g4dn, p3] = history.matched.map((m) => m.estimate);
    expect(
      calibrationHistory(g4dn && p3 ? [g4dn, p3] : [], [], KEYS, history.matched).map((h) => [
        h.family,
        h.billed,
      ]),
    ).toEqual([
      ["g4dn.xlarge", u("9.6")],
      ["p3.2xlarge", u("5.1")],
    ]);
  });

  it("teaches a key's other lines to its estimates no resource's line reached", () => {
    const shared = { namespace: "fraud", team: "trust" };
    const g4dn = estimate("2026-11-01", "g4dn.xlarge", "10", {
      ...shared,
      cluster: "serving",
      nodePool: "g4dn",
    });
    const p3 = estimate("2026-11-01", "p3.2xlarge", "5", shared);
    const grain = matchResources(
      [
        { ...bill("2026-11-01", "9.6", shared), resource: { ...pool, nodePool: "g4dn" } },
        bill("2026-11-01", "5.1", shared),
      ],
      [g4dn, p3],
    );
    expect(
      calibrationHistory([g4dn, p3], grain.rest, KEYS, grain.matched).map((h) => [h.family, h.billed]),
    ).toEqual([
      ["g4dn.xlarge", u("9.6")],
      ["p3.2xlarge", u("5.1")],
    ]);
  });

  it("hands out every nano of the bill, to estimates on the pool a line names or on its keys (property)", () => {
    const pools = ["p0", "p1", "p2"];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...pools), fc.constantFrom("a", "b"), fc.bigInt(0n, 10n ** 12n)), {
          maxLength: 6,
        }),
        fc.array(fc.tuple(fc.constantFrom(...pools, null), fc.bigInt(-(10n ** 12n), 10n ** 12n)), {
          maxLength: 6,
        }),
        (ests, lines) => {
          const estimates = ests.map(([nodePool, team, nanos]) => ({
            ...estimate("2026-11-01", "nvidia-l4", "0", { cluster: "serving", nodePool, team }),
            nanos,
          }));
          const billed = lines.map(([nodePool, nanos]) => ({
            day: "2026-11-01",
            key: { cloud: "gcp", namespace: null, team: null },
            nanos,
            resource: nodePool === null ? null : { ...pool, nodePool },
          }));
          const { matched, rest } = matchResources(billed, estimates);
          const total = (xs: readonly { nanos: bigint }[]) => xs.reduce((s, x) => s + x.nanos, 0n);
          expect(total(matched.map((m) => m.amount)) + total(rest)).toBe(total(billed));
          for (const { estimate: e } of matched) {
            expect(e.nanos).toBeGreaterThan(0n);
            expect(lines.some(([nodePool]) => nodePool === e.nodePool)).toBe(true);
          }
        },
      ),
    );
  });
});
