import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type BilledLine, ownerColumns } from "#domain/billing/billed-line.ts";
import { spreadLine, spreadOverDays } from "#domain/billing/charge-spread.ts";

const at = (iso: string) => new Date(iso);

describe("spreading a charge over the days of its period", () => {
  it("gives each UTC day the share of the period's time it holds, every nano handed out", () => {
    // Noon to noon over three days: 12 h, 24 h, 12 h of 48 h.
    expect(
      spreadOverDays(at("2026-05-01T12:00:00Z"), at("2026-05-03T12:00:00Z"), [4_000_000_001n, -8n]),
    ).toEqual([
      { day: "2026-05-01", amounts: [1_000_000_000n, -2n] },
      { day: "2026-05-02", amounts: [2_000_000_001n, -4n] },
      { day: "2026-05-03", amounts: [1_000_000_000n, -2n] },
    ]);
    // An hour stays on its day; a period with no length is all its start day's.
    expect(spreadOverDays(at("2026-05-01T22:00:00Z"), at("2026-05-01T23:00:00Z"), [5n])).toEqual([
      { day: "2026-05-01", amounts: [5n] },
    ]);
    expect(spreadOverDays(at("2026-05-01T09:30:00Z"), at("2026-05-01T09:30:00Z"), [7n])).toEqual([
      { day: "2026-05-01", amounts: [7n] },
    ]);
  });

  it("conserves every amount exactly and hands each day its time's share to within a nano", () => {
    const hour = 3_600_000;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 24 * 70 }),
        fc.integer({ min: 1, max: 24 * 62 }),
        fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
        (startHour, hours, amount) => {
          const start = new Date(Date.UTC(2026, 0, 1) + startHour * hour);
          const end = new Date(start.getTime() + hours * hour);
          const shares = spreadOverDays(start, end, [amount]);
          expect(shares.reduce((sum, s) => sum + (s.amounts[0] ?? 0n), 0n)).toBe(amount);
          for (const share of shares) {
            const dayStart = Date.parse(`${share.day}T00:00:00Z`);
            const held = Math.min(end.getTime(), dayStart + 24 * hour) - Math.max(start.getTime(), dayStart);
            const exact = (amount * BigInt(held)) / BigInt(hours * hour);
            const part = share.amounts[0] ?? 0n;
            expect(part - exact >= -1n && part - exact <= 1n).toBe(true);
          }
        },
      ),
    );
  });

  it("spreads a line over several days evenly, each day remembering the whole charge's days", () => {
    const month: BilledLine = {
      ChargePeriodStart: "2026-05-01",
      ChargePeriodEnd: "2026-06-01",
      ChargeCategory: "Usage",
      ChargeClass: null,
      ChargeFrequency: "Recurring",
      ProviderName: "AWS",
      BillingAccountId: "1",
      SubAccountId: null,
      ServiceName: "Amazon Simple Storage Service",
      BilledCost: 620_000_000_000n,
      EffectiveCost: 31n,
      BillingCurrency: "USD",
      Tags: { Owner: "data" },
      ...ownerColumns({ Owner: "data" }, "AWS"),
    };
    const days = spreadLine(month);
    expect(days).toHaveLength(31);
    expect(days.every((d) => d.BilledCost === 20_000_000_000n && d.EffectiveCost === 1n)).toBe(true);
    expect(days[30]).toMatchObject({
      ChargePeriodStart: "2026-05-31",
      ChargePeriodEnd: "2026-06-01",
      x_ChargeStartDay: "2026-05-01",
      x_ChargeEndDay: "2026-06-01",
      x_team: "data",
    });
    const day = { ...month, ChargePeriodEnd: "2026-05-02" };
    expect(spreadLine(day)).toEqual([day]);
  });
});
