import type { BigQuery, Query } from "@google-cloud/bigquery";
import { createBigQueryClient } from "#adapters/bigquery/bigquery-client.ts";
import { classifyBigQueryError } from "#adapters/bigquery/bigquery-errors.ts";
import {
  type AlertLogQuery,
  alertLogQuery,
  deliveryOfRow,
  recentParams,
  recordParams,
} from "#adapters/duckdb-alert-log/alert-log-queries.ts";
import { type AlertLog, AlertLogError } from "#ports/alert-log.ts";

export interface BigQueryAlertLogOptions {
  client?: BigQuery;
  projectId?: string;
  dataset: string;
  location?: string;
}

const DATASET_ID = /^\w{1,1024}$/;
const PROJECT_ID = /^[a-z][a-z0-9.:-]{4,62}$/;
const INT64_PARAMS = new Set(["delivered_at_ms", "since_ms", "until_ms", "limit"]);

type Params = Record<string, string | bigint | null>;

function toAlertLogError(error: unknown, action: string): AlertLogError {
  if (error instanceof AlertLogError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new AlertLogError(classifyBigQueryError(error), `BigQuery alert log ${action} failed: ${detail}`, {
    cause: error,
  });
}

/** Typed parameters: nulls need their type, and INT64 travels as a decimal string. */
function bound(params: Params): Pick<Query, "params" | "types"> {
  const entries = Object.entries(params);
  return {
    params: Object.fromEntries(entries.map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v])),
    types: Object.fromEntries(entries.map(([k]) => [k, INT64_PARAMS.has(k) ? "INT64" : "STRING"])),
  };
}

/** The alert log in BigQuery (table alert_log in the warehouse's dataset, sql/bigquery/alert_log.sql). */
export function createBigQueryAlertLog(options: BigQueryAlertLogOptions): AlertLog {
  if (!DATASET_ID.test(options.dataset)) {
    throw new AlertLogError(
      "invalid",
      `createBigQueryAlertLog: ${JSON.stringify(options.dataset)} is not a dataset id`,
    );
  }
  const client =
    options.client ?? createBigQueryClient({ projectId: options.projectId, location: options.location });
  const projectId = options.projectId ?? (PROJECT_ID.test(client.projectId) ? client.projectId : undefined);
  const dataset = projectId === undefined ? options.dataset : `${projectId}.${options.dataset}`;
  const location = options.location ?? client.location;

  async function run(action: string, name: AlertLogQuery, params: Params = {}) {
    const request: Query = {
      query: alertLogQuery("bigquery", name, { dataset }),
      labels: { app: "finops", query: `alert_log-${name.replace(/_/g, "-")}` },
      ...(Object.keys(params).length > 0 ? bound(params) : {}),
      ...(location === undefined ? {} : { location }),
    };
    try {
      const [rows] = await client.query(request);
      return rows as Record<string, unknown>[];
    } catch (error) {
      throw toAlertLogError(error, action);
    }
  }

  return {
    async init() {
      await run("init", "create");
    },
    async record(delivery) {
      const [row] = await run("record", "record", recordParams(delivery));
      return row?.inserted === true;
    },
    async find(key) {
      const [row] = await run("find", "find", { idempotency_key: key });
      return row === undefined ? undefined : deliveryOfRow(row);
    },
    async findThread(threadKey) {
      const [row] = await run("findThread", "find_thread", { thread_key: threadKey });
      return row === undefined ? undefined : deliveryOfRow(row);
    },
    async recent(query) {
      const rows = await run("recent", "recent", recentParams(query));
      return rows.map(deliveryOfRow);
    },
    async close() {},
  };
}
