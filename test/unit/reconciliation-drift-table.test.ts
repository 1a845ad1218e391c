import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decimalToNanos } from "#domain/money.ts";
import { type DayAmount, driftTable, topContributors } from "#domain/reconciliation/drift-table.ts";
import { MATCH_KEYS } from "#domain/reconciliation/match-key.ts";
import { formatPercent, ratio } from "#domain/reconciliation/ratio.ts";

const u = decimalToNanos;
const DAY = "2026-11-08";
const KEYS = ["cloud", "account", "service"] as const;

/** The worked example: a matched key with 5% drift, an unattributed bill, an estimate with no bill. */
const estimates: DayAmount[] = [
  {
    day: DAY,
    key: { cloud: "gcp", account: "proj-a", service: "Compute Engine", team: "ml" },
    nanos: u("60"),
  },
  {
    day: DAY,
    key: { cloud: "gcp", account: "proj-a", service: "Compute Engine", team: "search" },
    nanos: u("35"),
  },
  { day: DAY, key: { cloud: "aws", account: "111122223333", service: "AmazonSageMaker" }, nanos: u("7.5") },
];
const billed: DayAmount[] = [
  { day: DAY, key: { cloud: "gcp", account: "proj-a", service: "Compute Engine" }, nanos: u("100") },
  { day: DAY, key: { cloud: "gcp", account: "proj-a", service: "Cloud Storage" }, nanos: u("12.34") },
];

describe("driftTable", () => {
  it("reconciles the worked example day to the exact expected table", () => {
    const table = driftTable(estimates, billed, { keys: KEYS });
    expect(table).toEqual({
      keys: ["cloud", "account", "service"],
      rows: [
        {
          day: DAY,
          key: { cloud: "gcp", account: "proj-a", service: "Cloud Storage" },
          label: "cloud=gcp,account=proj%2Da,service=Cloud%20Storage",
          estimated: 0n,
          billed: 12_340_000_000n,
          drift: 12_340_000_000n,
          relative: { num: 1n, den: 1n },
          relativePercent: "100.00",
          status: "unattributed",
        },
        {
          day: DAY,
          key: { cloud: "aws", account: "111122223333", service: "AmazonSageMaker" },
          label: "cloud=aws,account=111122223333,service=AmazonSageMaker",
          estimated: 7_500_000_000n,
          billed: 0n,
          drift: -7_500_000_000n,
          relative: null,
          relativePercent: null,
          status: "over-estimated",
        },
        {
          day: DAY,
          key: { cloud: "gcp", account: "proj-a", service: "Compute Engine" },
          label: "cloud=gcp,account=proj%2Da,service=Compute%20Engine",
          estimated: 95_000_000_000n,
          billed: 100_000_000_000n,
          drift: 5_000_000_000n,
          relative: { num: 1n, den: 20n },
          relativePercent: "5.00",
          status: "matched",
        },
      ],
      totals: {
        estimated: 102_500_000_000n,
        billed: 112_340_000_000n,
        drift: 9_840_000_000n,
        relative: { num: 12n, den: 137n },
        relativePercent: "8.76",
        counts: { matched: 1, unattributed: 1, "over-estimated": 1 },
      },
    });
  });

  it("gives identical output on a re-run and on shuffled inputs", () => {
    const first = driftTable(estimates, billed, { keys: KEYS });
    expect(driftTable(estimates, billed, { keys: KEYS })).toEqual(first);
    expect(driftTable([...estimates].reverse(), [...billed].reverse(), { keys: KEYS })).toEqual(first);
  });

  it("matches on any subset of keys; a missing value matches only other missing values", () => {
    const byTeam = driftTable(estimates, billed, { keys: ["team"] });
    expect(byTeam.rows.map((r) => [r.label, r.estimated, r.billed, r.status])).toEqual([
      ["team=-", u("7.5"), u("112.34"), "matched"],
      ["team=ml", u("60"), 0n, "over-estimated"],
      ["team=search", u("35"), 0n, "over-estimated"],
    ]);
    const byCloud = driftTable(estimates, billed, { keys: ["cloud"] });
    expect(byCloud.rows.map((r) => [r.label, r.drift, r.relativePercent])).toEqual([
      ["cloud=gcp", u("17.34"), formatPercent(ratio(1734n, 11234n))],
      ["cloud=aws", u("-7.5"), null],
    ]);
  });

  it("keeps days apart", () => {
    const table = driftTable(
      [{ day: "2026-11-07", key: { cloud: "gcp" }, nanos: 10n }],
      [{ day: "2026-11-08", key: { cloud: "gcp" }, nanos: 10n }],
      { keys: ["cloud"] },
    );
    expect(table.rows.map((r) => [r.day, r.status])).toEqual([
      ["2026-11-07", "over-estimated"],
      ["2026-11-08", "unattributed"],
    ]);
    expect(table.totals.drift).toBe(0n);
  });

  it("rejects bad keys and bad days", () => {
    expect(() => driftTable([], [], { keys: [] })).toThrow(RangeError);
    expect(() => driftTable([], [], { keys: ["cloud", "cloud"] })).toThrow(RangeError);
    expect(() => driftTable([{ day: "2026-11-8", key: {}, nanos: 1n }], [], { keys: ["cloud"] })).toThrow(
      RangeError,
    );
  });

  it("lists top contributors by |drift|, skipping rows without drift", () => {
    const table = driftTable(estimates, billed, { keys: KEYS });
    expect(topContributors(table.rows, 2).map((r) => r.status)).toEqual(["unattributed", "over-estimated"]);
    const even = driftTable(
      [{ day: DAY, key: { cloud: "gcp" }, nanos: 5n }],
      [{ day: DAY, key: { cloud: "gcp" }, nanos: 5n }],
      {
        keys: ["cloud"],
      },
    );
    expect(topContributors(even.rows)).toEqual([]);
  });

  it("property: totals equal the sums of the inputs exactly, and rows sum to the totals", () => {
    const value = fc.constantFrom("a", "b", "", "a-b");
    const amount = fc.record({
      day: fc.constantFrom("2026-11-01", "2026-11-02"),
      key: fc.record({ cloud: value, account: value, service: value, namespace: value, team: value }),
      nanos: fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
    });
    fc.assert(
      fc.property(
        fc.array(amount, { maxLength: 30 }),
        fc.array(amount, { maxLength: 30 }),
        fc.subarray([...MATCH_KEYS], { minLength: 1 }),
        (est, bill, keys) => {
          const table = driftTable(est, bill, { keys });
          const sum = (xs: DayAmount[]) => xs.reduce((a, x) => a + x.nanos, 0n);
          expect(table.totals.estimated).toBe(sum(est));
          expect(table.totals.billed).toBe(sum(bill));
          expect(table.totals.drift).toBe(sum(bill) - sum(est));
          expect(table.rows.reduce((a, r) => a + r.drift, 0n)).toBe(table.totals.drift);
          for (let i = 1; i < table.rows.length; i++) {
            const prev = table.rows[i - 1]?.drift ?? 0n;
            const cur = table.rows[i]?.drift ?? 0n;
            expect((prev < 0n ? -prev : prev) >= (cur < 0n ? -cur : cur)).toBe(true);
          }
        },
      ),
    );
  });
});
