import { type BilledLine, type BillingDay, isBillingDay } from "#domain/billing/billed-line.ts";
import { type PortErrorCode, SourceError } from "./port-error.ts";

export type { BilledLine, BillingDay } from "#domain/billing/billed-line.ts";

/** Half-open range of UTC days [start, end): `end` is exclusive, as in Cost Explorer and FOCUS. */
export interface BillingPeriod {
  start: BillingDay;
  end: BillingDay;
}

/** Where billed (invoiced) costs come from: a cloud's billing API or export, or a FOCUS file. */
export interface BillingSource {
  /**
   * The billed cost of the period's days as day lines, normalized to FOCUS columns, amounts exact:
   * a charge over several days is spread over them, and only its days inside the period are
   * answered. Bills change for days after the fact: a later call may answer differently.
   */
  billedLines(period: BillingPeriod): Promise<BilledLine[]>;
}

/**
 * `unavailable`: transient (throttling, network, the service failing); a later call may work.
 * `invalid`: the request or the answer is wrong (bad period, access denied, a malformed row).
 */
export type BillingSourceErrorCode = PortErrorCode;

export class BillingSourceError extends SourceError {
  override readonly name = "BillingSourceError";
}

/** Throws an `invalid` BillingSourceError unless the period is two valid days with start < end. */
export function checkBillingPeriod(period: BillingPeriod): void {
  if (!(isBillingDay(period.start) && isBillingDay(period.end) && period.start < period.end)) {
    throw new BillingSourceError(
      "invalid",
      `billing period must be days with start < end, got ${JSON.stringify(period)}`,
    );
  }
}
