import * as gcp from "@pulumi/gcp";
import { daysToMs, type TableSpec, tableSchemaJson } from "./bigquery-schemas.ts";
import { after, type ChildOptions } from "./child-options.ts";
import { childName } from "./names.ts";
import { renderView, type ViewSpec } from "./report-views.ts";

export interface WarehouseArgs {
  project: string;
  datasetId: string;
  location: string;
  tables: readonly TableSpec[];
  views: readonly ViewSpec[];
  /** Days by the `{{placeholder}}` a table's partition_expiration_days names. */
  expirationDays: Readonly<Record<string, number>>;
  deletionProtection: boolean;
  labels: Readonly<Record<string, string>>;
}

export class WarehouseError extends Error {
  override readonly name = "WarehouseError";
}

function expirationMs(spec: TableSpec, days: Readonly<Record<string, number>>): number | undefined {
  const expiration = spec.partitionExpiration;
  if (expiration === undefined) return undefined;
  if ("days" in expiration) return daysToMs(expiration.days);
  const configured = days[expiration.parameter];
  if (configured === undefined) {
    throw new WarehouseError(
      `${spec.file}: table ${spec.tableId} expires partitions after {{${expiration.parameter}}}, which the deployment does not set`,
    );
  }
  return daysToMs(configured);
}

/** Checks what can be checked before anything is declared: every expiration and view resolves. */
export function planWarehouse(args: WarehouseArgs) {
  const datasetPath = `${args.project}.${args.datasetId}`;
  return {
    args,
    tables: args.tables.map((spec) => ({ spec, expirationMs: expirationMs(spec, args.expirationDays) })),
    views: args.views.map((view) => ({ view, query: renderView(view, { dataset: datasetPath }) })),
  };
}

export type WarehousePlan = ReturnType<typeof planWarehouse>;

/** The dataset, its tables as the DDL declares them, and the report views over them. */
export function declareWarehouse(name: string, plan: WarehousePlan, opts: ChildOptions) {
  const { args } = plan;
  const { project, labels } = args;
  const child = after(opts);
  const dataset = new gcp.bigquery.Dataset(
    childName(name, "dataset"),
    {
      project,
      datasetId: args.datasetId,
      location: args.location,
      description:
        "AI cost attribution: cost events, hourly rollups, alert and reconciliation state, report views.",
      deleteContentsOnDestroy: false,
      labels,
    },
    child,
  );
  const tables: Record<string, gcp.bigquery.Table> = {};
  for (const { spec, expirationMs } of plan.tables) {
    tables[spec.tableId] = new gcp.bigquery.Table(
      childName(name, "table", spec.tableId.replaceAll("_", "-")),
      {
        project,
        datasetId: dataset.datasetId,
        tableId: spec.tableId,
        description: spec.description,
        schema: tableSchemaJson(spec),
        timePartitioning:
          spec.partitioning === undefined
            ? undefined
            : { type: spec.partitioning.unit, field: spec.partitioning.field, expirationMs },
        clusterings: spec.clustering.length > 0 ? [...spec.clustering] : undefined,
        requirePartitionFilter: spec.requirePartitionFilter,
        deletionProtection: args.deletionProtection,
        labels,
      },
      child,
    );
  }
  const views: Record<string, gcp.bigquery.Table> = {};
  for (const { view, query } of plan.views) {
    // BigQuery checks a view's query when it is created, so the tables and the views it reads come first.
    const dependsOn = [...Object.values(tables), ...view.uses.map((id) => views[id] as gcp.bigquery.Table)];
    views[view.viewId] = new gcp.bigquery.Table(
      childName(name, "view", view.viewId.replaceAll("_", "-")),
      {
        project,
        datasetId: dataset.datasetId,
        tableId: view.viewId,
        description: `Report view from sql/bigquery/views/${view.file}.`,
        view: { query, useLegacySql: false },
        // A view holds no data: it can always be recreated from its file.
        deletionProtection: false,
        labels,
      },
      after(opts, ...dependsOn),
    );
  }
  return { dataset, tables, views };
}
