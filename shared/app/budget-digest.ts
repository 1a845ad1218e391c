import { type Alert, alertToJson } from "#domain/alerts/alert.ts";
import type { Budget } from "#domain/budgets/budget-config.ts";
import { buildDigestAlert, digestEntry, isoWeek, teamDigests } from "#domain/budgets/budget-digest.ts";
import { type BudgetPeriod, HOUR_MS, periodAt, previousPeriod } from "#domain/budgets/budget-period.ts";
import { spendIn, unionDimensions } from "#domain/budgets/budget-spend.ts";
import type { Nanos } from "#domain/money.ts";
import type { AlertClaims } from "#ports/alert-claims.ts";
import { type Bus, type BusMessage, TOPICS } from "#ports/bus.ts";
import type { Clock } from "#ports/clock.ts";
import { type Logger, silentLogger } from "#ports/logger.ts";
import type { Warehouse } from "#ports/warehouse.ts";

export interface BudgetDigestDeps {
  warehouse: Warehouse;
  bus: Bus;
  claims: AlertClaims;
  budgets: readonly Budget[];
  clock: Clock;
  logger?: Logger;
  /** Where digests go; the alerts topic unless told. */
  alertsTopic?: string;
}

export interface SentDigest {
  team: string;
  key: string;
  severity: Alert["severity"];
  /** Budget names approaching their limit now, and that overran last period. */
  approaching: string[];
  overran: string[];
}

export interface BudgetDigestResult {
  sentAt: Date;
  /** ISO week of the run in UTC, e.g. "2026-W48": the digests' idempotency keys name it. */
  week: string;
  budgets: number;
  /** Digests claimed and published by this run, one per team with something to report. */
  sent: SentDigest[];
  /** Teams with something to report whose digest for the week an earlier run already sent. */
  alreadySent: string[];
}

export interface BudgetDigest {
  /**
   * Reads every budget's spend in its current and previous period from the hourly rollup, and
   * publishes one `budget.digest` alert per owner team with budgets approaching their limit or that
   * overran last period, at most once per team per ISO week (the key is claimed first).
   */
  send(): Promise<BudgetDigestResult>;
}

export type BudgetDigestErrorCode = "publish_failed";

export class BudgetDigestError extends Error {
  override readonly name = "BudgetDigestError";
  readonly code: BudgetDigestErrorCode;
  constructor(code: BudgetDigestErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;

export function createBudgetDigest({
  warehouse,
  bus,
  claims,
  budgets,
  clock,
  logger = silentLogger,
  alertsTopic = TOPICS.alerts,
}: BudgetDigestDeps): BudgetDigest {
  /** Spend of each (budget, range) pair; one report per distinct hour range. */
  async function spendOver(
    wanted: readonly { budget: Budget; from: Date; to: Date }[],
  ): Promise<Map<string, Nanos>> {
    const ranges = new Map<string, { from: Date; to: Date; budgets: Budget[] }>();
    for (const { budget, from, to } of wanted) {
      const key = `${from.getTime()}/${to.getTime()}`;
      const range = ranges.get(key) ?? { from, to, budgets: [] };
      range.budgets.push(budget);
      ranges.set(key, range);
    }
    const spend = new Map<string, Nanos>();
    for (const [key, range] of ranges) {
      const rows =
        range.to.getTime() > range.from.getTime()
          ? await warehouse.report({
              by: unionDimensions(range.budgets),
              from: range.from,
              to: range.to,
              reads: "rollup",
            })
          : [];
      for (const budget of range.budgets) spend.set(`${budget.name}@${key}`, spendIn(budget, rows));
    }
    return spend;
  }

  function message(alert: Alert): BusMessage {
    return {
      data: Buffer.from(alertToJson(alert)),
      attributes: { kind: alert.kind, severity: alert.severity, idempotency_key: alert.idempotency_key },
    };
  }

  return {
    async send() {
      const now = clock.now();
      const currentHourEnd = floorHour(now.getTime()) + HOUR_MS;
      const periods = budgets.map((budget) => {
        const current = periodAt(budget.period, now, budget.timeZone);
        return {
          budget,
          current,
          currentTo: new Date(Math.min(currentHourEnd, current.hoursTo.getTime())),
          previous: previousPeriod(current),
        };
      });
      const rangeKey = (budget: Budget, from: Date, to: Date) =>
        `${budget.name}@${from.getTime()}/${to.getTime()}`;
      const spend = await spendOver(
        periods.flatMap(({ budget, current, currentTo, previous }) => [
          { budget, from: current.hoursFrom, to: currentTo },
          { budget, from: previous.hoursFrom, to: previous.hoursTo },
        ]),
      );
      const at = (budget: Budget, period: BudgetPeriod, to: Date) => ({
        period,
        spend_nanos: spend.get(rangeKey(budget, period.hoursFrom, to)) ?? 0n,
      });
      const digests = teamDigests(
        periods.map(({ budget, current, currentTo, previous }) => ({
          owner: budget.owner,
          entry: digestEntry(
            budget,
            at(budget, current, currentTo),
            at(budget, previous, previous.hoursTo),
            now,
          ),
        })),
      );

      const result: BudgetDigestResult = {
        sentAt: now,
        week: isoWeek(now),
        budgets: budgets.length,
        sent: [],
        alreadySent: [],
      };
      const failures: Error[] = [];
      for (const digest of digests) {
        const alert = buildDigestAlert(digest, now);
        if (!alert) continue;
        if (!(await claims.claim(alert.idempotency_key))) {
          result.alreadySent.push(digest.team);
          continue;
        }
        try {
          await bus.publish(alertsTopic, [message(alert)]);
          result.sent.push({
            team: digest.team,
            key: alert.idempotency_key,
            severity: alert.severity,
            approaching: digest.approaching.map((a) => a.budget),
            overran: digest.overruns.map((o) => o.budget),
          });
          logger.info("budget digest published", { key: alert.idempotency_key, severity: alert.severity });
        } catch (error) {
          // The key is claimed: a later run this week will not send it. Log it whole for a replay.
          logger.error("budget digest claimed but not published", {
            team: digest.team,
            topic: alertsTopic,
            alert: alertToJson(alert),
            error: (error as Error).message,
          });
          failures.push(error as Error);
        }
      }
      if (failures.length > 0) {
        throw new BudgetDigestError(
          "publish_failed",
          `${failures.length} digest publish(es) failed after their keys were claimed; see the error log for the alerts`,
          { cause: new AggregateError(failures) },
        );
      }
      return result;
    },
  };
}

/** The scheduled function's answer body. */
export function budgetDigestResultToJson(result: BudgetDigestResult) {
  return {
    sent_at: result.sentAt.toISOString(),
    week: result.week,
    budgets: result.budgets,
    sent: result.sent,
    already_sent: result.alreadySent,
  };
}
