import { protos } from "@google-cloud/bigquery-storage";
import type { InsertAllRow } from "#adapters/bigquery/bigquery-rows.ts";
import { WarehouseError } from "#ports/warehouse-error.ts";

type TableSchema = protos.google.cloud.bigquery.storage.v1.ITableSchema;
/** A row as the client's JSONWriter encodes it against the table's proto descriptor. */
export type AppendRow = Record<string, string | number | boolean | Date | null>;

const FIELD_TYPES = protos.google.cloud.bigquery.storage.v1.TableFieldSchema.Type;

/** The table's columns by name with their type name ("TIMESTAMP", "NUMERIC"...), from GetWriteStream. */
export function columnTypes(schema: TableSchema): ReadonlyMap<string, string> {
  return new Map(
    (schema.fields ?? []).map((field) => [
      field.name ?? "",
      typeof field.type === "number" ? FIELD_TYPES[field.type] : String(field.type),
    ]),
  );
}

/**
 * A row encoded for insertAll, as the JSONWriter takes it. The writer turns a Date into a TIMESTAMP's
 * microseconds, so the RFC 3339 text becomes a Date again (both exact to the millisecond); NUMERIC
 * stays the nine-decimal text and JSON the JSON text, both strings on the wire. A key the table has
 * no column for is refused here: the encoder would drop it without a word.
 */
export function toAppendRow(
  json: InsertAllRow["json"],
  columns: ReadonlyMap<string, string>,
  label: string,
  table: string,
): AppendRow {
  const row: AppendRow = {};
  for (const [name, value] of Object.entries(json)) {
    const type = columns.get(name);
    if (type === undefined) {
      throw new WarehouseError(`${label}.${name}: ${table} has no such column`, "invalid");
    }
    if (type === "TIMESTAMP" && value !== null) {
      const time = typeof value === "string" ? new Date(value) : undefined;
      if (time === undefined || Number.isNaN(time.getTime())) {
        throw new WarehouseError(`${label}.${name}: not a valid time`, "invalid");
      }
      row[name] = time;
    } else {
      row[name] = value;
    }
  }
  return row;
}
