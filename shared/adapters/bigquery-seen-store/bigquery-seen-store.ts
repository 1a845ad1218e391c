import type { BigQuery } from "@google-cloud/bigquery";
import { classifyBigQueryError } from "#adapters/bigquery/bigquery-errors.ts";
import { seenKeysStatements } from "#adapters/sql/seen-keys.ts";
import { assertSeenEntry, type SeenStore, SeenStoreError } from "#ports/seen-store.ts";

export interface BigQuerySeenStoreOptions {
  client: BigQuery;
  /** `project.dataset` or a dataset of the client's project. */
  dataset: string;
  location?: string;
  now?: () => Date;
}

const TYPES = { key: "STRING", value: "INT64", previous: "INT64", updated_at: "TIMESTAMP" } as const;

/** The seen-store in a BigQuery table through sql/bigquery/seen_keys.sql (the claim is one transaction). */
export function createBigQuerySeenStore(options: BigQuerySeenStoreOptions): SeenStore {
  const sql = seenKeysStatements("bigquery", { dataset: options.dataset });
  const now = options.now ?? (() => new Date());
  let created: Promise<unknown> | undefined;

  async function run(name: keyof typeof sql, params: Record<string, string | Date>) {
    try {
      const [rows] = await options.client.query({
        query: sql[name],
        params,
        types: Object.fromEntries(Object.keys(params).map((k) => [k, TYPES[k as keyof typeof TYPES]])),
        labels: { app: "finops", query: `seen_keys_${name}` },
        ...(options.location === undefined ? {} : { location: options.location }),
      });
      return rows as Array<Record<string, unknown>>;
    } catch (cause) {
      throw new SeenStoreError(
        `BigQuery seen-store ${name} failed: ${(cause as Error).message}`,
        classifyBigQueryError(cause),
        {
          cause,
        },
      );
    }
  }

  const ready = () => {
    created ??= run("create", {}).catch((error: unknown) => {
      created = undefined;
      throw error;
    });
    return created;
  };

  return {
    async claim(key, value) {
      assertSeenEntry(key, value);
      await ready();
      const [row] = await run("claim", { key, value: value.toString(), updated_at: now() });
      const previous = row?.previous;
      return previous === null || previous === undefined ? undefined : BigInt(String(previous));
    },
    async release(key, value, previous) {
      assertSeenEntry(key, value);
      await ready();
      if (previous === undefined) await run("forget", { key, value: value.toString() });
      else
        await run("restore", {
          key,
          value: value.toString(),
          previous: previous.toString(),
          updated_at: now(),
        });
    },
    async close() {},
  };
}
