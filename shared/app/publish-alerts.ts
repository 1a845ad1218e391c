import { type Alert, alertToJson } from "#domain/alerts/alert.ts";
import type { AlertClaims } from "#ports/alert-claims.ts";
import type { Bus, BusMessage } from "#ports/bus.ts";
import type { Logger } from "#ports/logger.ts";

export interface PublishedAlert {
  key: string;
  kind: Alert["kind"];
  severity: Alert["severity"];
}

export interface ClaimedPublish {
  published: PublishedAlert[];
  /** Alerts whose key an earlier run had claimed. */
  alreadySent: number;
}

/** Thrown when alerts were claimed but the bus refused them; they are logged whole for a replay. */
export class AlertPublishError extends Error {
  override readonly name = "AlertPublishError";
}

function alertMessage(alert: Alert): BusMessage {
  return {
    data: Buffer.from(alertToJson(alert)),
    attributes: { kind: alert.kind, severity: alert.severity, idempotency_key: alert.idempotency_key },
  };
}

/**
 * Claims each alert's idempotency key and publishes, in one call, the alerts whose claim this caller
 * won: an alert goes out once across re-runs, overlapping runs and restarts.
 */
export async function claimAndPublish(
  alerts: readonly Alert[],
  deps: { claims: AlertClaims; bus: Bus; topic: string; logger: Logger },
): Promise<ClaimedPublish> {
  const fresh: Alert[] = [];
  let alreadySent = 0;
  for (const alert of alerts) {
    if (await deps.claims.claim(alert.idempotency_key)) fresh.push(alert);
    else alreadySent += 1;
  }
  if (fresh.length > 0) {
    try {
      await deps.bus.publish(deps.topic, fresh.map(alertMessage));
    } catch (error) {
      // The keys are claimed: later runs will not send these again. Log them whole for a replay.
      deps.logger.error("alerts claimed but not published", {
        topic: deps.topic,
        alerts: fresh.map(alertToJson),
        error: (error as Error).message,
      });
      throw new AlertPublishError(`${fresh.length} alert(s) claimed but not published; see the error log`, {
        cause: error,
      });
    }
  }
  return {
    published: fresh.map((a) => ({ key: a.idempotency_key, kind: a.kind, severity: a.severity })),
    alreadySent,
  };
}
