import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import protobuf from "protobufjs";
import { readTableSpecs } from "../../infra/bigquery-ddl.ts";
import type { Column, SqlType } from "../../infra/bigquery-schemas.ts";

/**
 * Just enough of the BigQuery Storage Write API (google.cloud.bigquery.storage.v1.BigQueryWrite),
 * over real gRPC on localhost, for Google's own @google-cloud/bigquery-storage client:
 *   GetWriteStream   a table's `_default` stream with its schema (view FULL), from sql/bigquery's DDL
 *   AppendRows       bidi: proto2 rows decoded with the writer_schema of the connection's first
 *                    request, checked like BigQuery checks them (REQUIRED columns present, NUMERIC
 *                    text that fits), then committed, or refused whole with row_errors
 * A test can add a rule BigQuery would refuse rows by (`refuseRows`), and script faults for the next
 * appends: an error status in the response, the connection dropped with a status (after the rows
 * were committed, or before), or no answer at all.
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PROTOS = [
  join(ROOT, "node_modules/@google-cloud/bigquery-storage/build/protos"),
  join(ROOT, "node_modules/google-gax/build/protos"),
];

export const Code = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, UNAVAILABLE: 14 } as const;

/** The Storage API's name for each GoogleSQL column type (TableFieldSchema.Type). */
const STORAGE_TYPE: Record<SqlType, string> = {
  STRING: "STRING",
  BYTES: "BYTES",
  INT64: "INT64",
  FLOAT64: "DOUBLE",
  NUMERIC: "NUMERIC",
  BIGNUMERIC: "BIGNUMERIC",
  BOOL: "BOOL",
  TIMESTAMP: "TIMESTAMP",
  DATE: "DATE",
  DATETIME: "DATETIME",
  TIME: "TIME",
  JSON: "JSON",
  GEOGRAPHY: "GEOGRAPHY",
};

/** protobufjs' name for each FieldDescriptorProto type a BigQuery writer schema uses. */
const PROTO_TYPE: Record<string, string> = {
  TYPE_STRING: "string",
  TYPE_INT64: "int64",
  TYPE_INT32: "int32",
  TYPE_DOUBLE: "double",
  TYPE_BOOL: "bool",
  TYPE_BYTES: "bytes",
};

/** NUMERIC: 29 digits before the point, 9 after. */
const NUMERIC = /^-?\d{1,29}(\.\d{1,9})?$/;

export type Fault =
  | { kind: "status"; code: number; message: string }
  | { kind: "drop"; code: number; message: string; afterCommit: boolean }
  /** The append is never answered (nothing stored), and the connection stays open. */
  | { kind: "silence" };

export interface AppendRecord {
  table: string;
  rows: number;
  /** Bytes of the serialized proto rows: what the Storage Write API ingests. */
  rowBytes: number;
  outcome: "committed" | "refused" | "dropped" | "unanswered";
}

/** A stored row: proto values as decoded (int64 and TIMESTAMP microseconds as decimal strings). */
export type StoredRow = Record<string, string | number | boolean>;

export interface LocalStorageWriteServer {
  readonly port: number;
  readonly appends: AppendRecord[];
  /** GetWriteStream calls, by stream name. */
  readonly streamLookups: string[];
  rows(table: string): StoredRow[];
  /** From now on, a row for which `rule` gives a message is refused with it (a FIELDS_ERROR). */
  refuseRows(rule: (row: StoredRow) => string | undefined): void;
  script(...faults: Fault[]): void;
  close(): Promise<void>;
}

interface FieldDescriptor {
  name: string;
  number: number;
  label: string;
  type: string;
}

interface AppendRequest {
  write_stream: string;
  proto_rows?: {
    writer_schema?: { proto_descriptor?: { name: string; field: FieldDescriptor[] } };
    rows?: { serialized_rows: Buffer[] };
  };
}

function rowType(descriptor: { name: string; field: FieldDescriptor[] }): protobuf.Type {
  const type = new protobuf.Type(descriptor.name);
  for (const field of descriptor.field) {
    const protoType = PROTO_TYPE[field.type];
    if (protoType === undefined) throw new Error(`writer schema: ${field.name} has type ${field.type}`);
    // REQUIRED is checked against the table below, as BigQuery does, not by the decoder.
    const rule = field.label === "LABEL_REPEATED" ? "repeated" : "optional";
    type.add(new protobuf.Field(field.name, field.number, protoType, rule));
  }
  new protobuf.Root().add(type);
  return type;
}

/** What BigQuery would say about the row, or undefined when it takes it. */
function rowProblem(row: StoredRow, columns: readonly Column[]): string | undefined {
  for (const column of columns) {
    const value = row[column.name];
    if (value === undefined) {
      if (column.mode === "REQUIRED") return `Field ${column.name}: required field is missing`;
      continue;
    }
    if (column.type === "NUMERIC" && !NUMERIC.test(String(value))) {
      return `Field ${column.name}: Invalid NUMERIC value: ${value}`;
    }
    if (column.type === "JSON") {
      try {
        JSON.parse(String(value));
      } catch {
        return `Field ${column.name}: Invalid JSON value: ${value}`;
      }
    }
  }
  const unknown = Object.keys(row).find((name) => !columns.some((c) => c.name === name));
  return unknown === undefined ? undefined : `Field ${unknown}: no such field`;
}

export async function startLocalStorageWriteServer(
  options: { project: string; dataset: string; omitColumns?: Record<string, string[]> } = {
    project: "finops-test",
    dataset: "finops",
  },
): Promise<LocalStorageWriteServer> {
  const definition = protoLoader.loadSync("google/cloud/bigquery/storage/v1/storage.proto", {
    includeDirs: PROTOS,
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    google: {
      cloud: { bigquery: { storage: { v1: { BigQueryWrite: { service: grpc.ServiceDefinition } } } } };
    };
  };
  const tables = new Map(
    readTableSpecs(join(ROOT, "sql/bigquery")).map((spec) => {
      const omitted = options.omitColumns?.[spec.tableId] ?? [];
      return [spec.tableId, spec.columns.filter((c) => !omitted.includes(c.name))] as const;
    }),
  );
  const stored = new Map<string, StoredRow[]>();
  const appends: AppendRecord[] = [];
  const streamLookups: string[] = [];
  const faults: Fault[] = [];
  const rules: ((row: StoredRow) => string | undefined)[] = [];
  const prefix = `projects/${options.project}/datasets/${options.dataset}/tables/`;

  function tableOf(stream: string): string | undefined {
    const match = new RegExp(`^${prefix}(\\w+)/streams/_default$`).exec(stream);
    return match?.[1] !== undefined && tables.has(match[1]) ? match[1] : undefined;
  }

  const server = new grpc.Server();
  server.addService(loaded.google.cloud.bigquery.storage.v1.BigQueryWrite.service, {
    GetWriteStream(
      call: grpc.ServerUnaryCall<{ name: string }, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) {
      streamLookups.push(call.request.name);
      const table = tableOf(call.request.name);
      if (table === undefined) {
        callback({ code: Code.NOT_FOUND, details: `Requested entity was not found: ${call.request.name}` });
        return;
      }
      const fields = (tables.get(table) ?? []).map((c) => ({
        name: c.name,
        type: STORAGE_TYPE[c.type],
        mode: c.mode,
      }));
      callback(null, { name: call.request.name, type: "COMMITTED", table_schema: { fields } });
    },

    AppendRows(call: grpc.ServerDuplexStream<AppendRequest, unknown>) {
      let type: protobuf.Type | undefined;
      call.on("data", (request: AppendRequest) => {
        const table = tableOf(request.write_stream);
        const descriptor = request.proto_rows?.writer_schema?.proto_descriptor;
        // The writer schema counts on the connection's first request only, as in BigQuery.
        if (type === undefined && descriptor !== undefined) type = rowType(descriptor);
        const serialized = request.proto_rows?.rows?.serialized_rows ?? [];
        const record = {
          table: table ?? request.write_stream,
          rows: serialized.length,
          rowBytes: serialized.reduce((sum, row) => sum + row.length, 0),
        };
        if (table === undefined || type === undefined) {
          appends.push({ ...record, outcome: "refused" });
          call.write({ error: { code: Code.INVALID_ARGUMENT, message: "no table or no writer schema" } });
          return;
        }
        const decoder = type;
        const rows = serialized.map(
          (bytes) => decoder.toObject(decoder.decode(bytes), { longs: String }) as StoredRow,
        );
        const fault = faults.shift();
        const commit = () => stored.set(table, [...(stored.get(table) ?? []), ...rows]);
        const columns = tables.get(table) ?? [];
        const rowErrors = rows.flatMap((row, index) => {
          const message = rowProblem(row, columns) ?? rules.map((rule) => rule(row)).find(Boolean);
          return message === undefined ? [] : [{ index, message }];
        });
        if (rowErrors.length > 0) {
          appends.push({ ...record, outcome: "refused" });
          call.write({
            error: {
              code: Code.INVALID_ARGUMENT,
              message:
                "Errors found while processing rows. Please refer to the row_errors field for details.",
            },
            row_errors: rowErrors.map((e) => ({
              index: String(e.index),
              code: "FIELDS_ERROR",
              message: e.message,
            })),
            write_stream: request.write_stream,
          });
        } else if (fault?.kind === "status") {
          appends.push({ ...record, outcome: "refused" });
          call.write({
            error: { code: fault.code, message: fault.message },
            write_stream: request.write_stream,
          });
        } else if (fault?.kind === "silence") {
          appends.push({ ...record, outcome: "unanswered" });
        } else if (fault?.kind === "drop") {
          if (fault.afterCommit) commit();
          appends.push({ ...record, outcome: "dropped" });
          call.emit("error", { code: fault.code, details: fault.message });
        } else {
          commit();
          appends.push({ ...record, outcome: "committed" });
          call.write({ append_result: {}, write_stream: request.write_stream });
        }
      });
      call.on("end", () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    port,
    appends,
    streamLookups,
    rows: (table) => stored.get(table) ?? [],
    refuseRows: (rule) => rules.push(rule),
    script: (...next) => faults.push(...next),
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // Open AppendRows connections would hold a graceful shutdown: end them.
        setTimeout(() => server.forceShutdown(), 100).unref();
      }),
  };
}
