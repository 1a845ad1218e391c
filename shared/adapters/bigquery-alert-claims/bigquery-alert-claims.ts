import { randomUUID } from "node:crypto";
import type { BigQuery } from "@google-cloud/bigquery";
import { classifyBigQueryError } from "#adapters/bigquery/bigquery-errors.ts";
import { loadSql } from "#adapters/sql/load-sql.ts";
import { type AlertClaims, AlertClaimsError, assertClaimKey } from "#ports/alert-claims.ts";
import { type Clock, systemClock } from "#ports/clock.ts";

export interface BigQueryAlertClaimsOptions {
  client: BigQuery;
  /** `project.dataset` or a dataset of the client's project. */
  dataset: string;
  location?: string;
  clock?: Clock;
}

/**
 * Alert claims in a BigQuery table through sql/bigquery/alert_claims.sql: a MERGE that stores the
 * key with this caller's one-off token unless it is there, then reads back whose token it holds.
 */
export function createBigQueryAlertClaims(options: BigQueryAlertClaimsOptions): AlertClaims {
  const clock = options.clock ?? systemClock;
  const sql = loadSql("bigquery", "alert_claims", { dataset: options.dataset });
  return {
    async claim(key) {
      assertClaimKey(key);
      const token = randomUUID();
      try {
        const [rows] = await options.client.query({
          query: sql,
          params: { claim_key: key, claim_token: token, claimed_at: clock.now() },
          types: { claim_key: "STRING", claim_token: "STRING", claimed_at: "TIMESTAMP" },
          labels: { app: "finops", query: "alert_claims" },
          ...(options.location === undefined ? {} : { location: options.location }),
        });
        return (rows as Array<{ claimed?: unknown }>)[0]?.claimed === true;
      } catch (cause) {
        throw new AlertClaimsError(
          classifyBigQueryError(cause),
          `BigQuery alert claim failed: ${(cause as Error).message}`,
          { cause },
        );
      }
    },
  };
}
