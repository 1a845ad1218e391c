import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { arch, platform } from "node:os";
import { dirname, join } from "node:path";
import { TypeKind, ZetaSQLClient } from "@fivetrandevelopers/zetasql";
import type { AllowedHintsAndOptionsProto } from "@fivetrandevelopers/zetasql/lib/types/zetasql/AllowedHintsAndOptionsProto.js";
import type { LanguageFeature } from "@fivetrandevelopers/zetasql/lib/types/zetasql/LanguageFeature.js";
import type { LanguageOptionsProto } from "@fivetrandevelopers/zetasql/lib/types/zetasql/LanguageOptionsProto.js";
import type { AnalyzeRequest } from "@fivetrandevelopers/zetasql/lib/types/zetasql/local_service/AnalyzeRequest.js";
import type { AnalyzeResponse__Output } from "@fivetrandevelopers/zetasql/lib/types/zetasql/local_service/AnalyzeResponse.js";
import type { ParseRequest } from "@fivetrandevelopers/zetasql/lib/types/zetasql/local_service/ParseRequest.js";
import type { ParseResponse__Output } from "@fivetrandevelopers/zetasql/lib/types/zetasql/local_service/ParseResponse.js";
import type { ResolvedColumnDefinitionProto__Output } from "@fivetrandevelopers/zetasql/lib/types/zetasql/ResolvedColumnDefinitionProto.js";
import type { ResolvedNodeKind } from "@fivetrandevelopers/zetasql/lib/types/zetasql/ResolvedNodeKind.js";
import type { SimpleCatalogProto } from "@fivetrandevelopers/zetasql/lib/types/zetasql/SimpleCatalogProto.js";
import type { SimpleTableProto } from "@fivetrandevelopers/zetasql/lib/types/zetasql/SimpleTableProto.js";
import type {
  TypeProto,
  TypeProto__Output,
} from "@fivetrandevelopers/zetasql/lib/types/zetasql/TypeProto.js";
import type { ServiceError } from "@grpc/grpc-js";

/**
 * GoogleSQL's own analyzer (ZetaSQL, the front end BigQuery is built on) for the BigQuery SQL of
 * sql/bigquery: the Linux x86-64 server of @fivetrandevelopers/zetasql, started on a free port and
 * spoken to through the package's gRPC client, with the language options of BigQuery and a catalog
 * that the analyzed DDL itself fills (CREATE TABLE, ALTER TABLE ADD COLUMN, CREATE VIEW), so the
 * tables are the project's own, with the types GoogleSQL gives them.
 */

// ---------------------------------------------------------------------------------------------
// The language BigQuery speaks.

/**
 * The ZetaSQL language features BigQuery has, following GoogleCloudPlatform/zetasql-toolkit's
 * BigQueryLanguageOptions, restricted to those this server version knows, plus BigQuery's JSON
 * constructor, LAX_ and mutator functions and its RANGE type. Left out on purpose, as BigQuery lacks
 * them: DML RETURNING (`THEN RETURN`), proto types, array equality, GROUP BY ARRAY, generated columns.
 */
const BIGQUERY_FEATURES: readonly LanguageFeature[] = [
  // Types.
  "FEATURE_NUMERIC_TYPE",
  "FEATURE_BIGNUMERIC_TYPE",
  "FEATURE_JSON_TYPE",
  "FEATURE_GEOGRAPHY",
  "FEATURE_INTERVAL_TYPE",
  "FEATURE_RANGE_TYPE",
  "FEATURE_PARAMETERIZED_TYPES",
  "FEATURE_TIMESTAMP_NANOS",
  "FEATURE_V_1_2_CIVIL_TIME",
  "FEATURE_V_1_3_DECIMAL_ALIAS",
  // Query syntax.
  "FEATURE_ANALYTIC_FUNCTIONS",
  "FEATURE_TABLESAMPLE",
  "FEATURE_TABLE_VALUED_FUNCTIONS",
  "FEATURE_GROUP_BY_ROLLUP",
  "FEATURE_NAMED_ARGUMENTS",
  "FEATURE_V_1_1_HAVING_IN_AGGREGATE",
  "FEATURE_V_1_1_LIMIT_IN_AGGREGATE",
  "FEATURE_V_1_1_NULL_HANDLING_MODIFIER_IN_AGGREGATE",
  "FEATURE_V_1_1_NULL_HANDLING_MODIFIER_IN_ANALYTIC",
  "FEATURE_V_1_1_ORDER_BY_IN_AGGREGATE",
  "FEATURE_V_1_1_SELECT_STAR_EXCEPT_REPLACE",
  "FEATURE_V_1_1_WITH_ON_SUBQUERY",
  "FEATURE_V_1_2_SAFE_FUNCTION_CALL",
  "FEATURE_V_1_2_WEEK_WITH_WEEKDAY",
  "FEATURE_V_1_3_ALLOW_DASHES_IN_TABLE_NAME",
  "FEATURE_V_1_3_ALLOW_REGEXP_EXTRACT_OPTIONALS",
  "FEATURE_V_1_3_CONCAT_MIXED_TYPES",
  "FEATURE_V_1_3_DATE_ARITHMETICS",
  "FEATURE_V_1_3_DATE_TIME_CONSTRUCTORS",
  "FEATURE_V_1_3_EXTENDED_DATE_TIME_SIGNATURES",
  "FEATURE_V_1_3_FORMAT_IN_CAST",
  "FEATURE_V_1_3_IS_DISTINCT",
  "FEATURE_V_1_3_LIKE_ANY_SOME_ALL",
  "FEATURE_V_1_3_NULLS_FIRST_LAST_IN_ORDER_BY",
  "FEATURE_V_1_3_PIVOT",
  "FEATURE_V_1_3_QUALIFY",
  "FEATURE_V_1_3_UNNEST_AND_FLATTEN_ARRAYS",
  "FEATURE_V_1_3_UNPIVOT",
  "FEATURE_V_1_3_WITH_GROUP_ROWS",
  "FEATURE_V_1_3_WITH_RECURSIVE",
  "FEATURE_V_1_4_BARE_ARRAY_ACCESS",
  "FEATURE_V_1_4_CORRESPONDING",
  "FEATURE_V_1_4_GROUPING_BUILTIN",
  "FEATURE_V_1_4_GROUPING_SETS",
  "FEATURE_V_1_4_LIKE_ANY_SOME_ALL_ARRAY",
  "FEATURE_V_1_4_LIKE_ANY_SOME_ALL_SUBQUERY",
  "FEATURE_V_1_4_SINGLE_TABLE_NAME_ARRAY_PATH",
  "FEATURE_V_1_4_STRUCT_POSITIONAL_ACCESSOR",
  // Functions.
  "FEATURE_CBRT_FUNCTIONS",
  "FEATURE_INVERSE_TRIG_FUNCTIONS",
  "FEATURE_ROUND_WITH_ROUNDING_MODE",
  "FEATURE_TIME_BUCKET_FUNCTIONS",
  "FEATURE_TEMPLATE_FUNCTIONS",
  "FEATURE_JSON_ARRAY_FUNCTIONS",
  "FEATURE_JSON_VALUE_EXTRACTION_FUNCTIONS",
  "FEATURE_JSON_CONSTRUCTOR_FUNCTIONS",
  "FEATURE_JSON_LAX_VALUE_EXTRACTION_FUNCTIONS",
  "FEATURE_JSON_MUTATOR_FUNCTIONS",
  "FEATURE_V_1_3_ADDITIONAL_STRING_FUNCTIONS",
  "FEATURE_V_1_3_EXTENDED_GEOGRAPHY_PARSERS",
  "FEATURE_V_1_4_ARRAY_AGGREGATION_FUNCTIONS",
  "FEATURE_V_1_4_ARRAY_FIND_FUNCTIONS",
  "FEATURE_V_1_4_FIRST_AND_LAST_N",
  "FEATURE_V_1_4_NULLIFZERO_ZEROIFNULL",
  "FEATURE_V_1_4_PI_FUNCTIONS",
  "FEATURE_V_1_4_SAFE_FUNCTION_CALL_WITH_LAMBDA_ARGS",
  "FEATURE_ANONYMIZATION",
  "FEATURE_V_1_3_ANNOTATION_FRAMEWORK",
  "FEATURE_V_1_3_COLLATION_SUPPORT",
  "FEATURE_V_1_4_COLLATION_IN_EXPLICIT_CAST",
  "FEATURE_V_1_4_COLLATION_IN_WITH_RECURSIVE",
  "FEATURE_V_1_4_PRESERVE_ANNOTATION_IN_IMPLICIT_CAST_IN_SCAN",
  // DML and scripting.
  "FEATURE_DML_UPDATE_WITH_JOIN",
  "FEATURE_V_1_3_OMIT_INSERT_COLUMN_LIST",
  "FEATURE_V_1_3_CASE_STMT",
  "FEATURE_V_1_3_FOR_IN",
  "FEATURE_V_1_3_REPEAT",
  "FEATURE_V_1_3_SCRIPT_LABEL",
  // DDL: CREATE TABLE ... PARTITION BY ... CLUSTER BY ... OPTIONS, NOT NULL, ALTER TABLE.
  "FEATURE_CREATE_TABLE_PARTITION_BY",
  "FEATURE_CREATE_TABLE_CLUSTER_BY",
  "FEATURE_CREATE_TABLE_NOT_NULL",
  "FEATURE_CREATE_TABLE_FIELD_ANNOTATIONS",
  "FEATURE_CREATE_TABLE_AS_SELECT_COLUMN_LIST",
  "FEATURE_CREATE_TABLE_LIKE",
  "FEATURE_CREATE_TABLE_COPY",
  "FEATURE_CREATE_TABLE_CLONE",
  "FEATURE_CREATE_SNAPSHOT_TABLE",
  "FEATURE_CREATE_TABLE_FUNCTION",
  "FEATURE_CREATE_VIEW_WITH_COLUMN_LIST",
  "FEATURE_CREATE_MATERIALIZED_VIEW_PARTITION_BY",
  "FEATURE_CREATE_MATERIALIZED_VIEW_CLUSTER_BY",
  "FEATURE_CREATE_EXTERNAL_TABLE_WITH_CONNECTION",
  "FEATURE_CREATE_EXTERNAL_TABLE_WITH_PARTITION_COLUMNS",
  "FEATURE_CREATE_EXTERNAL_TABLE_WITH_TABLE_ELEMENT_LIST",
  "FEATURE_ALLOW_MISSING_PATH_EXPRESSION_IN_ALTER_DDL",
  "FEATURE_ALTER_COLUMN_SET_DATA_TYPE",
  "FEATURE_ALTER_TABLE_RENAME_COLUMN",
  "FEATURE_V_1_3_COLUMN_DEFAULT_VALUE",
  "FEATURE_UNENFORCED_PRIMARY_KEYS",
  "FEATURE_FOREIGN_KEYS",
  "FEATURE_ENCRYPTION",
  "FEATURE_PARAMETERS_IN_GRANTEE_LIST",
  "FEATURE_V_1_3_REMOTE_FUNCTION",
  "FEATURE_V_1_4_REMOTE_MODEL",
  "FEATURE_V_1_4_CREATE_MODEL_WITH_ALIASED_QUERY_LIST",
  "FEATURE_V_1_4_CREATE_FUNCTION_LANGUAGE_WITH_CONNECTION",
  "FEATURE_V_1_4_LOAD_DATA_PARTITIONS",
  "FEATURE_V_1_4_LOAD_DATA_TEMP_TABLE",
  "FEATURE_V_1_4_SEQUENCE_ARG",
  "FEATURE_V_1_4_SQL_MACROS",
];

/** The statements BigQuery runs (ZetaSQL's default is queries only). */
const BIGQUERY_STATEMENTS: readonly ResolvedNodeKind[] = [
  "RESOLVED_QUERY_STMT",
  "RESOLVED_INSERT_STMT",
  "RESOLVED_UPDATE_STMT",
  "RESOLVED_DELETE_STMT",
  "RESOLVED_MERGE_STMT",
  "RESOLVED_TRUNCATE_STMT",
  "RESOLVED_BEGIN_STMT",
  "RESOLVED_COMMIT_STMT",
  "RESOLVED_ROLLBACK_STMT",
  "RESOLVED_ASSERT_STMT",
  "RESOLVED_ASSIGNMENT_STMT",
  "RESOLVED_CALL_STMT",
  "RESOLVED_EXECUTE_IMMEDIATE_STMT",
  "RESOLVED_EXPORT_DATA_STMT",
  "RESOLVED_EXPORT_MODEL_STMT",
  "RESOLVED_AUX_LOAD_DATA_STMT",
  "RESOLVED_CREATE_TABLE_STMT",
  "RESOLVED_CREATE_TABLE_AS_SELECT_STMT",
  "RESOLVED_CREATE_SNAPSHOT_TABLE_STMT",
  "RESOLVED_CREATE_EXTERNAL_TABLE_STMT",
  "RESOLVED_CREATE_VIEW_STMT",
  "RESOLVED_CREATE_MATERIALIZED_VIEW_STMT",
  "RESOLVED_CREATE_FUNCTION_STMT",
  "RESOLVED_CREATE_TABLE_FUNCTION_STMT",
  "RESOLVED_CREATE_PROCEDURE_STMT",
  "RESOLVED_CREATE_SCHEMA_STMT",
  "RESOLVED_CREATE_MODEL_STMT",
  "RESOLVED_CREATE_INDEX_STMT",
  "RESOLVED_CREATE_ROW_ACCESS_POLICY_STMT",
  "RESOLVED_CREATE_ENTITY_STMT",
  "RESOLVED_ALTER_TABLE_STMT",
  "RESOLVED_ALTER_VIEW_STMT",
  "RESOLVED_ALTER_MATERIALIZED_VIEW_STMT",
  "RESOLVED_ALTER_SCHEMA_STMT",
  "RESOLVED_ALTER_MODEL_STMT",
  "RESOLVED_ALTER_ENTITY_STMT",
  "RESOLVED_DROP_STMT",
  "RESOLVED_DROP_FUNCTION_STMT",
  "RESOLVED_DROP_TABLE_FUNCTION_STMT",
  "RESOLVED_DROP_MATERIALIZED_VIEW_STMT",
  "RESOLVED_DROP_SNAPSHOT_TABLE_STMT",
  "RESOLVED_DROP_ROW_ACCESS_POLICY_STMT",
  "RESOLVED_GRANT_STMT",
  "RESOLVED_REVOKE_STMT",
];

/** BigQuery: product mode external (INT64, FLOAT64, no INT32 or protos), QUALIFY a reserved word. */
export const BIGQUERY_LANGUAGE: LanguageOptionsProto = {
  productMode: "PRODUCT_EXTERNAL",
  nameResolutionMode: "NAME_RESOLUTION_DEFAULT",
  enabledLanguageFeatures: [...BIGQUERY_FEATURES],
  supportedStatementKinds: [...BIGQUERY_STATEMENTS],
  reservedKeywords: ["QUALIFY"],
};

/** A STRUCT<STRING, STRING> list, as BigQuery's labels and tags options take them. */
const KEY_VALUE_LIST: TypeProto = {
  typeKind: "TYPE_ARRAY",
  arrayType: {
    elementType: {
      typeKind: "TYPE_STRUCT",
      structType: {
        field: [
          { fieldName: "", fieldType: { typeKind: "TYPE_STRING" } },
          { fieldName: "", fieldType: { typeKind: "TYPE_STRING" } },
        ],
      },
    },
  },
};

/**
 * The OPTIONS BigQuery's DDL takes (tables, views, columns), with their types: any other name, a
 * value of another type or a name given twice is refused, as BigQuery refuses it.
 */
const BIGQUERY_OPTIONS: AllowedHintsAndOptionsProto = {
  disallowUnknownOptions: true,
  disallowDuplicateOptionNames: true,
  option: Object.entries({
    description: { typeKind: "TYPE_STRING" },
    friendly_name: { typeKind: "TYPE_STRING" },
    labels: KEY_VALUE_LIST,
    tags: KEY_VALUE_LIST,
    expiration_timestamp: { typeKind: "TYPE_TIMESTAMP" },
    partition_expiration_days: { typeKind: "TYPE_DOUBLE" },
    require_partition_filter: { typeKind: "TYPE_BOOL" },
    kms_key_name: { typeKind: "TYPE_STRING" },
    default_rounding_mode: { typeKind: "TYPE_STRING" },
    rounding_mode: { typeKind: "TYPE_STRING" },
    enable_change_history: { typeKind: "TYPE_BOOL" },
    enable_fine_grained_mutations: { typeKind: "TYPE_BOOL" },
    max_staleness: { typeKind: "TYPE_INTERVAL" },
    storage_uri: { typeKind: "TYPE_STRING" },
    file_format: { typeKind: "TYPE_STRING" },
    table_format: { typeKind: "TYPE_STRING" },
    privacy_policy: { typeKind: "TYPE_STRING" },
  } satisfies Record<string, TypeProto>).map(([name, type]) => ({ name, type })),
};

// ---------------------------------------------------------------------------------------------
// Types.

type TypeKindName = Exclude<keyof typeof TypeKind, "__TypeKind__switch_must_have_a_default__">;

/** GoogleSQL's scalar types as BigQuery spells them (product mode external). */
const TYPE_NAMES: Readonly<Partial<Record<TypeKindName, string>>> = {
  TYPE_INT64: "INT64",
  TYPE_BOOL: "BOOL",
  TYPE_DOUBLE: "FLOAT64",
  TYPE_STRING: "STRING",
  TYPE_BYTES: "BYTES",
  TYPE_DATE: "DATE",
  TYPE_TIMESTAMP: "TIMESTAMP",
  TYPE_TIME: "TIME",
  TYPE_DATETIME: "DATETIME",
  TYPE_GEOGRAPHY: "GEOGRAPHY",
  TYPE_NUMERIC: "NUMERIC",
  TYPE_BIGNUMERIC: "BIGNUMERIC",
  TYPE_JSON: "JSON",
  TYPE_INTERVAL: "INTERVAL",
};

/** The type each scalar type name a BigQuery client may declare for a query parameter stands for. */
const PARAMETER_KINDS: Readonly<Record<string, TypeKindName>> = {
  ...Object.fromEntries(Object.entries(TYPE_NAMES).map(([kind, name]) => [name, kind as TypeKindName])),
  INTEGER: "TYPE_INT64",
  FLOAT: "TYPE_DOUBLE",
  BOOLEAN: "TYPE_BOOL",
  DECIMAL: "TYPE_NUMERIC",
  BIGDECIMAL: "TYPE_BIGNUMERIC",
};

/** The name of a TypeKind the analyzer returns as a number (requests may give either). */
function kindName(kind: TypeProto["typeKind"]): string {
  if (typeof kind === "string") return kind;
  return Object.entries(TypeKind).find(([, value]) => value === kind)?.[0] ?? `TypeKind ${String(kind)}`;
}

export class AnalyzerSetupError extends Error {
  override readonly name = "AnalyzerSetupError";
}

/** The GoogleSQL type of a query parameter from the type name a BigQuery client was given. */
export function parameterType(name: string | undefined, where: string): TypeProto {
  const kind = name === undefined ? undefined : PARAMETER_KINDS[name.toUpperCase()];
  if (kind === undefined) {
    throw new AnalyzerSetupError(
      `${where}: parameter type ${name === undefined ? "not declared" : JSON.stringify(name)}; ` +
        `the adapter must declare one of ${Object.keys(PARAMETER_KINDS).join(", ")}`,
    );
  }
  return { typeKind: kind };
}

/** A type as the analyzer returned it, with only what describes it (for the next request). */
function plainType(type: TypeProto__Output | null): TypeProto {
  if (type === null) throw new AnalyzerSetupError("the analyzer returned a column without a type");
  const element = type.arrayType?.elementType;
  if (element) return { typeKind: type.typeKind, arrayType: { elementType: plainType(element) } };
  if (type.structType) {
    return {
      typeKind: type.typeKind,
      structType: {
        field: type.structType.field.map((f) => ({
          fieldName: f.fieldName,
          fieldType: plainType(f.fieldType),
        })),
      },
    };
  }
  return { typeKind: type.typeKind };
}

/** STRING, ARRAY<STRUCT<key STRING, value STRING>>, ...: a type as BigQuery's DDL writes it. */
export function typeName(type: TypeProto): string {
  const kind = kindName(type.typeKind);
  if (kind === "TYPE_ARRAY" && type.arrayType?.elementType)
    return `ARRAY<${typeName(type.arrayType.elementType)}>`;
  if (kind === "TYPE_STRUCT" && type.structType) {
    const fields = (type.structType.field ?? []).map((f) => `${f.fieldName} ${typeName(f.fieldType ?? {})}`);
    return `STRUCT<${fields.join(", ")}>`;
  }
  return TYPE_NAMES[kind as TypeKindName] ?? kind;
}

// ---------------------------------------------------------------------------------------------
// The server.

const PLATFORM_BINARY = "remote_server.so";

/**
 * Where this machine cannot run the analyzer: the tests run it on Linux x86-64 (a developer machine
 * and CI) and skip elsewhere, saying so. The package ships macOS and Linux arm64 builds as well,
 * which this project has not tried.
 */
export function analyzerUnavailable(): string | undefined {
  if (platform() === "linux" && arch() === "x64") return undefined;
  return `the GoogleSQL analyzer is run on Linux x86-64 only, this is ${platform()} ${arch()}`;
}

function binaryPath(): string {
  const main = createRequire(import.meta.url).resolve("@fivetrandevelopers/zetasql");
  return join(dirname(main), "zetasql", PLATFORM_BINARY);
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new AnalyzerSetupError("no free port");
  return address.port;
}

/** Resolves when the server prints that it listens; rejects when it exits first or takes too long. */
function listening(child: ChildProcess, timeoutMs: number, output: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        done(
          new AnalyzerSetupError(`the analyzer did not listen within ${timeoutMs} ms: ${output.join("")}`),
        ),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (/Server listening on/.test(output.join(""))) done();
    };
    const onExit = (code: number | null, signal: string | null) =>
      done(
        new AnalyzerSetupError(
          `the analyzer exited (${code ?? signal}) before listening: ${output.join("")}`,
        ),
      );
    const onError = (error: Error) => done(error);
    function done(error?: Error) {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
      child.off("error", onError);
      if (error) reject(error);
      else resolve();
    }
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
    child.once("error", onError);
  });
}

export interface AnalyzerServerOptions {
  /** How long the server may take to listen (default 20 s). */
  startTimeoutMs?: number;
  /** Deadline of each request (default 10 s). */
  callTimeoutMs?: number;
}

/** Analysis refused the SQL: GoogleSQL's message, with the line and column in the statement. */
export class AnalysisError extends Error {
  override readonly name = "AnalysisError";
}

/** gRPC INVALID_ARGUMENT: how the server answers SQL it refuses (any other code is the server's fault). */
const INVALID_ARGUMENT = 3;

export interface AnalyzerServer {
  analyze(request: AnalyzeRequest): Promise<AnalyzeResponse__Output>;
  parse(request: ParseRequest): Promise<ParseResponse__Output>;
  stop(): Promise<void>;
}

/**
 * Starts the analyzer server on a free port and connects the package's client to it. Each request
 * has a deadline; stop() closes the channel and ends the process (SIGTERM, then SIGKILL).
 */
export async function startAnalyzerServer(options: AnalyzerServerOptions = {}): Promise<AnalyzerServer> {
  const unavailable = analyzerUnavailable();
  if (unavailable) throw new AnalyzerSetupError(unavailable);
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const callTimeoutMs = options.callTimeoutMs ?? 10_000;
  let child: ChildProcess | undefined;
  let port = 0;
  // A port found free can be taken before the server binds it: try another.
  for (let attempt = 1; child === undefined; attempt++) {
    port = await freePort();
    const started = spawn(binaryPath(), ["localhost", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
    const output: string[] = [];
    try {
      await listening(started, startTimeoutMs, output);
      child = started;
    } catch (error) {
      started.kill("SIGKILL");
      if (attempt >= 3) throw error;
    }
  }
  const server = child;
  server.stdout?.resume();
  server.stderr?.resume();
  // Should the test process end without stop(), the server ends with it.
  const orphan = () => server.kill("SIGKILL");
  process.once("exit", orphan);
  ZetaSQLClient.init(port);
  const api = ZetaSQLClient.API;

  function call<Req, Res>(
    method: (
      request: Req,
      options: { deadline: number },
      callback: (error: ServiceError | null, value?: Res) => void,
    ) => unknown,
    request: Req,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      method(request, { deadline: Date.now() + callTimeoutMs }, (error, value) => {
        if (error) {
          reject(error.code === INVALID_ARGUMENT ? new AnalysisError(error.details) : error);
        } else if (value === undefined) {
          reject(new AnalyzerSetupError("the analyzer answered nothing"));
        } else resolve(value);
      });
    });
  }

  return {
    analyze: (request) =>
      call<AnalyzeRequest, AnalyzeResponse__Output>((r, o, cb) => api.analyze(r, o, cb), request),
    parse: (request) => call<ParseRequest, ParseResponse__Output>((r, o, cb) => api.parse(r, o, cb), request),
    async stop() {
      process.off("exit", orphan);
      api.close();
      if (server.exitCode !== null || server.signalCode !== null) return;
      const exited = once(server, "exit");
      server.kill("SIGTERM");
      const timer = setTimeout(() => server.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The catalog.

export interface CatalogColumn {
  name: string;
  type: TypeProto;
  /** Selectable by name only, never by `*` (_PARTITIONTIME). */
  pseudo?: boolean;
}

/** A table or view, by its full dotted path (`project.dataset.table`). */
export interface CatalogTable {
  path: string;
  kind: "table" | "view";
  columns: CatalogColumn[];
}

interface CatalogNode {
  tables: Map<string, SimpleTableProto>;
  catalogs: Map<string, CatalogNode>;
}

/** Every way to write `a.b.c` as quoted groups of its parts: [a.b.c], [a.b, c], [a, b.c], [a, b, c]. */
export function pathGroupings(parts: readonly string[]): string[][] {
  if (parts.length <= 1) return [parts.slice()];
  const out: string[][] = [];
  for (let head = 1; head <= parts.length; head++) {
    const first = parts.slice(0, head).join(".");
    if (head === parts.length) out.push([first]);
    else for (const rest of pathGroupings(parts.slice(head))) out.push([first, ...rest]);
  }
  return out;
}

/**
 * The tables, views and script variables the analysis has seen created. BigQuery reads
 * `` `project.dataset`.t ``, `` `project.dataset.t` `` and `project.dataset.t` as the same table,
 * so each is registered under every grouping of its path.
 */
export class Catalog {
  readonly tables = new Map<string, CatalogTable>();
  readonly variables = new Map<string, TypeProto>();

  table(path: string): CatalogTable | undefined {
    return this.tables.get(path.toLowerCase());
  }

  put(table: CatalogTable): void {
    this.tables.set(table.path.toLowerCase(), table);
  }

  toProto(extra: readonly CatalogTable[] = []): SimpleCatalogProto {
    const root: CatalogNode = { tables: new Map(), catalogs: new Map() };
    let id = 1;
    for (const table of [...this.tables.values(), ...extra]) {
      for (const grouping of pathGroupings(table.path.split("."))) {
        let node = root;
        for (const name of grouping.slice(0, -1)) {
          let next = node.catalogs.get(name);
          if (next === undefined) {
            next = { tables: new Map(), catalogs: new Map() };
            node.catalogs.set(name, next);
          }
          node = next;
        }
        const name = grouping.at(-1) as string;
        node.tables.set(name, {
          name,
          fullName: table.path,
          serializationId: id++,
          column: table.columns.map((c) => ({
            name: c.name,
            type: c.type,
            isPseudoColumn: c.pseudo === true,
            isWritableColumn: c.pseudo !== true,
          })),
        });
      }
    }
    const toProto = (name: string, node: CatalogNode): SimpleCatalogProto => ({
      name,
      table: [...node.tables.values()],
      catalog: [...node.catalogs].map(([n, child]) => toProto(n, child)),
    });
    return {
      ...toProto("bigquery", root),
      builtinFunctionOptions: { languageOptions: BIGQUERY_LANGUAGE },
      constant: [...this.variables].map(([name, type]) => ({ namePath: [name], type })),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Statements.

/** One statement of a script, as the GoogleSQL parser delimits it. */
export interface ParsedStatement {
  /** The parser's node, e.g. QueryStatement, MergeStatement, CreateTableStatement, VariableDeclaration. */
  kind: string;
  text: string;
  node: unknown;
  /** The text of a child node (a DECLARE's type, a SET's expression), if it has one. */
  part(field: string): string | undefined;
}

export interface StatementResult {
  statement: ParsedStatement;
  /** What the analyzer did with it: analyzed; modelled (a script statement, see SCRIPT_STATEMENTS); refused. */
  outcome: "analyzed" | "modelled" | "error" | "unsupported";
  /** GoogleSQL's message for an error or unsupported statement. */
  message?: string;
  response?: AnalyzeResponse__Output;
}

/**
 * Script statements the analyzer has no resolver for (it analyzes statements; BigQuery's script
 * engine runs DECLARE and SET), and how this module checks them instead. Any other statement the
 * analyzer refuses as unsupported is reported as such, for the caller's allow-list to judge.
 */
export const SCRIPT_STATEMENTS: Readonly<Record<string, string>> = {
  VariableDeclaration:
    "DECLARE name TYPE [DEFAULT expr]: the type is resolved by the analyzer (CAST(NULL AS TYPE)), the " +
    "default analyzed as an assignment, and the variable becomes a catalog constant of that type for " +
    "the statements after it",
  SingleAssignment:
    "SET name = expr: analyzed as UPDATE of a one-row table holding the script's variables, which " +
    "applies the same assignment coercion to expr as BigQuery's SET",
};

const VARIABLES_TABLE = "script_variables$";

type AstObject = Record<string, unknown>;

function isObject(value: unknown): value is AstObject {
  return typeof value === "object" && value !== null;
}

/** The byte range a parse-tree node covers: the union of every location range inside it. */
function byteRange(node: unknown): { start: number; end: number } | undefined {
  let start = Number.POSITIVE_INFINITY;
  let end = -1;
  const visit = (value: unknown) => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (!isObject(value)) return;
    const range = value.parseLocationRange;
    if (isObject(range) && typeof range.start === "number" && typeof range.end === "number") {
      start = Math.min(start, range.start);
      end = Math.max(end, range.end);
    }
    for (const [key, child] of Object.entries(value)) if (key !== "parseLocationRange") visit(child);
  };
  visit(node);
  return end < 0 ? undefined : { start, end };
}

/** Follows the `node` oneof of abstract AST protos down to the concrete node: its name and body. */
function concrete(node: unknown): { kind: string; body: AstObject } {
  let current: unknown = node;
  let name = "";
  while (isObject(current) && typeof current.node === "string") {
    name = current.node;
    current = current[name];
  }
  if (!isObject(current) || name === "")
    throw new AnalyzerSetupError("the parser returned a statement of no kind");
  return { kind: name.replace(/^ast/, "").replace(/Node$/, ""), body: current };
}

function sliceBytes(bytes: Buffer, range: { start: number; end: number }): string {
  return bytes.subarray(range.start, range.end).toString("utf8");
}

/** The name of an analyzed statement's result (resolvedQueryStmtNode → QueryStmt). */
function resolvedKind(response: AnalyzeResponse__Output): string {
  return concrete(response.resolvedStatement).kind.replace(/^resolved/, "");
}

function columnsOf(definitions: readonly ResolvedColumnDefinitionProto__Output[]): CatalogColumn[] {
  return definitions.map((d) => ({ name: d.name, type: plainType(d.type) }));
}

type QueryParameters = { name: string; type: TypeProto }[];

export interface AnalyzeOptions {
  /** Query parameters by name with their BigQuery type name, as the adapter binds them. */
  params?: Readonly<Record<string, string | undefined>>;
  /** Names the statements in messages. */
  where?: string;
}

/**
 * An analysis session: a catalog that grows as DDL is analyzed, in the order statements are given.
 * A CREATE TABLE, ALTER TABLE ... ADD COLUMN or CREATE VIEW the analyzer accepts changes the catalog
 * as BigQuery would; a DDL effect this model does not know fails the statement, never passes it.
 */
export class BigQueryAnalysis {
  readonly catalog = new Catalog();

  private readonly server: AnalyzerServer;

  constructor(server: AnalyzerServer) {
    this.server = server;
  }

  /** Splits a script into statements with GoogleSQL's parser (script syntax, BigQuery features). */
  async parseScript(sql: string): Promise<ParsedStatement[]> {
    const response = await this.server.parse({
      sqlStatement: sql,
      allowScript: true,
      options: BIGQUERY_LANGUAGE,
    });
    const list = response.parsedScript?.statementListNode?.statementList ?? [];
    const bytes = Buffer.from(sql, "utf8");
    return list.map((node): ParsedStatement => {
      const range = byteRange(node);
      if (range === undefined)
        throw new AnalyzerSetupError("the parser returned a statement without a location");
      const { kind, body } = concrete(node);
      return {
        kind,
        node: body,
        text: sliceBytes(bytes, range),
        part(field) {
          const child = body[field];
          const childRange = child === undefined || child === null ? undefined : byteRange(child);
          return childRange === undefined ? undefined : sliceBytes(bytes, childRange);
        },
      };
    });
  }

  private async analyzeStatement(sql: string, params: QueryParameters, extra: readonly CatalogTable[] = []) {
    return this.server.analyze({
      options: {
        languageOptions: BIGQUERY_LANGUAGE,
        parameterMode: "PARAMETER_NAMED",
        allowUndeclaredParameters: false,
        queryParameters: params,
        allowedHintsAndOptions: BIGQUERY_OPTIONS,
        errorMessageMode: "ERROR_MESSAGE_MULTI_LINE_WITH_CARET",
        defaultTimezone: "UTC",
      },
      simpleCatalog: this.catalog.toProto(extra),
      sqlStatement: sql,
    });
  }

  /** Analyzes every statement of `sql` in order; the catalog takes in the DDL that passes. */
  async analyzeScript(sql: string, options: AnalyzeOptions = {}): Promise<StatementResult[]> {
    const where = options.where ?? "SQL";
    const whole: ParsedStatement = { kind: "Script", text: sql, node: {}, part: () => undefined };
    let params: QueryParameters;
    let statements: ParsedStatement[];
    try {
      // A parameter without a type fails the whole request, as BigQuery would refuse it.
      params = Object.entries(options.params ?? {}).map(([name, type]) => ({
        name,
        type: parameterType(type, `${where}: @${name}`),
      }));
      statements = await this.parseScript(sql);
    } catch (error) {
      if (!(error instanceof AnalysisError || error instanceof AnalyzerSetupError)) throw error;
      return [{ statement: whole, outcome: "error", message: error.message }];
    }
    this.catalog.variables.clear();
    const results: StatementResult[] = [];
    for (const statement of statements) {
      try {
        results.push(await this.analyzeOne(statement, params));
      } catch (error) {
        if (!(error instanceof AnalysisError)) throw error;
        const unsupported = /^Statement not supported\b/.test(error.message);
        results.push({ statement, outcome: unsupported ? "unsupported" : "error", message: error.message });
      }
    }
    this.catalog.variables.clear();
    return results;
  }

  private async analyzeOne(statement: ParsedStatement, params: QueryParameters): Promise<StatementResult> {
    if (statement.kind === "VariableDeclaration") {
      const names = (
        (statement.node as { variableList?: { identifierList?: { idString: string }[] } }).variableList
          ?.identifierList ?? []
      ).map((i) => i.idString);
      const typeText = statement.part("type");
      const defaultText = statement.part("defaultValue");
      let type: TypeProto;
      if (typeText !== undefined) {
        type = await this.typeOf(`CAST(NULL AS ${typeText})`, params);
      } else if (defaultText !== undefined) {
        type = await this.typeOf(`(${defaultText})`, params);
      } else throw new AnalysisError("DECLARE without a type or a default");
      for (const name of names) this.catalog.variables.set(name, type);
      if (defaultText !== undefined) for (const name of names) await this.assign(name, defaultText, params);
      return { statement, outcome: "modelled" };
    }
    if (statement.kind === "SingleAssignment") {
      const variable = (statement.node as { variable?: { idString?: string } }).variable?.idString;
      const expression = statement.part("expression");
      if (variable === undefined || expression === undefined)
        throw new AnalysisError("SET without a variable or an expression");
      if (!this.catalog.variables.has(variable))
        throw new AnalysisError(`SET ${variable}: no DECLARE ${variable} before it`);
      await this.assign(variable, expression, params);
      return { statement, outcome: "modelled" };
    }
    const response = await this.analyzeStatement(statement.text, params);
    this.apply(response);
    return { statement, outcome: "analyzed", response };
  }

  /** The type of an expression, as the output column of SELECT expr. */
  private async typeOf(expression: string, params: QueryParameters): Promise<TypeProto> {
    const response = await this.analyzeStatement(`SELECT ${expression} AS value`, params);
    const column = response.resolvedStatement?.resolvedQueryStmtNode?.outputColumnList[0]?.column;
    return plainType(column?.type ?? null);
  }

  /** SET variable = expression, checked as the UPDATE of a table of the script's variables. */
  private async assign(variable: string, expression: string, params: QueryParameters) {
    const table: CatalogTable = {
      path: VARIABLES_TABLE,
      kind: "table",
      columns: [...this.catalog.variables].map(([name, type]) => ({ name, type })),
    };
    await this.analyzeStatement(
      `UPDATE \`${VARIABLES_TABLE}\` SET ${variable} = (${expression}) WHERE TRUE`,
      params,
      [table],
    );
  }

  /** What an analyzed DDL statement changes in the catalog. */
  private apply(response: AnalyzeResponse__Output): void {
    const statement = response.resolvedStatement;
    const create = statement?.resolvedCreateStatementNode;
    const createTable = create?.resolvedCreateTableStmtBaseNode?.resolvedCreateTableStmtNode?.parent;
    const createView = create?.resolvedCreateViewBaseNode?.resolvedCreateViewStmtNode?.parent;
    const alter = statement?.resolvedAlterObjectStmtNode?.resolvedAlterTableStmtNode?.parent;
    if (createTable?.parent) {
      const { namePath, createMode } = createTable.parent;
      const path = namePath.join(".");
      // CREATE_DEFAULT (0) and IF NOT EXISTS (2) keep a table that exists; OR REPLACE (1) replaces it.
      if (this.catalog.table(path) === undefined || createMode === 1) {
        this.catalog.put({ path, kind: "table", columns: columnsOf(createTable.columnDefinitionList) });
      }
    } else if (createView?.parent) {
      const path = createView.parent.namePath.join(".");
      const columns = createView.outputColumnList.map((c) => ({
        name: c.name,
        type: plainType(c.column?.type ?? null),
      }));
      if (this.catalog.table(path) === undefined || createView.parent.createMode === 1) {
        this.catalog.put({ path, kind: "view", columns });
      }
    } else if (alter) {
      const path = alter.namePath.join(".");
      const table = this.catalog.table(path);
      if (table === undefined) throw new AnalysisError(`ALTER TABLE ${path}: no such table in the catalog`);
      for (const action of alter.alterActionList) {
        const add = action.resolvedAddColumnActionNode;
        const definition = add?.columnDefinition;
        if (!definition) {
          throw new AnalysisError(
            `ALTER TABLE ${path}: the catalog does not model ${action.node ?? "this action"}`,
          );
        }
        const exists = table.columns.some((c) => c.name.toLowerCase() === definition.name.toLowerCase());
        if (exists && !add.isIfNotExists)
          throw new AnalysisError(`ALTER TABLE ${path}: column ${definition.name} already exists`);
        if (!exists) table.columns.push({ name: definition.name, type: plainType(definition.type) });
      }
    } else if (statement && /^resolved(Create|Alter|Drop|Rename)/.test(statement.node ?? "")) {
      throw new AnalysisError(
        `${resolvedKind(response)}: the catalog does not model this statement's effect`,
      );
    }
  }
}
